import { appendFileSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CompletionsHttpError, type EvalBackend, type EvalProgress, createOpenAiCompletionsBackend, readSampleLog, runEval } from "../src/index.ts";
import { type FakeServer, startFakeCompletionsServer } from "./fake-completions-server.ts";

const ARC_LINES = [
  // gold B. ll: rock -2.0 | a heavy iron ball -0.5-0.5-0.5-0.7 = -2.2 -> acc picks rock (0);
  // per char: -2.0/4 = -0.5 vs -2.2/17 = -0.129 -> acc_norm picks B (1)
  {
    id: "t1",
    question: {
      stem: "Which is heavier?",
      choices: [
        { text: "rock", label: "A" },
        { text: "a heavy iron ball", label: "B" },
      ],
    },
    answerKey: "B",
  },
  // numeric labels, gold "3" = index 2. ll: ice -3, steam -1.5, water -1.0 -> acc 1; per char -1, -0.3, -0.2 -> acc_norm 1
  {
    id: "t2",
    question: {
      stem: "Which is liquid at room temperature?",
      choices: [
        { text: "ice", label: "1" },
        { text: "steam", label: "2" },
        { text: "water", label: "3" },
      ],
    },
    answerKey: "3",
  },
  // gold B. ll: yes -0.1, no -2 -> acc 0; per char -0.033 vs -1 -> acc_norm 0
  {
    id: "t3",
    question: {
      stem: "Is the sun cold?",
      choices: [
        { text: "yes", label: "A" },
        { text: "no", label: "B" },
      ],
    },
    answerKey: "B",
  },
  // gold B. ll: ant -1.0 | the blue whale -1.2 -> acc 0; per char -0.333 vs -0.0857 -> acc_norm 1
  {
    id: "t4",
    question: {
      stem: "Which is bigger?",
      choices: [
        { text: "ant", label: "A" },
        { text: "the blue whale", label: "B" },
      ],
    },
    answerKey: "B",
  },
];
// acc = [0,1,0,0] -> 0.25, acc_norm = [1,1,0,1] -> 0.75; both: sample sd 0.5 / sqrt(4) = 0.25

const GSM_LINES = [
  {
    question: "Janet has 16 eggs, eats 3, bakes with 4 and sells the rest at $2 each. How much does she make?",
    answer: "16 - 3 - 4 = <<16-3-4=9>>9\n9 * 2 = <<9*2=18>>18\n#### 18",
  },
  {
    question: "A robe takes 2 bolts of blue fiber and half that much white fiber. How many bolts in total?",
    answer: "2 / 2 = <<2/2=1>>1\n2 + 1 = <<2+1=3>>3\n#### 3",
  },
  { question: "Josh buys a house and makes a profit of $70,000. What is his profit in dollars?", answer: "#### 70000" },
];
const COMPLETIONS: Record<string, string> = {
  // strict "18" ok; flexible last match "18." -> "18" ok. The server stops at "Q:".
  [GSM_LINES[0]!.question]: " She has 16 - 3 - 4 = 9 eggs left. 9 * 2 = 18. The answer is 18.\n\nQ: What is 1 + 1?\nA: 2",
  // strict: nothing after "3" for the final '.', and "3" alone cannot backtrack -> [invalid]; flexible "3" ok
  [GSM_LINES[1]!.question]: " It takes 2 + 1 = 3 bolts. The answer is 3",
  // strict: "$" is not in [0-9.,] -> [invalid]; flexible "$70,000." -> "70000" ok
  [GSM_LINES[2]!.question]: " The profit is $70,000. The answer is $70,000.",
};
// strict-match = [1,0,0] -> 1/3, stderr sqrt(((2/3)^2 + 2(1/3)^2)/2)/sqrt(3) = 1/3; flexible-extract = 1, stderr 0

let server: FakeServer;
let dataDir: string;
let work: string;

beforeAll(async () => {
  server = await startFakeCompletionsServer({
    tokenLogprobs: {
      " rock": -2.0,
      " a": -0.5,
      " heavy": -0.5,
      " iron": -0.5,
      " ball": -0.7,
      " ice": -3,
      " steam": -1.5,
      " water": -1.0,
      " yes": -0.1,
      " no": -2,
      " ant": -1.0,
      " the": -0.4,
      " blue": -0.4,
      " whale": -0.4,
    },
    defaultLogprob: -0.25,
    alternativeLogprob: -0.3,
    completions: COMPLETIONS,
  });
  work = mkdtempSync(join(tmpdir(), "eval-e2e-"));
  dataDir = join(work, "data");
  mkdirSync(join(dataDir, "arc"), { recursive: true });
  mkdirSync(join(dataDir, "gsm8k"), { recursive: true });
  writeFileSync(join(dataDir, "arc", "ARC-Challenge-Test.jsonl"), ARC_LINES.map((l) => JSON.stringify(l)).join("\n") + "\n");
  writeFileSync(join(dataDir, "gsm8k", "test.jsonl"), GSM_LINES.map((l) => JSON.stringify(l)).join("\n") + "\n");
});
afterAll(async () => {
  await server.close();
});

const backend = (extra: Record<string, unknown> = {}): EvalBackend =>
  createOpenAiCompletionsBackend({ baseUrl: server.baseUrl, model: "deepseek-v2-lite", label: "base", retryBaseMs: 1, ...extra });

describe("arc_challenge through /v1/completions (echo + logprobs)", () => {
  for (const maxTokens of [0, 1] as const) {
    it(`acc 0.25 and acc_norm 0.75 as computed by hand (max_tokens ${maxTokens})`, async () => {
      const samplesPath = join(work, `arc-${maxTokens}.jsonl`);
      const events: EvalProgress[] = [];
      const before = server.requests.length;
      const result = await runEval({
        task: "arc_challenge",
        backend: backend({ loglikelihoodMaxTokens: maxTokens, promptsPerRequest: 3 }),
        samplesPath,
        dataDir,
        batchSize: 2,
        onProgress: (p) => events.push(p),
      });
      expect(result.n).toBe(4);
      expect(result.model).toBe("base");
      expect(result.metrics.acc!.value).toBeCloseTo(0.25, 12);
      expect(result.metrics.acc_norm!.value).toBeCloseTo(0.75, 12);
      expect(result.metrics.acc!.stderr).toBeCloseTo(0.25, 12);
      expect(result.metrics.acc_norm!.stderr).toBeCloseTo(0.25, 12);

      // 9 choices in 2 batches (4 + 5 requests), 3 prompts per HTTP request -> 2 + 2 calls
      const sent = server.requests.slice(before);
      expect(sent).toHaveLength(4);
      expect(sent[0]).toMatchObject({ echo: true, logprobs: 1, max_tokens: maxTokens, temperature: 0 });
      expect(sent[0]!.prompt).toEqual([
        "Question: Which is heavier?\nAnswer: rock",
        "Question: Which is heavier?\nAnswer: a heavy iron ball",
        "Question: Which is liquid at room temperature?\nAnswer: ice",
      ]);

      const samples = await readSampleLog(samplesPath);
      expect(samples.map((s) => s.docIndex)).toEqual([0, 1, 2, 3]);
      const s0 = samples[0]!;
      if (s0.kind !== "choice") throw new Error("expected a choice sample");
      expect(s0.loglikelihoods[0]).toBeCloseTo(-2.0, 12);
      expect(s0.loglikelihoods[1]).toBeCloseTo(-2.2, 12);
      expect([s0.pred, s0.predNorm, s0.gold]).toEqual([0, 1, 1]);
      const s2 = samples[2]!;
      if (s2.kind !== "choice") throw new Error("expected a choice sample");
      // " yes" (-0.1) beats the -0.3 alternative; " no" (-2) does not
      expect(s2.isGreedy).toEqual([true, false]);
      expect(events.at(-1)).toMatchObject({ task: "arc_challenge", done: 4, total: 4, resumed: 0, etaMs: 0 });
    });
  }
});

describe("gsm8k_cot through /v1/completions (generation)", () => {
  it("strict-match 1/3 and flexible-extract 1 as computed by hand, with the harness's request", async () => {
    const before = server.requests.length;
    const result = await runEval({ task: "gsm8k_cot", backend: backend(), samplesPath: join(work, "gsm.jsonl"), dataDir });
    expect(result.n).toBe(3);
    expect(result.metrics["strict-match"]!.value).toBeCloseTo(1 / 3, 12);
    expect(result.metrics["strict-match"]!.stderr).toBeCloseTo(1 / 3, 12);
    expect(result.metrics["flexible-extract"]).toEqual({ value: 1, stderr: 0 });
    const req = server.requests[before]!;
    expect(req).toMatchObject({ max_tokens: 256, temperature: 0, stop: ["Q:", "</s>", "<|im_end|>"] });
    const prompt = (req.prompt as string[])[0]!;
    expect(prompt.startsWith("Q: There are 15 trees in the grove.")).toBe(true);
    expect(prompt.endsWith(`\n\nQ: ${GSM_LINES[0]!.question}\nA:`)).toBe(true);
    const samples = await readSampleLog(join(work, "gsm.jsonl"));
    expect(samples[0]).toMatchObject({
      output: " She has 16 - 3 - 4 = 9 eggs left. 9 * 2 = 18. The answer is 18.\n\n",
      gold: "18",
      extracted: { "strict-match": "18", "flexible-extract": "18." },
      correct: { "strict-match": true, "flexible-extract": true },
    });
    expect(samples[1]).toMatchObject({ extracted: { "strict-match": "[invalid]", "flexible-extract": "3" } });
  });

  it("an interrupted run resumes from the samples file without redoing finished docs", async () => {
    const samplesPath = join(work, "gsm-resume.jsonl");
    const real = backend();
    let calls = 0;
    const dying: EvalBackend = {
      label: real.label,
      generate: async (reqs, cb) => {
        if (++calls === 2) throw new Error("worker died");
        return real.generate(reqs, cb);
      },
      loglikelihood: (reqs, cb) => real.loglikelihood(reqs, cb),
    };
    await expect(runEval({ task: "gsm8k_cot", backend: dying, samplesPath, dataDir, batchSize: 1 })).rejects.toThrow("worker died");
    expect(await readSampleLog(samplesPath)).toHaveLength(1);
    // A torn last line, as a kill in the middle of an append leaves it.
    appendFileSync(samplesPath, '{"task":"gsm8k_cot","docIndex":1,"mod');

    const before = server.requests.length;
    const events: EvalProgress[] = [];
    const result = await runEval({ task: "gsm8k_cot", backend: real, samplesPath, dataDir, batchSize: 1, onProgress: (p) => events.push(p) });
    const prompts = server.requests.slice(before).flatMap((r) => r.prompt as string[]);
    expect(prompts).toHaveLength(2);
    expect(prompts.some((p) => p.endsWith(`Q: ${GSM_LINES[0]!.question}\nA:`))).toBe(false);
    expect(result.resumed).toBe(1);
    expect(result.metrics["strict-match"]!.value).toBeCloseTo(1 / 3, 12);
    expect(events[0]).toMatchObject({ done: 1, total: 3, resumed: 1, etaMs: null });
    expect(readFileSync(samplesPath, "utf8").trim().split("\n")).toHaveLength(3);

    await expect(runEval({ task: "gsm8k_cot", backend: backend({ label: "cell-A" }), samplesPath, dataDir })).rejects.toThrow(
      /samples of model "base", not "cell-A"/,
    );
  });
});

describe("HTTP behaviour", () => {
  it("retries 503 and 429 with backoff, then succeeds", async () => {
    server.failNext.push(503, 429);
    const out = await backend().generate([{ context: `Q: ${GSM_LINES[1]!.question}\nA:`, stop: ["Q:"], maxTokens: 256 }]);
    expect(out).toEqual([" It takes 2 + 1 = 3 bolts. The answer is 3"]);
    expect(server.failNext).toHaveLength(0);
  });
  it("does not retry a 400 and says what the server said", async () => {
    server.failNext.push(400);
    const err = await backend()
      .generate([{ context: "Q: x\nA:", stop: [], maxTokens: 4 }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CompletionsHttpError);
    expect((err as Error).message).toMatch(/HTTP 400: .*try again later/);
  });
  it("gives up after maxRetries", async () => {
    server.failNext.push(500, 500, 500);
    await expect(backend({ maxRetries: 2 }).generate([{ context: "Q: x\nA:", stop: [], maxTokens: 4 }])).rejects.toThrow(/HTTP 500/);
    server.failNext.length = 0;
  });
  it("rejects a bad base URL with the field named", () => {
    expect(() => createOpenAiCompletionsBackend({ baseUrl: "localhost:8000", model: "m" })).toThrow(/baseUrl must be an http\(s\) URL/);
  });
});
