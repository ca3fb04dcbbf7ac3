import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type FakeServer, startFakeCompletionsServer } from "@subnet-review/eval/fake-server";
import { TINY_TOKENIZER_DIR } from "@subnet-review/eval/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// `review eval --endpoint` as a user runs it, against stand-ins for vLLM with --api-key and for TGI.
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const TABLES = { tokenLogprobs: { " rock": -0.5, " feather": -2 }, defaultLogprob: -0.25, alternativeLogprob: -0.3, completions: {} };
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

let dir: string;
let dataDir: string;
let vllm: FakeServer;
let tgi: FakeServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "eval-endpoint-"));
  dataDir = join(dir, "data");
  mkdirSync(join(dataDir, "arc"), { recursive: true });
  writeFileSync(join(dataDir, "arc", "ARC-Challenge-Test.jsonl"), ARC.map((l) => JSON.stringify(l)).join("\n") + "\n");
  vllm = await startFakeCompletionsServer(TABLES, { apiKey: "sk-test", maxModelLen: 4096 });
  tgi = await startFakeCompletionsServer(TABLES, { flavour: "tgi" });
});
afterAll(async () => {
  await vllm?.close();
  await tgi?.close();
});

function review(env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { OPENAI_API_KEY: _, ...base } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", main, "eval", ...args], { env: { ...base, INIT_CWD: dir, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}
const arc = (server: FakeServer, ...more: string[]) => [
  "--task",
  "arc_challenge",
  "--endpoint",
  server.baseUrl,
  "--data-dir",
  dataDir,
  "--samples",
  join(dir, `s-${Math.random()}.jsonl`),
  "--json",
  ...more,
];

describe("review eval --endpoint", () => {
  it("sends --api-key (or OPENAI_API_KEY) with GET /v1/models and every completions request; without it exits 2 naming --api-key", async () => {
    const none = await review({}, ...arc(vllm));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /^review eval: --served-model: not given, and GET .*\/v1\/models answered HTTP 401: .*pass --api-key KEY or set OPENAI_API_KEY/,
    );
    const noneServed = await review({}, ...arc(vllm, "--served-model", "deepseek-v2-lite"));
    expect([noneServed.code, noneServed.stderr]).toMatchObject([2, expect.stringMatching(/^review eval: --api-key: POST .* answered HTTP 401/m)]);

    vllm.seen.length = 0;
    const flag = await review(
      {},
      ...arc(vllm, "--api-key", "sk-test", "--batch-size", "1", "--concurrency", "2", "--max-length", "4096", "--tokenizer", TINY_TOKENIZER_DIR),
    );
    expect(flag.code, flag.stderr).toBe(0);
    expect(JSON.parse(flag.stdout)).toMatchObject({ task: "arc_challenge", model: "deepseek-v2-lite", n: 1, metrics: { acc: { value: 1 } } });
    expect(vllm.seen.map((r) => [r.method, r.url, r.authorization])).toEqual([
      ["GET", "/v1/models", "Bearer sk-test"],
      ["POST", "/v1/completions", "Bearer sk-test"],
      ["POST", "/v1/completions", "Bearer sk-test"],
    ]);

    vllm.seen.length = 0;
    const env = await review({ OPENAI_API_KEY: "sk-test" }, ...arc(vllm));
    expect(env.code, env.stderr).toBe(0);
    expect(vllm.seen.every((r) => r.authorization === "Bearer sk-test")).toBe(true);
  });

  it("a server without prompt log-probabilities exits 2 naming the missing capability", async () => {
    const out = await review({}, ...arc(tgi, "--served-model", "tgi"));
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^review eval: --endpoint: .* cannot return prompt log-probabilities \(echo: true with logprobs\)/m);
    expect(out.stderr).not.toMatch(/\n\s+at /);
  });

  it("endpoint flags are checked before anything runs", async () => {
    const key = await review({}, "--task", "mmlu", "--model", dir, "--api-key", "k");
    expect([key.code, key.stderr.trim()]).toEqual([2, "review eval: --api-key: only applies with --endpoint"]);
    const len = await review({}, "--task", "mmlu", "--endpoint", "http://127.0.0.1:1", "--max-length", "2048");
    expect([len.code, len.stderr.trim()]).toEqual([
      2,
      "review eval: --tokenizer: is required with --max-length: the served model's tokenizer.json directory counts its tokens",
    ]);
    const conc = await review({}, "--task", "mmlu", "--endpoint", "http://127.0.0.1:1", "--concurrency", "0");
    expect([conc.code, conc.stderr.trim()]).toEqual([2, "review eval: --concurrency: must be >= 1 (requests in flight)"]);
  });
});
