import { describe, expect, it } from "vitest";
import type { EvalRecord, RunCreate, RunFinish, RunRecorder, StepRecord } from "../src/runner/records.ts";
import { RunUploader } from "../src/runner/uploader.ts";

const run: RunCreate = {
  id: "r1",
  cell: "A",
  trainable: 2,
  kept: 0,
  routingMode: "subnet",
  topK: 2,
  steps: 5,
  spec: {},
  experts: null,
  hardware: null,
  gitCommit: null,
  experiment: null,
  startedAt: new Date(0).toISOString(),
};
const step = (n: number): StepRecord => ({
  step: n,
  loss: 10 - n,
  gradNorm: 1,
  lr: 1e-3,
  tokens: 8,
  tokensPerSecond: 100,
  stepSeconds: 0.08,
  memAllocatedBytes: null,
  memPeakBytes: null,
});
const evalRow = (step: number, metric: string, value = 0.5): EvalRecord => ({
  model: `r1@step-${step}`,
  runId: "r1",
  step,
  task: "arc_challenge",
  metric,
  value,
  stderr: 0.1,
  n: 3,
  note: null,
  samplesPath: null,
});
const end: RunFinish = {
  status: "completed",
  error: null,
  finishedAt: new Date(0).toISOString(),
  wallclockSeconds: 1,
  peakMemoryBytes: null,
  tokensPerSecond: 100,
  mfu: null,
};

/** A recorder whose server is down until `up` is set; it keeps what it received, in order. */
function flakyRecorder() {
  const state = { up: false, calls: [] as string[], steps: [] as number[], evals: [] as string[], finished: 0 };
  const gate = async (what: string) => {
    state.calls.push(what);
    if (!state.up) throw new Error("connect ECONNREFUSED 127.0.0.1:1");
  };
  const recorder: RunRecorder = {
    async create() {
      await gate("create");
    },
    async appendSteps(_id, steps) {
      await gate("appendSteps");
      state.steps.push(...steps.map((s) => s.step));
    },
    async finish() {
      await gate("finish");
      state.finished++;
    },
    async recordEvals(rows) {
      await gate("recordEvals");
      state.evals.push(...rows.map((r) => `${r.step}/${r.metric}=${r.value}`));
    },
  };
  return { state, recorder };
}

describe("RunUploader", () => {
  it("keeps the backlog while the API is down and sends it once, in order, when it is back", async () => {
    const { state, recorder } = flakyRecorder();
    const up = new RunUploader(recorder, "r1", { retryMs: 20, maxRetryMs: 40, batchSize: 2 });
    up.setRun(run);
    for (let n = 1; n <= 3; n++) up.addSteps([step(n)]);
    await new Promise((r) => setTimeout(r, 50));
    expect(up.backlog).toBe(3);
    expect(up.lastError).toMatch(/ECONNREFUSED/);
    expect(state.steps).toEqual([]); // nothing goes out before the run exists
    state.up = true;
    up.addSteps([step(4), step(5)]);
    up.setEnd(end);
    expect(await up.drain(2_000)).toBe(true);
    expect(state.steps).toEqual([1, 2, 3, 4, 5]);
    expect(state.finished).toBe(1);
    expect(up.sentSteps).toBe(5);
    expect(up.backlog).toBe(0);
    up.close();
  });

  it("gives up draining at the deadline and reports what is left", async () => {
    const { recorder } = flakyRecorder();
    const up = new RunUploader(recorder, "r1", { retryMs: 10 });
    up.setRun(run);
    up.addSteps([step(1), step(2)]);
    up.setEnd(end);
    const t0 = Date.now();
    expect(await up.drain(150)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(up.backlog).toBe(2);
    up.close();
  });

  it("sends eval rows after the steps, once each, when the API is back; a row logged again replaces the queued one", async () => {
    const { state, recorder } = flakyRecorder();
    const up = new RunUploader(recorder, "r1", { retryMs: 20, maxRetryMs: 40 });
    up.setRun(run);
    up.addSteps([step(1), step(2)]);
    up.addEvals([evalRow(0, "acc"), evalRow(0, "acc_norm")]);
    await new Promise((r) => setTimeout(r, 50));
    expect(up.evalBacklog).toBe(2);
    up.addEvals([evalRow(0, "acc", 0.75), evalRow(2, "acc")]);
    expect(up.evalBacklog).toBe(3);
    state.up = true;
    up.setEnd(end);
    expect(await up.drain(2_000)).toBe(true);
    expect(state.evals).toEqual(["0/acc=0.75", "0/acc_norm=0.5", "2/acc=0.5"]);
    expect(state.calls.filter((c) => c !== "create").slice(-3)).toEqual(["appendSteps", "recordEvals", "finish"]);
    expect(up.sentEvals).toBe(3);
    up.close();
  });

  it("with runCreatedElsewhere, sends eval rows without a run of its own and retries until they are taken", async () => {
    const { state, recorder } = flakyRecorder();
    const up = new RunUploader(recorder, "r1", { retryMs: 20, maxRetryMs: 40, runCreatedElsewhere: true });
    up.addEvals([evalRow(4, "acc")]);
    expect(await up.drain(60)).toBe(false);
    expect(up.evalBacklog).toBe(1);
    state.up = true;
    expect(await up.drain(2_000)).toBe(true);
    expect(state.calls.includes("create")).toBe(false);
    expect(state.evals).toEqual(["4/acc=0.5"]);
    up.close();
  });

  it("sends a step recorded again (a resumed run) with its new value", async () => {
    const { state, recorder } = flakyRecorder();
    state.up = true;
    const up = new RunUploader(recorder, "r1");
    up.setRun(run);
    up.addSteps([step(1)]);
    await up.drain(1_000);
    up.addSteps([{ ...step(1), loss: 0.5 }]);
    await up.drain(1_000);
    expect(state.steps).toEqual([1, 1]);
    up.close();
  });
});
