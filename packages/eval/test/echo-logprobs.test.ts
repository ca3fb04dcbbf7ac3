import { describe, expect, it } from "vitest";
import { EchoMismatchError, alignEchoedPrompt, continuationLoglikelihood, type EchoLogprobs } from "../src/index.ts";

/** An echo answer as vLLM builds it: offsets advance by each token text's length in code points. */
function echo(tokens: string[], lps: (number | null)[]): EchoLogprobs {
  const offsets: number[] = [];
  let at = 0;
  for (const t of tokens) {
    offsets.push(at);
    at += [...t].length;
  }
  return { tokens, token_logprobs: lps, text_offset: offsets, top_logprobs: null };
}

describe("placing echoed tokens on the prompt", () => {
  it("U+FFFD fragments of a character split across byte tokens (vLLM decodes tokens alone) still place", () => {
    const tokens = ["<s>", "Q", ":", " caf", "\uFFFD", "\uFFFD", " au", " lait"];
    expect(alignEchoedPrompt(tokens, tokens.length, "Q: café au lait")).toEqual([0, 0, 1, 2, 6, 6, 7, 10]);
    const r = continuationLoglikelihood(echo(tokens, [null, -1, -1, -1, -1, -1, -0.5, -0.25]), "Q: café au lait", " au lait", 0);
    expect(r.logprob).toBe(-0.75);
  });

  it("SGLang's text_offset of -1 (not reported) is not a mismatch: the token texts place the tokens", () => {
    const lp: EchoLogprobs = { tokens: ["<s>", "Answer", ":", " B"], token_logprobs: [null, -1, -1, -2], text_offset: [-1, -1, -1, -1], top_logprobs: null };
    expect(continuationLoglikelihood(lp, "Answer: B", " B", 0)).toEqual({ logprob: -2, isGreedy: true });
  });

  it("refuses token texts that drop leading spaces (what SentencePiece tokens decoded alone give)", () => {
    // " a heavy iron ball" comes back as "a", "heavy", "iron", "ball": anchored at the end, the old reading
    // took the context's last tokens as continuation.
    const tokens = ["<s>", "Question:", "Which", "is", "heavier?", "\nAnswer:", "a", "heavy", "iron", "ball"];
    const lp = echo(tokens, [null, -9, -9, -9, -9, -9, -0.5, -0.5, -0.5, -0.7]);
    const prompt = "Question: Which is heavier?\nAnswer: a heavy iron ball";
    expect(() => continuationLoglikelihood(lp, prompt, " a heavy iron ball", 0)).toThrow(EchoMismatchError);
    expect(() => continuationLoglikelihood(lp, prompt, " a heavy iron ball", 0)).toThrow(/do not add up to the 53-character prompt/);
  });

  it("refuses offsets that do not follow the token texts, and a second leading token that spells nothing", () => {
    const lp = echo(["<s>", "Answer", ":", " B"], [null, -1, -1, -2]);
    lp.text_offset[3] = 99;
    expect(() => continuationLoglikelihood(lp, "Answer: B", " B", 0)).toThrow(/text_offset 99 of token 3 does not follow token 2/);
    const two = echo(["<s>", "<s>", "Answer", ":", " B"], [null, null, -1, -1, -2]);
    expect(() => continuationLoglikelihood(two, "Answer: B", " B", 0)).toThrow(EchoMismatchError);
  });
});
