import { countParameters, estimateMemory, parseModelConfig } from "@subnet-review/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../src/testing.ts";
import { downsampleLoss } from "../src/view/runs.ts";

let api: TestApi;
let token: string;
const client = (auth?: string) => api.client(auth);

const liteConfig = async () => (await api.db.modelConfig.findFirstOrThrow()).config as Record<string, unknown>;
const step = (n: number, loss = 3 - n / 1000) => ({
  step: n,
  loss,
  gradNorm: 1,
  lr: 1e-5,
  tokens: 8192,
  tokensPerSecond: 20_000,
  stepSeconds: 0.41,
  memAllocatedBytes: 20 * 2 ** 30,
  memPeakBytes: 25 * 2 ** 30,
});

beforeAll(async () => {
  api = await startTestApi();
  token = await api.token("runs-test");
});
afterAll(async () => {
  await api?.stop();
});

async function createRun(id: string, cell: "A" | "B" | "C") {
  await client(token).runs.create.mutate({
    id,
    cell,
    trainable: 8,
    kept: cell === "B" ? 16 : 0,
    steps: 1234,
    spec: { batch: 4, seq: 2048, activationCheckpointing: true, dtype: "bf16", optimizerStateDtype: "bf16", modelConfig: await liteConfig() },
    experts: { trainable: { "1": [0, 1, 2, 3, 4, 5, 6, 7] }, kept: {} },
    hardware: { device: "cuda", device_name: "NVIDIA H100 80GB HBM3" },
    gitCommit: "0".repeat(40),
    experiment: { name: "esft-cells-gsm8k", description: "ignored: the experiment exists" },
    startedAt: new Date().toISOString(),
  });
}

describe("runs router", () => {
  it("records each run's routing mode and k; a trainer that predates them leaves both null", async () => {
    const base = {
      trainable: 8,
      kept: 0,
      steps: 10,
      spec: {},
      experts: null,
      hardware: null,
      gitCommit: null,
      experiment: null,
      startedAt: new Date().toISOString(),
    };
    await client(token).runs.create.mutate({ ...base, id: "run-routing-A", cell: "A", routingMode: "subnet", topK: 1 });
    await client(token).runs.create.mutate({ ...base, id: "run-routing-C", cell: "C", routingMode: "natural", topK: 2 });
    await client(token).runs.create.mutate({ ...base, id: "run-routing-old", cell: "A" });
    const rows = await api.db.trainingRun.findMany({ where: { id: { startsWith: "run-routing-" } }, orderBy: { id: "asc" } });
    expect(rows.map((r) => [r.id, r.routingMode, r.topK])).toEqual([
      ["run-routing-A", "subnet", 1],
      ["run-routing-C", "natural", 2],
      ["run-routing-old", null, null],
    ]);
    await expect(client(token).runs.create.mutate({ ...base, id: "run-routing-bad", cell: "A", routingMode: "masked" as "subnet" })).rejects.toThrow(
      /routingMode/,
    );
  });

  it("refuses writes without a token, and steps for a run that does not exist", async () => {
    await expect(client().runs.appendSteps.mutate({ runId: "x", steps: [step(1)] })).rejects.toThrow(/writes need an API token/);
    await expect(client(token).runs.appendSteps.mutate({ runId: "nope", steps: [step(1)] })).rejects.toThrow(/runId: no run nope/);
    await expect(client(token).runs.appendSteps.mutate({ runId: "bad id!", steps: [step(1)] })).rejects.toThrow(/letters, digits/);
  });

  it("upserts steps by (run, step): a replayed batch leaves one row per step with the latest value", async () => {
    await createRun("run-idem", "A");
    await client(token).runs.appendSteps.mutate({ runId: "run-idem", steps: [step(1), step(2)] });
    await client(token).runs.appendSteps.mutate({ runId: "run-idem", steps: [step(2, 1.5), step(3)] });
    const steps = await client().runs.steps.query({ runId: "run-idem" });
    expect(steps.map((s) => [s.step, s.loss])).toEqual([
      [1, 2.999],
      [2, 1.5],
      [3, 2.997],
    ]);
    expect(steps[0]!.memPeakBytes).toBe(25 * 2 ** 30);
  });

  it("puts the latest run per cell of the review's experiment into the view, measured beside core's estimate", async () => {
    for (const cell of ["A", "B", "C"] as const) {
      await createRun(`run-${cell}`, cell);
      const steps = Array.from({ length: 1234 }, (_, i) => step(i + 1));
      for (let i = 0; i < steps.length; i += 1000) await client(token).runs.appendSteps.mutate({ runId: `run-${cell}`, steps: steps.slice(i, i + 1000) });
      await client(token).runs.finish.mutate({
        runId: `run-${cell}`,
        status: "completed",
        error: null,
        finishedAt: new Date().toISOString(),
        wallclockSeconds: 3600,
        peakMemoryBytes: 25 * 2 ** 30,
        tokensPerSecond: 20_000,
        mfu: 0.27,
      });
    }
    const listed = await client().runs.byExperiment.query({ name: "esft-cells-gsm8k" });
    expect(listed.experiment.description).toMatch(/^All three cells/);
    expect(listed.runs.find((r) => r.id === "run-B")).toMatchObject({ status: "completed", recordedSteps: 1234, peakMemoryBytes: 25 * 2 ** 30 });

    const view = await client().review.bySlug.query({ slug: "subnet-102-status-review" });
    const a = view.runs!.cells.find((c) => c.cell === "A")!;
    expect(view.runs!.cells.map((c) => c.runId)).toEqual(["run-A", "run-B", "run-C"]); // run-idem (A) is older
    expect(a.loss.length).toBeLessThanOrEqual(500);
    expect(a.stepsPerPoint).toBe(3);
    expect(a.loss.at(-1)!.step).toBe(1234);
    expect(a).toMatchObject({
      gpu: true,
      peakGiB: { value: 25, unit: "GiB", kind: "measured" },
      mfu: { value: 27, unit: "percent", kind: "measured" },
      wallclock: { value: 3600, kind: "measured" },
    });
    // core's estimate for cell A at the run's own shape: K=8, 4 × 2048, bf16 weights and AdamW states, checkpointing
    const census = countParameters(parseModelConfig(await liteConfig()));
    const shape = {
      trainable: 8,
      kept: 0,
      bytesPerWeight: 2,
      bytesPerGrad: 2,
      bytesPerOptimizerState: 4,
      bytesPerActivation: 2,
      microBatch: 4,
      seqLen: 2048,
      checkpointing: true,
    };
    expect(a.estimatedGiB!.value).toBeCloseTo(estimateMemory(census, shape).A.totalGiB, 9);
    expect(a.estimatedGiB!.inputs.totalGB!.kind).toBe("estimated");
  });
});

describe("downsampleLoss", () => {
  it("keeps short curves and averages long ones into at most 500 buckets ending at their last step", () => {
    const short = Array.from({ length: 500 }, (_, i) => ({ step: i + 1, loss: i }));
    expect(downsampleLoss(short)).toEqual({ points: short, perPoint: 1 });
    const long = Array.from({ length: 1001 }, (_, i) => ({ step: i + 1, loss: i }));
    const { points, perPoint } = downsampleLoss(long);
    expect(perPoint).toBe(3);
    expect(points).toHaveLength(334);
    expect(points[0]).toEqual({ step: 3, loss: 1 });
    expect(points.at(-1)).toEqual({ step: 1001, loss: 999.5 }); // the last bucket holds steps 1000 and 1001
  });
});
