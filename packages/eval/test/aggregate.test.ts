import { describe, expect, it } from "vitest";
import { type SampleRecord, aggregateSamples, continuationLoglikelihood, meanStderr } from "../src/index.ts";

function mc(docIndex: number, subject: string, acc: boolean): SampleRecord {
  return {
    kind: "choice",
    task: "mmlu",
    docIndex,
    model: "m",
    subject,
    prompt: "p",
    choices: ["A", "B"],
    gold: 0,
    loglikelihoods: [0, 0],
    isGreedy: [true, true],
    pred: acc ? 0 : 1,
    predNorm: 0,
    correct: { acc },
  };
}

describe("mmlu aggregation", () => {
  it("micro-averages over questions, keeps per-subject figures, pools the stderr as the harness does", () => {
    const recs = [mc(0, "law", true), mc(1, "law", false), mc(2, "math", true), mc(3, "math", true), mc(4, "math", false)];
    const agg = aggregateSamples(["acc"], recs);
    expect(agg.n).toBe(5);
    expect(agg.metrics.acc!.value).toBeCloseTo(3 / 5, 12); // micro: 3 of 5, not the 0.5/0.667 macro mean
    expect(agg.subjects!.law).toEqual({ n: 2, metrics: { acc: { value: 0.5, stderr: 0.5 } } });
    expect(agg.subjects!.math!.metrics.acc!.value).toBeCloseTo(2 / 3, 12);
    const seMath = meanStderr([1, 1, 0]);
    expect(agg.metrics.acc!.stderr).toBeCloseTo(Math.sqrt(((2 - 1) * 0.25 * 2 + (3 - 1) * seMath ** 2 * 3) / (5 - 2) / 5), 12);
  });
});

describe("continuation tokens found through text_offset", () => {
  it("anchors at the prompt's end, so a BOS that shifts offsets does not move the boundary; counts code points", () => {
    // prompt "Q: café\nA:" + " été" ; BOS text is 5 code points long
    const tokens = ["<bos>", "Q", ":", " café", "\n", "A", ":", " é", "té"];
    const lps = [null, -1, -1, -1, -1, -1, -1, -0.5, -0.25];
    const offsets: number[] = [];
    let at = 0;
    for (const t of tokens) {
      offsets.push(at);
      at += [...t].length;
    }
    const r = continuationLoglikelihood({ tokens, token_logprobs: lps, text_offset: offsets, top_logprobs: null }, "Q: café\nA: été", " été", 0);
    expect(r).toEqual({ logprob: -0.75, isGreedy: true });
  });
  it("a token spanning the boundary belongs to the continuation; a generated token never counts", () => {
    // context "Answer:" continuation " B" tokenized as "Answer", ": B" (the joint encoding merges across)
    const r = continuationLoglikelihood(
      { tokens: ["Answer", ": B", " C"], token_logprobs: [null, -2, -9], text_offset: [0, 6, 9], top_logprobs: [null, { ": B": -1 }, null] },
      "Answer: B",
      " B",
      1,
    );
    expect(r).toEqual({ logprob: -2, isGreedy: false });
  });
});
