import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  CompletionsHttpError,
  EchoMismatchError,
  MissingServerCapabilityError,
  createOpenAiCompletionsBackend,
  firstServedModel,
  gsm8kCotPrompt,
  loadPromptTokenizer,
  loglikelihoodRequest,
  runEval,
  type OpenAiCompletionsOptions,
  type PromptTokenizer,
} from "../src/index.ts";
import { type FakeServer, type FakeServerBehaviour, fakeTokenize, startFakeCompletionsServer } from "./fake-completions-server.ts";
import { TINY_TOKENIZER_DIR } from "./tiny-model.ts";

// The OpenAI completions backend against the behaviours of real servers, each on its own fake server.
const TABLES = {
  tokenLogprobs: { " rock": -2.0, " feather": -0.5 },
  defaultLogprob: -0.25,
  alternativeLogprob: -0.3,
  completions: { "Tom has 3 apples and buys 2 more. How many?": " 3 + 2 = 5. The answer is 5.\n\nQ: And 4 + 4?\nA: 8" },
};
const ARC = [
  {
    id: "a1",
    question: {
      stem: "Which is heavier?",
      choices: [
        { text: "rock", label: "A" },
        { text: "feather", label: "B" },
      ],
    },
    answerKey: "A",
  },
];
// Six problems, so a generation call needs two requests of at most 4 prompts.
const GSM = [
  { question: "Tom has 3 apples and buys 2 more. How many?", answer: "#### 5" },
  ...[1, 2, 3, 4, 5].map((n) => ({ question: `What is ${n} + ${n}?`, answer: `#### ${2 * n}` })),
];

let dataDir: string;
let server: FakeServer | undefined;

beforeAll(() => {
  dataDir = join(mkdtempSync(join(tmpdir(), "eval-servers-")), "data");
  mkdirSync(join(dataDir, "arc"), { recursive: true });
  mkdirSync(join(dataDir, "gsm8k"), { recursive: true });
  writeFileSync(join(dataDir, "arc", "ARC-Challenge-Test.jsonl"), ARC.map((l) => JSON.stringify(l)).join("\n") + "\n");
  writeFileSync(join(dataDir, "gsm8k", "test.jsonl"), GSM.map((l) => JSON.stringify(l)).join("\n") + "\n");
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(behaviour: FakeServerBehaviour): Promise<FakeServer> {
  server = await startFakeCompletionsServer(TABLES, behaviour);
  return server;
}
const backend = (s: FakeServer, extra: Partial<OpenAiCompletionsOptions> = {}) =>
  createOpenAiCompletionsBackend({ baseUrl: s.baseUrl, model: "deepseek-v2-lite", retryBaseMs: 1, ...extra });
const run = (task: "arc_challenge" | "gsm8k_cot", b: ReturnType<typeof backend>) =>
  runEval({ task, backend: b, samplesPath: join(mkdtempSync(join(tmpdir(), "eval-samples-")), "s.jsonl"), dataDir });

describe("a server that requires an API key (vLLM --api-key)", () => {
  it("GET /v1/models and every completions request carry the key; without it, a 401 that says which flag", async () => {
    const s = await serve({ apiKey: "sk-test" });
    const missing = await firstServedModel(s.baseUrl).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(CompletionsHttpError);
    expect((missing as Error).message).toMatch(/HTTP 401: .*Unauthorized.*pass --api-key KEY or set OPENAI_API_KEY/);
    await expect(firstServedModel(s.baseUrl, "sk-wrong")).rejects.toThrow(/refused the API key given/);
    expect(await firstServedModel(s.baseUrl, "sk-test")).toBe("deepseek-v2-lite");

    await expect(run("arc_challenge", backend(s))).rejects.toThrow(/HTTP 401/);
    expect(s.requests).toHaveLength(0); // refused at the door, and not retried

    const result = await run("arc_challenge", backend(s, { apiKey: "sk-test" }));
    expect(result.metrics.acc!.value).toBe(0); // " rock" -2.0 < " feather" -0.5: picks B, gold A
    expect(s.seen.map((r) => [r.method, r.url, r.authorization])).toEqual([
      ["GET", "/v1/models", null],
      ["GET", "/v1/models", "Bearer sk-wrong"],
      ["GET", "/v1/models", "Bearer sk-test"],
      ["POST", "/v1/completions", null],
      ["POST", "/v1/completions", "Bearer sk-test"],
    ]);
  });
});

describe("a server whose token texts drop leading spaces", () => {
  it("log-likelihoods are refused, naming the cause, instead of mis-scored", async () => {
    const s = await serve({ dropLeadingSpace: true });
    const err = await run("arc_challenge", backend(s)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EchoMismatchError);
    expect((err as Error).message).toMatch(/do not add up to the .*prompt \(a server that drops leading spaces/);
  });
});

describe("servers without prompt log-probabilities", () => {
  it("TGI: loglikelihood tasks get an error naming the missing capability", async () => {
    const s = await serve({ flavour: "tgi" });
    const err = await run("arc_challenge", backend(s)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingServerCapabilityError);
    expect((err as Error).message).toMatch(/cannot return prompt log-probabilities \(echo: true with logprobs\).*no logprobs \(TGI does\)/);
  });

  it("TGI: generation goes in requests it accepts (at most 4 prompts, max_tokens >= 1); 8 prompts get its 422", async () => {
    const s = await serve({ flavour: "tgi" });
    const result = await run("gsm8k_cot", backend(s));
    expect(result.n).toBe(6);
    expect(result.metrics["flexible-extract"]!.value).toBeCloseTo(1 / 6, 12); // only Tom's answer is in the table
    expect(s.requests.map((r) => (r.prompt as string[]).length)).toEqual([4, 2]);
    expect(s.requests.every((r) => r.max_tokens >= 1)).toBe(true);

    const tooMany = await run("gsm8k_cot", backend(s, { promptsPerRequest: 8 })).catch((e: unknown) => e);
    expect(tooMany).toBeInstanceOf(CompletionsHttpError);
    expect((tooMany as Error).message).toMatch(/HTTP 422: .*exceeds the maximum allowed batch size of 4.*lower --batch-size/);
  });

  it("llama.cpp: its 500 to echo is the missing capability, not a transient error to retry; generation reads its array answers", async () => {
    const s = await serve({ flavour: "llama.cpp" });
    const err = await run("arc_challenge", backend(s)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingServerCapabilityError);
    expect((err as Error).message).toMatch(/HTTP 500: .*Only no echo is supported/);
    expect(s.requests).toHaveLength(1);

    const result = await run("gsm8k_cot", backend(s));
    expect(result.metrics["flexible-extract"]!.value).toBeCloseTo(1 / 6, 12);
    expect(s.requests.slice(1).map((r) => (r.prompt as string[]).length)).toEqual([4, 2]);
  });
});

describe("--batch-size, --concurrency and --max-length", () => {
  it("prompts per request and requests in flight are as asked", async () => {
    const s = await serve({ delayMs: 30 });
    const b = backend(s, { promptsPerRequest: 2, concurrency: 3 });
    const requests = Array.from({ length: 12 }, (_, i) => loglikelihoodRequest(`Question: ${i}?\nAnswer:`, "rock"));
    const out = await b.loglikelihood(requests);
    expect(out.every((r) => r.logprob === -2.0)).toBe(true);
    expect(s.requests.map((r) => (r.prompt as string[]).length)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(s.maxInFlight).toBe(3);
  });

  describe("left truncation to the model's context", () => {
    let tokenizer: PromptTokenizer;
    beforeAll(async () => {
      tokenizer = await loadPromptTokenizer(TINY_TOKENIZER_DIR);
    });

    it("a loglikelihood prompt over the limit loses its start, keeps its continuation, and scores as before", async () => {
      const s = await serve({ maxModelLen: 64 });
      const long = `Question: ${"the quick brown fox jumps over the lazy dog ".repeat(20)}which is heavier?\nAnswer:`;
      const req = loglikelihoodRequest(long, "rock");
      await expect(backend(s).loglikelihood([req])).rejects.toThrow(
        /HTTP 400: .*maximum context length is 64 tokens.*pass --max-length N with --tokenizer DIR/,
      );

      const notes: string[] = [];
      const [r] = await backend(s, { maxLength: 64, tokenizer, onNotice: (m) => notes.push(m) }).loglikelihood([req]);
      expect(r!.logprob).toBe(-2.0);
      const sent = (s.requests.at(-1)!.prompt as string[])[0]!;
      expect((req.context + req.continuation).endsWith(sent)).toBe(true);
      expect(sent.endsWith("which is heavier?\nAnswer: rock")).toBe(true);
      // budget: 64 - BOS - max_tokens 1 = 62 tokens of the tiny tokenizer; the server's words are fewer
      expect(tokenizer.lastTokens(sent, 62)).toBe(sent);
      expect(1 + fakeTokenize(sent).length + 1).toBeLessThanOrEqual(64);
      expect(notes).toEqual(["left-truncated 1 of 1 prompts to --max-length 64"]);
    });

    it("a generation prompt keeps room for max_tokens; a continuation that cannot fit is an error", async () => {
      const s = await serve({ maxModelLen: 400 });
      const context = gsm8kCotPrompt(GSM[0]!.question); // 8-shot: more than 400 - 256 tokens
      const gen = [{ context, stop: ["Q:"], maxTokens: 256 }];
      await expect(backend(s).generate(gen)).rejects.toThrow(/maximum context length is 400/);
      const [text] = await backend(s, { maxLength: 400, tokenizer }).generate(gen);
      expect(text).toBe(" 3 + 2 = 5. The answer is 5.\n\n");
      const sent = (s.requests.at(-1)!.prompt as string[])[0]!;
      expect(context.endsWith(sent) && sent.length < context.length).toBe(true);

      await expect(backend(s, { maxLength: 200, tokenizer }).generate(gen)).rejects.toThrow(/leaves no room for a prompt before 256 new tokens/);
      const huge = loglikelihoodRequest("Answer:", " word".repeat(100));
      await expect(backend(s, { maxLength: 50, tokenizer }).loglikelihood([huge])).rejects.toThrow(/leaves no room for its context/);
    });

    it("maxLength without a tokenizer is refused with the field named", async () => {
      const s = await serve({});
      expect(() => backend(s, { maxLength: 64 })).toThrow(/field "tokenizer": tokenizer is required with maxLength/);
    });
  });
});
