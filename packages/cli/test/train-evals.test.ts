import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startTestApi, type TestApi } from "@subnet-review/api/testing";
import { defaultDataDir } from "@subnet-review/eval";
import { TRAINER_ROOT } from "@subnet-review/trainer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Eval during training, end to end: the CLI trains the tiny DeepSeek-V2-shaped model with the real worker on the
// CPU and evaluates the base model, a checkpoint and the final adapter (merged, natural routing) on ARC-Challenge.
const run = promisify(execFile);
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const python = process.env.TRAINER_PYTHON ?? "/usr/bin/python3";

let api: TestApi;
let token: string;
let dir: string;
let model: string;
let data: string;

beforeAll(async () => {
  api = await startTestApi();
  token = await api.token("train-evals");
  dir = mkdtempSync(join(tmpdir(), "cli-train-evals-"));
  model = join(dir, "model");
  execFileSync(python, ["-m", "worker.fixture", model, "--vocab-size", "514"], { cwd: TRAINER_ROOT });
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(TRAINER_ROOT, "fixtures/tiny-tokenizer", f), join(model, f));
  data = join(dir, "gsm8k-16.jsonl");
  writeFileSync(data, `${readFileSync(join(defaultDataDir, "gsm8k/train.jsonl"), "utf8").split("\n").slice(0, 16).join("\n")}\n`);
}, 120_000);

afterAll(async () => {
  await api?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("pnpm review train --eval-every", () => {
  it("evaluates the base model at step 0, each checkpoint at a multiple of N and the final adapter, and records them for the run", async () => {
    const out = join(dir, "runs");
    const args = ["--model", model, "--data", data, "--cell", "A", "--trainable-experts", "top-k:2", "--steps", "4", "--batch", "2", "--seq", "128",
      "--device", "cpu", "--lr", "3e-3", "--score-tokens", "512", "--out", out, "--api", api.url, "--token", token,
      "--eval-every", "2", "--eval-tasks", "arc_challenge", "--eval-limit", "3"];
    const { stderr } = await run("node", ["--import", "tsx", main, "train", ...args], { env: { ...process.env, DATABASE_URL: "" }, maxBuffer: 1 << 24 });
    expect(stderr).toMatch(/recorded 6 eval metrics/);

    const [runRow] = await api.db.trainingRun.findMany();
    expect(runRow?.status).toBe("completed");
    const evals = await api.db.evalResult.findMany({ where: { runId: runRow!.id }, orderBy: [{ step: "asc" }, { metric: "asc" }] });
    expect(evals.map((e) => [e.step, e.task, e.metric, e.n])).toEqual(
      [0, 2, 4].flatMap((step) => [[step, "arc_challenge", "acc", 3], [step, "arc_challenge", "acc_norm", 3]]),
    );
    for (const e of evals) expect(e.value).toBeGreaterThanOrEqual(0);
    // The merged model at step 4 is the trained one: its samples were scored from their own loglikelihoods.
    const runDir = join(out, runRow!.id);
    const local = readFileSync(join(runDir, "evals.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { step: number });
    expect(local.map((l) => l.step)).toEqual([2, 4]);
    expect(existsSync(join(runDir, "evals", "step-4", "samples", "arc_challenge.jsonl"))).toBe(true);
  }, 300_000);

  it("refuses --eval-every that is not a multiple of --checkpoint-every, before any work", async () => {
    const args = ["--model", model, "--data", data, "--cell", "A", "--trainable-experts", "top-k:2", "--steps", "4", "--device", "cpu",
      "--out", join(dir, "never"), "--checkpoint-every", "3", "--eval-every", "2"];
    await expect(run("node", ["--import", "tsx", main, "train", ...args])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/--eval-every: must be a multiple of --checkpoint-every \(3\)/) });
    expect(existsSync(join(dir, "never"))).toBe(false);
  });
});
