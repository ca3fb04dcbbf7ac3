import { spawn } from "node:child_process";
import type { Server } from "node:http";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApiServer, listen } from "@subnet-review/api";
import { createApiToken, openDatabase, type OpenDatabase } from "@subnet-review/db";
import { createTestDatabase } from "@subnet-review/db/testing";
import { writeTinyEvalModel } from "@subnet-review/eval/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiClient } from "../src/api-client.ts";

// `review eval` as a user runs it: a child process, the PyTorch worker on the CPU, results through a real API on Postgres.
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const ARC = [
  {
    id: "a1",
    question: {
      stem: "Which is heavier?",
      choices: [
        { text: "rock", label: "A" },
        { text: "a feather", label: "B" },
      ],
    },
    answerKey: "A",
  },
  {
    id: "a2",
    question: {
      stem: "What melts ice?",
      choices: [
        { text: "heat", label: "1" },
        { text: "cold", label: "2" },
      ],
    },
    answerKey: "1",
  },
  {
    id: "a3",
    question: {
      stem: "Is the sun a star?",
      choices: [
        { text: "yes", label: "A" },
        { text: "no", label: "B" },
      ],
    },
    answerKey: "A",
  },
];
const GSM = [
  { question: "Tom has 3 apples and buys 2 more. How many?", answer: "3 + 2 = 5\n#### 5" },
  { question: "A box holds 4 pens. How many pens in 2 boxes?", answer: "2 * 4 = 8\n#### 8" },
];

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let open: OpenDatabase;
let server: Server;
let api: string;
let token: string;
let dir: string;
let modelDir: string;
let dataDir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  open = await openDatabase({ url: database.url });
  token = (await createApiToken(open.db, "eval-cli")).secret;
  server = createApiServer({ db: open.db });
  api = `http://127.0.0.1:${await listen(server, 0, "127.0.0.1")}`;
  await createApiClient({ url: api, token }).runs.create.mutate({
    id: "run-A",
    cell: "A",
    trainable: 2,
    kept: 0,
    steps: 10,
    spec: {},
    experts: null,
    hardware: null,
    gitCommit: null,
    experiment: null,
    startedAt: new Date().toISOString(),
  });
  dir = mkdtempSync(join(tmpdir(), "eval-cli-"));
  modelDir = join(dir, "tiny");
  writeTinyEvalModel(modelDir);
  dataDir = join(dir, "data");
  mkdirSync(join(dataDir, "arc"), { recursive: true });
  mkdirSync(join(dataDir, "gsm8k"), { recursive: true });
  writeFileSync(join(dataDir, "arc", "ARC-Challenge-Test.jsonl"), ARC.map((l) => JSON.stringify(l)).join("\n") + "\n");
  writeFileSync(join(dataDir, "gsm8k", "test.jsonl"), GSM.map((l) => JSON.stringify(l)).join("\n") + "\n");
}, 120_000);
afterAll(async () => {
  server?.close();
  await open?.close();
  await database?.drop();
});

function review(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", main, "eval", ...args], { env: { ...process.env, INIT_CWD: dir } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("review eval", () => {
  it("evaluates a checkpoint through the worker, stores the metrics through the API, and resumes", async () => {
    const common = [
      "--task",
      "arc_challenge",
      "--model",
      modelDir,
      "--device",
      "cpu",
      "--data-dir",
      dataDir,
      "--run",
      "run-A",
      "--step",
      "0",
      "--api",
      api,
      "--token",
      token,
      "--json",
    ];
    const first = await review(...common, "--limit", "2");
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/arc_challenge \[#+\.*\] 2\/2 docs \(100\.0%\) · [\d.]+ docs\/s · ETA/);
    expect(JSON.parse(first.stdout)).toMatchObject({ task: "arc_challenge", model: "tiny", n: 2, resumed: 0 });
    const second = await review(...common);
    expect(second.code, second.stderr).toBe(0);
    const result = JSON.parse(second.stdout);
    expect(result).toMatchObject({ n: 3, resumed: 2, samplesPath: join(dir, "evals", "tiny", "arc_challenge.jsonl") });
    const rows = await open.db.evalResult.findMany({ orderBy: { metric: "asc" } });
    expect(rows.map((r) => [r.key, r.n])).toEqual([
      ["tiny|run-A|0|arc_challenge|acc", 3],
      ["tiny|run-A|0|arc_challenge|acc_norm", 3],
    ]);
    expect(rows[0]!.value).toBeCloseTo(result.metrics.acc.value, 12);
  }, 180_000);

  it("scores given predictions without a model", async () => {
    const predictions = join(dir, "predictions.jsonl");
    writeFileSync(
      predictions,
      [
        { question: GSM[0]!.question, completion: " 3 + 2 = 5. The answer is 5." },
        { question: GSM[1]!.question, completion: " 2 boxes hold 8 pens, so 8" },
      ]
        .map((l) => JSON.stringify(l))
        .join("\n") + "\n",
    );
    const out = await review("score", "--task", "gsm8k_cot", "--data", join(dataDir, "gsm8k", "test.jsonl"), "--predictions", predictions, "--json");
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ strict: 0.5, flexible: 1, n: 2 });
    expect(out.stderr).toMatch(/scored 2 predictions in [\d.]+ ms/);
  }, 60_000);

  it("names the flag of bad input and exits 2", async () => {
    const both = await review("--task", "mmlu", "--model", modelDir, "--endpoint", "http://127.0.0.1:1");
    expect([both.code, both.stderr.trim()]).toEqual([2, "review eval: --model: give exactly one of --model DIR or --endpoint URL"]);
    const task = await review("--task", "piqa", "--model", modelDir);
    expect(task.code).toBe(2);
    expect(task.stderr).toMatch(/--task: .*gsm8k_cot, mmlu, arc_challenge, hellaswag/);
    const step = await review("--task", "mmlu", "--model", modelDir, "--step", "3");
    expect(step.stderr).toMatch(/--step: needs --run ID/);
    const bad = await review("score", "--task", "mmlu", "--data", "x", "--predictions", "y");
    expect(bad.stderr).toMatch(/--task: is required and must be gsm8k_cot/);
  }, 60_000);
});
