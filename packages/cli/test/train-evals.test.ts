import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startTestApi, type TestApi } from "@subnet-review/api/testing";
import { testDataDir } from "@subnet-review/eval/testing";
import { listen } from "@subnet-review/api";
import { EVALS_FILE, TRAINER_ROOT, evalRecordKey, readEvalLog, resumeRun, runFlagsSchema, runSpecFromFlags, runTraining } from "@subnet-review/trainer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRecorder } from "../src/commands/train.ts";
import { splitEvalFlags, TrainingEvals } from "../src/training-evals.ts";

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
/** A proxy in front of the API that can play "down"; it counts each eval row the API took through it, by key. */
let proxy: Server;
let proxyUrl: string;
const gate = { up: true, evalDeliveries: new Map<string, number>() };

beforeAll(async () => {
  api = await startTestApi();
  token = await api.token("train-evals");
  dir = mkdtempSync(join(tmpdir(), "cli-train-evals-"));
  model = join(dir, "model");
  execFileSync(python, ["-m", "worker.fixture", model, "--vocab-size", "514"], { cwd: TRAINER_ROOT });
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(TRAINER_ROOT, "fixtures/tiny-tokenizer", f), join(model, f));
  data = join(dir, "gsm8k-16.jsonl");
  writeFileSync(data, `${readFileSync(join(testDataDir, "gsm8k/train.jsonl"), "utf8").split("\n").slice(0, 16).join("\n")}\n`);
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (!gate.up) {
        req.socket.destroy(); // as if the API were not there
        return;
      }
      const body = Buffer.concat(chunks);
      const paths = decodeURIComponent(new URL(req.url!, "http://x").pathname.replace(/^\/trpc\//, "")).split(",");
      void fetch(`${api.url}${req.url}`, {
        method: req.method!,
        headers: { "content-type": "application/json", ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) },
        ...(req.method === "POST" ? { body } : {}),
      }).then(async (r) => {
        if (req.method === "POST" && r.ok) {
          // the figure transformer's wire form: {"<i>": {f: figures, d: input}}
          const batch = JSON.parse(body.toString("utf8")) as Record<string, { d?: { results?: Parameters<typeof evalRecordKey>[0][] } }>;
          paths.forEach((p, i) => {
            if (p !== "evals.record") return;
            for (const row of batch[String(i)]?.d?.results ?? [])
              gate.evalDeliveries.set(evalRecordKey(row), (gate.evalDeliveries.get(evalRecordKey(row)) ?? 0) + 1);
          });
        }
        res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/json" });
        res.end(Buffer.from(await r.arrayBuffer()));
      });
    });
  });
  proxyUrl = `http://127.0.0.1:${await listen(proxy, 0, "127.0.0.1")}`;
}, 120_000);

afterAll(async () => {
  proxy?.close();
  await api?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("pnpm review train --eval-every", () => {
  it("evaluates the base model at step 0, each checkpoint at a multiple of N and the final adapter, and records them for the run", async () => {
    const out = join(dir, "runs");
    const args = [
      "--model",
      model,
      "--data",
      data,
      "--cell",
      "A",
      "--trainable-experts",
      "top-k:2",
      "--steps",
      "4",
      "--batch",
      "2",
      "--seq",
      "128",
      "--device",
      "cpu",
      "--lr",
      "3e-3",
      "--score-tokens",
      "512",
      "--out",
      out,
      "--api",
      api.url,
      "--token",
      token,
      "--eval-every",
      "2",
      "--eval-tasks",
      "arc_challenge",
      "--eval-limit",
      "3",
    ];
    const { stderr } = await run("node", ["--import", "tsx", main, "train", ...args], { env: { ...process.env, DATABASE_URL: "" }, maxBuffer: 1 << 24 });
    expect(stderr).toMatch(/recorded 6 eval metrics/);

    const [runRow] = await api.db.trainingRun.findMany();
    expect(runRow?.status).toBe("completed");
    const evals = await api.db.evalResult.findMany({ where: { runId: runRow!.id }, orderBy: [{ step: "asc" }, { metric: "asc" }] });
    expect(evals.map((e) => [e.step, e.task, e.metric, e.n])).toEqual(
      [0, 2, 4].flatMap((step) => [
        [step, "arc_challenge", "acc", 3],
        [step, "arc_challenge", "acc_norm", 3],
      ]),
    );
    for (const e of evals) expect(e.value).toBeGreaterThanOrEqual(0);
    // The merged model at step 4 is the trained one: its samples were scored from their own loglikelihoods.
    const runDir = join(out, runRow!.id);
    const local = readFileSync(join(runDir, "evals.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { step: number });
    expect(local.map((l) => l.step)).toEqual([0, 2, 4]); // the base model's result too, on disk before the API
    expect(existsSync(join(runDir, "evals", "step-4", "samples", "arc_challenge.jsonl"))).toBe(true);
  }, 300_000);

  /** Cell A, 4 steps, checkpoints at 2, ARC-Challenge on 3 documents at steps 0, 2 and 4, through the proxy. */
  function start(out: string, drainMs: number, onMessage?: () => void) {
    const spec = runSpecFromFlags(
      runFlagsSchema.parse({
        model,
        data,
        cell: "A",
        "trainable-experts": "top-k:2",
        steps: "4",
        batch: "2",
        seq: "128",
        device: "cpu",
        lr: "3e-3",
        "score-tokens": "512",
        "checkpoint-every": "2",
        out,
      }),
      (p) => p,
    );
    const { evalFlags } = splitEvalFlags(["--eval-every", "2", "--eval-tasks", "arc_challenge", "--eval-limit", "3"]);
    const recorder = apiRecorder(proxyUrl, token);
    const uploader = { retryMs: 50, maxRetryMs: 200 };
    const evals = new TrainingEvals(evalFlags!, {
      modelDir: model,
      tokenizerDir: model,
      device: "cpu",
      python,
      workDir: join(out, "base-evals"),
      recorder,
      uploader,
    });
    evals.evaluateBase();
    const training = runTraining(spec, {
      outDir: out,
      python,
      recorder,
      uploader,
      drainMs,
      stderr: new Writable({ write: (_c, _e, cb) => cb() }),
      onMessage: (m, w, runDir) => {
        onMessage?.();
        evals.onMessage(m, w, runDir);
      },
    });
    return { evals, training };
  }

  /** Metric rows per (model, run, step, task, metric) in the database for a run. */
  async function storedEvals(runId: string) {
    const rows = await api.db.evalResult.findMany({ where: { runId }, orderBy: [{ step: "asc" }, { metric: "asc" }] });
    return rows.map((r) => [r.step, r.metric]);
  }
  const EXPECTED = [0, 2, 4].flatMap((step) => [
    [step, "acc"],
    [step, "acc_norm"],
  ]);

  it("API down during the evals, up later: every eval metric is logged first, then delivered exactly once", async () => {
    gate.up = true;
    gate.evalDeliveries.clear();
    const out = join(dir, "runs-down-during");
    // Down from the worker's first message (the run was created at launch) until every eval is in evals.jsonl.
    const { evals, training } = start(out, 120_000, () => {
      gate.up = false;
    });
    let runDir = "";
    const logged = (async () => {
      for (const deadline = Date.now() + 200_000; Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 100));
        const id = existsSync(out) ? readdirSync(out).find((n) => n !== "base-evals") : undefined;
        runDir = id ? join(out, id) : "";
        if (runDir && existsSync(join(runDir, EVALS_FILE)) && readEvalLog(runDir).length === 6) return;
      }
      throw new Error(`evals.jsonl of ${runDir || out} never held 6 rows`);
    })();
    await logged;
    expect(gate.up).toBe(false);
    expect(gate.evalDeliveries.size).toBe(0);
    gate.up = true;
    const result = await training;
    const { recorded, unsent } = await evals.finish(60_000);
    expect(result.synced).toBe(true);
    expect({ recorded, unsent }).toEqual({ recorded: 6, unsent: [] });
    expect(await storedEvals(result.id)).toEqual(EXPECTED);
    expect([...gate.evalDeliveries.values()]).toEqual([1, 1, 1, 1, 1, 1]);
  }, 300_000);

  it("API down throughout: the command ends with the evals in evals.jsonl, and `train --resume` delivers each exactly once", async () => {
    gate.up = false;
    gate.evalDeliveries.clear();
    const out = join(dir, "runs-down-throughout");
    const { evals, training } = start(out, 300);
    const result = await training;
    const finished = await evals.finish(300);
    expect(result.synced).toBe(false);
    expect(finished).toEqual({ recorded: 0, unsent: [{ runDir: result.dir, rows: 6 }] });
    expect(readEvalLog(result.dir).map((r) => [r.step, r.metric])).toEqual(EXPECTED);
    expect(await storedEvals(result.id)).toEqual([]);

    gate.up = true;
    const resumed = await resumeRun(result.dir, { python, recorder: apiRecorder(proxyUrl, token), drainMs: 30_000 });
    expect(resumed.synced).toBe(true);
    expect(await storedEvals(result.id)).toEqual(EXPECTED);
    expect([...gate.evalDeliveries.values()]).toEqual([1, 1, 1, 1, 1, 1]);
  }, 300_000);

  it("refuses --eval-every that is not a multiple of --checkpoint-every, before any work", async () => {
    const args = [
      "--model",
      model,
      "--data",
      data,
      "--cell",
      "A",
      "--trainable-experts",
      "top-k:2",
      "--steps",
      "4",
      "--device",
      "cpu",
      "--out",
      join(dir, "never"),
      "--checkpoint-every",
      "3",
      "--eval-every",
      "2",
    ];
    await expect(run("node", ["--import", "tsx", main, "train", ...args])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--eval-every: must be a multiple of --checkpoint-every \(3\)/),
    });
    expect(existsSync(join(dir, "never"))).toBe(false);
  });
});
