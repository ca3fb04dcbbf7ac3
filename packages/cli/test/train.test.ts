import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { Writable } from "node:stream";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createApiServer, listen } from "@subnet-review/api";
import { createApiToken, importPublishedReview, openDatabase, type OpenDatabase } from "@subnet-review/db";
import { createTestDatabase } from "@subnet-review/db/testing";
import { METRICS_FILE, TRAINER_ROOT, readMetricsLog, resumeRun, runFlagsSchema, runSpecFromFlags, runTraining, type RunSpec } from "@subnet-review/trainer";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApiClient } from "../src/api-client.ts";
import { mergeCommand } from "../src/commands/merge.ts";
import { apiRecorder, trainCommand } from "../src/commands/train.ts";

// The runner and the CLI against the real API on a test database, training a tiny DeepSeek-V2-shaped model with
// the real PyTorch worker on the CPU. The only stand-in is a proxy in front of the API that can play "down".

const run = promisify(execFile);
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const python = process.env.TRAINER_PYTHON ?? "/usr/bin/python3";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let open: OpenDatabase;
let api: Server;
let proxy: Server;
let apiUrl: string;
let proxyUrl: string;
let token: string;
let dir: string;
let model: string;
let data: string;
/** the proxy: up or down, and every step number it delivered to the API */
const gate = { up: true, delivered: [] as number[], refused: 0 };

async function review(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("node", ["--import", "tsx", main, ...args], { env: { ...process.env, DATABASE_URL: "" }, maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function client() {
  return createApiClient({ url: apiUrl });
}

function spec(overrides: Record<string, string> = {}): RunSpec {
  const flags = runFlagsSchema.parse({
    model,
    data,
    cell: "A",
    "trainable-experts": "top-k:2",
    steps: "5",
    batch: "2",
    seq: "128",
    device: "cpu",
    lr: "3e-3",
    "score-tokens": "512",
    ...overrides,
  });
  return runSpecFromFlags(flags, (p) => p);
}

const trainFlags = (out: string) => [
  "--model",
  model,
  "--data",
  data,
  "--trainable-experts",
  "top-k:2",
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
];

beforeAll(async () => {
  database = await createTestDatabase();
  open = await openDatabase({ url: database.url });
  await importPublishedReview(open.db);
  token = (await createApiToken(open.db, "trainer-test")).secret;
  api = createApiServer({ db: open.db });
  apiUrl = `http://127.0.0.1:${await listen(api, 0, "127.0.0.1")}`;
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (!gate.up) {
        gate.refused++;
        req.socket.destroy(); // as if the API were not there
        return;
      }
      const body = Buffer.concat(chunks);
      const paths = decodeURIComponent(new URL(req.url!, "http://x").pathname.replace(/^\/trpc\//, "")).split(",");
      if (req.method === "POST") {
        // the figure transformer's wire form: {"<i>": {f: figures, d: input}}
        const batch = JSON.parse(body.toString("utf8")) as Record<string, { d?: { steps?: { step: number }[] } }>;
        paths.forEach((p, i) => {
          if (p === "runs.appendSteps") gate.delivered.push(...(batch[String(i)]?.d?.steps ?? []).map((s) => s.step));
        });
      }
      void fetch(`${apiUrl}${req.url}`, {
        method: req.method!,
        headers: { "content-type": "application/json", ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) },
        ...(req.method === "POST" ? { body } : {}),
      }).then(async (r) => {
        res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/json" });
        res.end(Buffer.from(await r.arrayBuffer()));
      });
    });
  });
  proxyUrl = `http://127.0.0.1:${await listen(proxy, 0, "127.0.0.1")}`;

  dir = mkdtempSync(join(tmpdir(), "cli-train-"));
  model = join(dir, "model");
  // the worker's own fixture: a DeepSeek-V2-shaped checkpoint with random weights, sized for the tiny tokenizer
  execFileSync(python, ["-m", "worker.fixture", model, "--shards", "2", "--vocab-size", "514"], { cwd: TRAINER_ROOT });
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(TRAINER_ROOT, "fixtures/tiny-tokenizer", f), join(model, f));
  data = join(dir, "gsm8k-24.jsonl");
  const gsm8k = readFileSync(fileURLToPath(new URL("../../../../shared/data/gsm8k/train.jsonl", import.meta.url)), "utf8");
  writeFileSync(data, `${gsm8k.split("\n").slice(0, 24).join("\n")}\n`);
}, 120_000);

afterAll(async () => {
  proxy?.close();
  api?.close();
  await open?.close();
  await database?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function rowsOf(id: string) {
  const row = await open.db.trainingRun.findUniqueOrThrow({ where: { id }, include: { experiment: true } });
  const steps = await open.db.trainingStep.findMany({ where: { runId: id }, orderBy: { step: "asc" } });
  return { row, steps };
}

function loggedSteps(runDir: string) {
  return readMetricsLog(join(runDir, METRICS_FILE)).flatMap((m) => (m.type === "step" ? [m] : []));
}

describe("pnpm review train", () => {
  it("trains cell A on the CPU through the API: run, expert assignment and every step recorded as metrics.jsonl holds them", async () => {
    const out = join(dir, "runs-cli");
    const { code, stdout, stderr } = await review(
      "train",
      ...trainFlags(out),
      "--cell",
      "A",
      "--steps",
      "5",
      "--api",
      proxyUrl,
      "--token",
      token,
      "--experiment",
      "cli-train-test",
    );
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/step 5\/5 \(100\.0%\) · loss \d+\.\d{4} · [\d,]+ tok\/s · GPU - · ETA 0s/);
    expect(stdout).toMatch(/completed\s+5\s/);
    const [id] = readdirSync(out);
    const runDir = join(out, id!);
    const { row, steps } = await rowsOf(id!);
    expect(row).toMatchObject({ cell: "A", status: "completed", trainable: 2, kept: 0, steps: 5, error: null, mfu: null, peakMemoryBytes: null });
    expect(row.experiment?.name).toBe("cli-train-test");
    expect(row.gitCommit).toMatch(/^[0-9a-f]{40}(\+dirty)?$/);
    expect(row.hardware).toMatchObject({ device: "cpu" });
    expect(row.wallclockSeconds).toBeGreaterThan(0);
    expect(row.tokensPerSecond).toBeGreaterThan(0);
    const ready = readMetricsLog(join(runDir, METRICS_FILE)).find((m) => m.type === "ready");
    expect(ready?.type === "ready" && row.experts).toEqual({ trainable: ready?.type === "ready" ? ready.run.trainable : null, kept: {} });
    const logged = loggedSteps(runDir);
    expect(steps.map((s) => [s.step, s.loss, s.gradNorm, s.tokens])).toEqual(logged.map((s) => [s.step, s.loss, s.grad_norm, s.tokens]));
    expect(existsSync(join(runDir, "adapter", "complete"))).toBe(true);
    const read = await client().runs.steps.query({ runId: id! });
    expect(read.map((s) => s.step)).toEqual([1, 2, 3, 4, 5]);

    // merge: the adapter into its base, a full checkpoint in the original layout
    const merged = join(dir, "merged");
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    await mergeCommand(["--base", model, "--adapter", join(runDir, "adapter"), "--out", merged]);
    expect(log.mock.calls[0]?.[0]).toMatch(/12 expert tensors replaced/); // 2 MoE layers × 2 experts × gate/up/down
    log.mockRestore();
    expect(existsSync(join(merged, "model.safetensors.index.json"))).toBe(true);
    await expect(mergeCommand(["--base", model, "--adapter", join(runDir, "adapter"), "--out", merged])).rejects.toThrow(/^--out: .* exists and is not empty/);
    await expect(mergeCommand(["--base", model, "--adapter", dir, "--out", join(dir, "m2")])).rejects.toThrow(/^--adapter: .* is not a complete adapter/);
  });

  it("keeps training while the API is down and delivers the backlog exactly once when it is back", async () => {
    gate.up = false;
    gate.delivered = [];
    gate.refused = 0;
    let queuedWhileDown = 0;
    const result = await runTraining(spec({ steps: "8" }), {
      outDir: join(dir, "runs-down"),
      python,
      recorder: apiRecorder(proxyUrl, token),
      uploader: { retryMs: 100, maxRetryMs: 200 },
      stderr: progressSink((line) => {
        const queued = /api: (\d+) steps queued/.exec(line);
        if (queued && !gate.up) queuedWhileDown = Math.max(queuedWhileDown, Number(queued[1]));
      }),
      onMessage: (m) => {
        if (m.type === "step" && m.step === 4) gate.up = true;
      },
    });
    expect(result.status).toBe("completed");
    expect(result.synced).toBe(true);
    expect(gate.refused).toBeGreaterThan(0);
    expect(queuedWhileDown).toBeGreaterThan(0); // the progress line showed the backlog
    expect(gate.delivered.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const { row, steps } = await rowsOf(result.id);
    expect(row.status).toBe("completed");
    expect(steps.map((s) => [s.step, s.loss])).toEqual(loggedSteps(result.dir).map((s) => [s.step, s.loss]));
  });

  it("leaves the backlog in metrics.jsonl when the API stays down, and --resume sends it later", async () => {
    gate.up = false;
    gate.delivered = [];
    const result = await runTraining(spec({ steps: "3" }), {
      outDir: join(dir, "runs-offline"),
      python,
      recorder: apiRecorder(proxyUrl, token),
      uploader: { retryMs: 50 },
      drainMs: 300,
      stderr: devNull(),
    });
    expect(result).toMatchObject({ status: "completed", synced: false, backlog: 3 });
    expect(await open.db.trainingRun.findUnique({ where: { id: result.id } })).toBeNull();
    gate.up = true;
    const { code, stdout, stderr } = await review("train", "--resume", result.dir, "--api", proxyUrl, "--token", token);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/completed\s+3\s.*sent/);
    expect(stderr).not.toMatch(/starting|resuming/); // a completed run is only sent, not trained again
    const { row, steps } = await rowsOf(result.id);
    expect(row.status).toBe("completed");
    expect(row.wallclockSeconds).toBeCloseTo(result.wallclockSeconds, 6);
    expect(steps.map((s) => s.loss)).toEqual(result.steps.map((s) => s.loss));
    expect(gate.delivered).toEqual([1, 2, 3]);
  });

  it("records a killed worker as a failed run with the steps it finished, and --resume continues it from its checkpoint", async () => {
    const killed = await runTraining(spec({ steps: "30", "checkpoint-every": "2" }), {
      outDir: join(dir, "runs-killed"),
      python,
      recorder: apiRecorder(apiUrl, token),
      stderr: devNull(),
      onMessage: (m, worker) => {
        if (m.type === "step" && m.step === 3) worker.kill("SIGKILL");
      },
    });
    expect(killed.status).toBe("failed");
    expect(killed.error).toMatch(/killed by SIGKILL/);
    const before = await rowsOf(killed.id);
    expect(before.row).toMatchObject({ status: "failed", error: expect.stringMatching(/SIGKILL/) });
    expect(before.steps.length).toBeGreaterThanOrEqual(3);
    expect(before.steps.length).toBeLessThan(30);
    expect(before.steps.map((s) => s.loss)).toEqual(loggedSteps(killed.dir).map((s) => s.loss));
    expect(readMetricsLog(join(killed.dir, METRICS_FILE)).at(-1)).toMatchObject({ type: "run_end", status: "failed" });
    expect(existsSync(join(killed.dir, "adapter", "complete"))).toBe(false);

    const resumed = await resumeRun(killed.dir, { python, recorder: apiRecorder(apiUrl, token), stderr: devNull() });
    expect(resumed.status).toBe("completed");
    const ready = readMetricsLog(join(killed.dir, METRICS_FILE)).filter((m) => m.type === "ready");
    expect(ready.map((m) => m.type === "ready" && m.run.start_step)).toEqual([0, 2]); // from the step-2 checkpoint
    const after = await rowsOf(killed.id);
    expect(after.row).toMatchObject({ status: "completed", error: null });
    expect(after.steps.map((s) => s.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(after.steps.slice(0, 2).map((s) => s.loss)).toEqual(before.steps.slice(0, 2).map((s) => s.loss));
    expect(existsSync(join(killed.dir, "adapter", "complete"))).toBe(true);
  });

  it("records a run that asks for a GPU on a machine without one as failed, with the worker's message", async () => {
    const result = await runTraining(spec({ device: "cuda", steps: "2" }), {
      outDir: join(dir, "runs-nogpu"),
      python,
      recorder: apiRecorder(apiUrl, token),
      stderr: devNull(),
    });
    expect(result.status).toBe("failed");
    expect(result.error).toMatch(/worker error no_gpu: spec\.device is 'cuda' but torch sees no CUDA GPU/);
    const { row, steps } = await rowsOf(result.id);
    expect(row).toMatchObject({ status: "failed", error: result.error });
    expect(steps).toEqual([]);
  });
});

describe("pnpm review experiment", () => {
  it("runs A, B and C with one expert assignment, attaches them to the review's experiment, and the review view carries their curves", async () => {
    const out = join(dir, "runs-exp");
    const { code, stdout, stderr } = await review(
      "experiment",
      ...trainFlags(out),
      "--kept",
      "3",
      "--steps",
      "3",
      "--name",
      "esft-cells-gsm8k",
      "--api",
      apiUrl,
      "--token",
      token,
    );
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^A\s.*completed/m);
    expect(stdout).toMatch(/^C\s.*completed/m);
    const experiment = await client().runs.byExperiment.query({ name: "esft-cells-gsm8k" });
    expect(experiment.experiment.description).toMatch(/^All three cells fine-tune K=8/); // attached, not overwritten
    expect(experiment.runs.map((r) => r.cell).sort()).toEqual(["A", "B", "C"]);
    expect(experiment.runs.every((r) => r.status === "completed" && r.recordedSteps === 3)).toBe(true);
    const assignments = experiment.runs.map((r) => (r.experts as { trainable: unknown }).trainable);
    expect(assignments[1]).toEqual(assignments[0]);
    expect(assignments[2]).toEqual(assignments[0]);
    const [expDir] = readdirSync(out);
    expect(JSON.parse(readFileSync(join(out, expDir!, "expert_cfg.json"), "utf8")).experts).toEqual(assignments[0]);
    // A and B route as the subnet does (the default), C naturally; k is the model's num_experts_per_tok
    expect(Object.fromEntries(experiment.runs.map((r) => [r.cell, [r.routingMode, r.topK]]))).toEqual({
      A: ["subnet", 2],
      B: ["subnet", 2],
      C: ["natural", 2],
    });
    const b = experiment.runs.find((r) => r.cell === "B")!;
    expect(b.kept).toBe(3);
    expect(Object.values((b.experts as { kept: Record<string, number[]> }).kept).every((ids) => ids.length === 3)).toBe(true);

    const view = await client().review.bySlug.query({ slug: "subnet-102-status-review" });
    expect(view.runs?.cells.map((c) => c.cell)).toEqual(["A", "B", "C"]);
    for (const cell of view.runs!.cells) {
      expect(cell.loss.map((p) => p.step)).toEqual([1, 2, 3]);
      expect(cell.tokensPerSecond).toMatchObject({ kind: "measured" });
      expect(cell.wallclock).toMatchObject({ kind: "measured", unit: "seconds" });
      expect(cell.estimatedGiB).toMatchObject({ kind: "estimated", unit: "GiB" });
      expect(cell.peakGiB).toBeNull(); // a CPU run measures no GPU memory
      expect(cell.mfu).toBeNull();
    }
    const est = Object.fromEntries(view.runs!.cells.map((c) => [c.cell, c.estimatedGiB!.value]));
    expect(est.A).toBeLessThan(est.B!);
    expect(est.B).toBeLessThan(est.C!);
  }, 120_000);
});

describe("pnpm review experiment --routing renormalized --top-k 1", () => {
  it("trains A and B with the renormalized forward at k = 1 and records it per run; C stays natural", async () => {
    const out = join(dir, "runs-exp-renorm");
    const { code, stderr } = await review(
      "experiment",
      ...trainFlags(out),
      "--kept",
      "3",
      "--steps",
      "2",
      "--routing",
      "renormalized",
      "--top-k",
      "1",
      "--name",
      "esft-cells-renormalized",
      "--api",
      apiUrl,
      "--token",
      token,
    );
    expect(code, stderr).toBe(0);
    const experiment = await client().runs.byExperiment.query({ name: "esft-cells-renormalized" });
    expect(Object.fromEntries(experiment.runs.map((r) => [r.cell, [r.routingMode, r.topK]]))).toEqual({
      A: ["renormalized", 1],
      B: ["renormalized", 1],
      C: ["natural", 1],
    });
    for (const r of experiment.runs) expect((r.spec as { routingMode: string }).routingMode).toBe(r.routingMode);
  }, 120_000);
});

describe("bad input fails before any worker starts, naming the flag", () => {
  const out = () => join(dir, "runs-bad");
  const nothingWritten = () => expect(existsSync(out()) && readdirSync(out()).length).toBeFalsy();

  it("exits 2 with the flag and what is allowed, no stack trace (as a user runs it)", async () => {
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, `${readFileSync(data, "utf8").split("\n")[0]}\n{"question": "q"}\nnot json\n`);
    const [flag, lines] = await Promise.all([
      review("train", ...trainFlags(out()), "--cell", "D", "--steps", "2"),
      review("train", ...trainFlags(out()), "--cell", "A", "--steps", "2", "--data", bad),
    ]);
    expect([flag.code, flag.stdout]).toEqual([2, ""]);
    expect(flag.stderr).toMatch(/^review train: --cell: must be A, B or C$/m);
    expect(lines.code).toBe(2);
    expect(lines.stderr).toMatch(/--data: 2 invalid line\(s\) in .*bad\.jsonl:\n.*bad\.jsonl:2: .*\n.*bad\.jsonl:3: /);
    for (const r of [flag, lines]) expect(r.stderr).not.toMatch(/\n\s+at /);
    nothingWritten();
  });

  it.each([
    [["--cell", "A", "--steps", "0"], /^--steps: must be at least 1/],
    [["--cell", "B", "--steps", "2"], /^--kept: cell B needs --kept N >= 1/],
    [["--cell", "A", "--steps", "2", "--trainable-experts", "top-k:9"], /^--trainable-experts: K 9 exceeds the model's 8 routed experts per layer/],
    [["--cell", "B", "--kept", "7", "--steps", "2"], /^--trainable-experts: K 2 \+ --kept 7 exceeds the model's 8 routed experts/],
    [["--cell", "A", "--steps", "2", "--api", "http://127.0.0.1:1"], /^--token: is required with --api/],
    [["--cell", "A", "--steps", "2", "--model", "/nonexistent"], /^--model: \/nonexistent is not a directory/],
    [["--cell", "A", "--steps", "2", "--batch", "5000"], /^--batch: 5000 sequences per step, but the data packs into only \d+ sequences/],
  ])("train %j", async (args, message) => {
    await expect(trainCommand([...trainFlags(out()), ...(args as string[])])).rejects.toThrow(message);
    nothingWritten();
  });

  it("checks an ESFT expert config's ids and the model's family", async () => {
    const cfg = join(dir, "experts.json");
    writeFileSync(cfg, JSON.stringify({ experts: { "1": [0, 99], "2": [1] } }));
    await expect(trainCommand([...trainFlags(out()), "--cell", "A", "--steps", "2", "--trainable-experts", cfg])).rejects.toThrow(
      /^--trainable-experts: layer 1: expert id 99 is out of range 0\.\.7/,
    );
    const mixtral = join(dir, "mixtral");
    mkdirSync(mixtral, { recursive: true });
    writeFileSync(
      join(mixtral, "config.json"),
      JSON.stringify({
        model_type: "mixtral",
        vocab_size: 514,
        hidden_size: 64,
        intermediate_size: 128,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 4,
        num_local_experts: 8,
        num_experts_per_tok: 2,
      }),
    );
    await expect(trainCommand([...trainFlags(out()), "--cell", "A", "--steps", "2", "--model", mixtral])).rejects.toThrow(
      /^--model: config\.json: model_type is "mixtral"; the trainer runs the DeepSeek-V2 family/,
    );
    nothingWritten();
  });
});

/** A stderr that hands each progress line to `see`. */
function progressSink(see: (line: string) => void): NodeJS.WritableStream {
  return new Writable({
    write: (c: Buffer, _e, cb) => {
      for (const line of c.toString("utf8").split("\n")) if (line) see(line);
      cb();
    },
  });
}

function devNull(): NodeJS.WritableStream {
  return new Writable({ write: (_c, _e, cb) => cb() });
}
