import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRAINER_ROOT, WorkerFailure, launchWorker } from "../src/worker/launch.ts";
import type { TrainSpecInput, WorkerMessage } from "../src/worker/messages.ts";
import { writePackedSequences } from "../src/worker/packed.ts";

const python = process.env.TRAINER_PYTHON ?? "/usr/bin/python3";
let dir = "";
let modelDir = "";
let data = "";

function spec(overrides: Partial<TrainSpecInput> = {}): TrainSpecInput {
  return {
    command: "train",
    model_dir: modelDir,
    data,
    output_dir: join(dir, `run-${Math.random().toString(36).slice(2)}`),
    cell: "A",
    experts: { method: "top_k", k: 2, score: "token" },
    steps: 10,
    batch_size: 4,
    lr: 3e-3,
    weight_decay: 0,
    dtype: "fp32",
    optimizer_state_dtype: "fp32",
    device: "cpu",
    activation_checkpointing: false,
    score_tokens: 256,
    ...overrides,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "worker-launch-"));
  modelDir = join(dir, "model");
  // a DeepSeek-V2-shaped checkpoint with random weights, written by the worker's own fixture module
  execFileSync(python, ["-m", "worker.fixture", modelDir, "--shards", "2"], { cwd: TRAINER_ROOT });
  // a learnable task: every row repeats the cycle 3 14 15 9 26 5 from a different start
  const cycle = [3, 14, 15, 9, 26, 5];
  const seqLen = 32;
  const rows = 16;
  const ids = new Int32Array(rows * seqLen);
  const mask = new Uint8Array(rows * seqLen);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < seqLen; t++) {
      ids[r * seqLen + t] = cycle[(r + t) % cycle.length] ?? 0;
      mask[r * seqLen + t] = t >= cycle.length ? 1 : 0;
    }
  }
  data = await writePackedSequences(join(dir, "data"), "pattern", { seqLen, ids, mask });
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("launchWorker", () => {
  it("trains cell A on the CPU, streams validated messages, then merges the adapter", async () => {
    const run = launchWorker(spec(), { python });
    const seen: WorkerMessage[] = [];
    for await (const m of run.messages) seen.push(m);
    const outcome = await run.result;
    expect(seen.map((m) => m.type)).toEqual(["hello", "ready", ...Array(10).fill("step"), "done"]);
    const hello = seen[0];
    expect(hello?.type === "hello" && hello.hardware.device).toBe("cpu");
    const losses = seen.flatMap((m) => (m.type === "step" ? [m.loss] : []));
    expect(losses[9]!).toBeLessThan(losses[0]! - 0.5);
    expect(outcome.done.command).toBe("train");
    if (outcome.done.command !== "train") throw new Error("unreachable");
    const ready = seen[1];
    if (ready?.type !== "ready") throw new Error("no ready message");
    for (const [layer, counts] of Object.entries(outcome.done.result.expert_tokens)) {
      const trainable = new Set(ready.run.trainable[layer]);
      counts.forEach((n, e) => {
        if (!trainable.has(e)) expect(n).toBe(0); // parked experts receive no tokens in cell A
      });
    }

    const merged = join(dir, "merged");
    const merge = await launchWorker({ command: "merge", base_dir: modelDir, adapter_dir: outcome.done.result.adapter_dir, output_dir: merged }, { python })
      .result;
    expect(merge.done.command).toBe("merge");
    if (merge.done.command !== "merge") throw new Error("unreachable");
    expect(merge.done.result.replaced).toBe(2 * 2 * 3); // 2 MoE layers x 2 experts x gate/up/down
    expect(existsSync(join(merged, "model.safetensors.index.json"))).toBe(true);
  }, 60_000);

  it("turns SIGKILL into a killed failure that keeps the steps' metrics", async () => {
    const s = spec({ steps: 100_000, checkpoint_every: 1_000 });
    const run = launchWorker(s, {
      python,
      onMessage: (m) => {
        if (m.type === "step" && m.step === 2) run.kill("SIGKILL");
      },
    });
    const failure = await run.result.then(
      () => null,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(WorkerFailure);
    const f = failure as WorkerFailure;
    expect(f.kind).toBe("killed");
    expect(f.details.signal).toBe("SIGKILL");
    expect(f.steps.length).toBeGreaterThanOrEqual(2);
    expect(f.steps[0]!.loss).toBeGreaterThan(0);
    expect(existsSync(join(s.output_dir, "adapter", "complete"))).toBe(false);
  }, 60_000);

  it("rejects a bad spec before spawning, naming the field", () => {
    expect(() => launchWorker({ ...spec(), cell: "D" })).toThrow(/spec\.cell/);
    expect(() => launchWorker({ ...spec(), cell: "B" })).toThrow(/spec\.kept: cell B needs kept >= 1/);
    expect(() => launchWorker({ ...spec(), steps: 0 })).toThrow(/spec\.steps/);
  });

  it("reports the worker's own validation as a typed error with its code", async () => {
    const run = launchWorker(spec({ experts: { method: "explicit", experts: { "1": [0, 99] } } }), { python });
    const f = (await run.result.catch((e: unknown) => e)) as WorkerFailure;
    expect(f).toBeInstanceOf(WorkerFailure);
    expect(f.kind).toBe("error");
    expect(f.details.code).toBe("bad_experts");
    expect(f.message).toMatch(/expert id 99 is out of range 0\.\.7/);
    expect(f.details.exitCode).toBe(1);
    expect(f.details.messages.map((m) => m.type)).toEqual(["hello", "error"]);
  }, 30_000);

  it("reports a missing interpreter as a spawn failure", async () => {
    const f = (await launchWorker(spec(), { python: join(dir, "no-python") }).result.catch((e: unknown) => e)) as WorkerFailure;
    expect(f).toBeInstanceOf(WorkerFailure);
    expect(f.kind).toBe("spawn");
  });
});
