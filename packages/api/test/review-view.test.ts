import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countParameters, estimateMemory, parseModelConfig } from "@subnet-review/core";
import { compareMemory } from "../src/view/memory.ts";
import { ReportedFigures } from "../src/view/reported.ts";
import { startTestApi, type TestApi } from "../src/testing.ts";

// The review view's explanations and choices, through the real api over the test database.
let api: TestApi;
let token: string;
const SLUG = "subnet-102-status-review";

beforeAll(async () => {
  api = await startTestApi();
  token = await api.token("review-view-test");
});
afterAll(async () => {
  await api?.stop();
});

async function run(id: string, cell: "A" | "B" | "C", experiment: string, startedAt: Date, status: "completed" | "failed" | null) {
  const c = api.client(token);
  await c.runs.create.mutate({
    id,
    cell,
    trainable: 8,
    kept: cell === "B" ? 16 : 0,
    steps: 10,
    spec: { lr: 1e-5, seed: 3, model: "/models/DeepSeek-V2-Lite" },
    experts: null,
    hardware: null,
    gitCommit: null,
    experiment: { name: experiment, description: "" },
    startedAt: startedAt.toISOString(),
  });
  await c.runs.appendSteps.mutate({
    runId: id,
    steps: [{ step: 1, loss: 5.99534, gradNorm: 1, lr: 1e-5, tokens: 10, tokensPerSecond: 10, stepSeconds: 1, memAllocatedBytes: null, memPeakBytes: null }],
  });
  if (status)
    await c.runs.finish.mutate({
      runId: id,
      status,
      error: status === "failed" ? "boom" : null,
      finishedAt: new Date(startedAt.getTime() + 1000).toISOString(),
      wallclockSeconds: 1,
      peakMemoryBytes: null,
      tokensPerSecond: null,
      mfu: null,
    });
}

describe("review view", () => {
  it("explains a ≠ with our exact value, its inputs and the gap in published digits", async () => {
    const view = await api.client().review.bySlug.query({ slug: SLUG });
    const backbone = view.sizes.rows.find((r) => r.figure.id === "params.backbone")!;
    expect(backbone.agrees).toBe(false);
    expect(backbone.difference!.delta.value).toBe(861_900_000 - 861_793_792);
    expect(backbone.difference!.why).toMatch(
      /^Ours is exactly 861,793,792 .*total = 15,706,484,224, routedExperts = 14,394,851,328, sharedExperts = 449,839,104\), which rounds to 861\.8 M\. The published 861\.9 M is 106,208 higher \(0\.012%\), one unit in its last printed digit/,
    );
    expect(view.sizes.rows.filter((r) => r.agrees).every((r) => r.difference === null)).toBe(true);
  });

  it("sets each memory estimate beside the published peak and Fits on, and says what differs", async () => {
    const view = await api.client().review.bySlug.query({ slug: SLUG });
    const byCell = Object.fromEntries(view.cells.memory.map((m) => [m.cell, m.compared]));
    expect(byCell.B!.published).toMatchObject({ text: "~28–32 GB", fitsOn: "single A6000", fitsOne: true });
    // priced for the miners' own shape (1 × 4,096 tokens, checkpointing), ours fits where the published peaks fit
    expect(view.cells.memoryAssumptions).toMatchObject({ microBatch: 1, seqLen: 4096, checkpointing: true, gpu: "RTX A6000" });
    expect(byCell.C!).toMatchObject({
      oursFitsOne: true,
      oursOnGpu: "1 × RTX A6000",
      agrees: false,
      published: { text: "~44 GB", fitsOn: "single A6000 (just barely)", fitsOne: true },
    });
    expect(byCell.B!.agrees).toBe(true);
    const c = view.cells.memory.find((m) => m.cell === "C")!;
    // the activations the published peak leaves room for, from the published value and our states
    expect(byCell.C!.impliedActivations!.value).toBeCloseTo(44 - c.statesGB.value, 9);
    expect(byCell.C!.why).toMatch(/^What differs is activations\./);
    expect(byCell.C!.why).not.toContain("fits one");
    // the full fine-tune needs several of the review's GPUs in both
    expect(byCell.full!).toMatchObject({ oursFitsOne: false, published: { fitsOne: false } });
    expect(view.cells.memoryRatio.published!.value).toBe(126 / 21);
  });

  it("says so where ours and the published peak disagree on fitting one GPU, with the largest micro-batch that fits", async () => {
    const model = await api.db.modelConfig.findFirstOrThrow();
    const census = countParameters(parseModelConfig(model.config));
    const shape = { microBatch: 4, seqLen: 2048, checkpointing: true };
    const memory = estimateMemory(census, { trainable: 8, kept: 16, ...shape, gpu: "RTX A6000" });
    const reported = new ReportedFigures(await api.db.reportedFigure.findMany());
    const states = memory.C.figures.find((f) => f.id === "memory.C.statesGB")!;
    const c = compareMemory(census, memory.C, { trainable: 8, kept: 16 }, shape, reported, states);
    expect(c).toMatchObject({ oursFitsOne: false, oursOnGpu: "2 × RTX A6000 (ZeRO-3 / FSDP)", published: { fitsOne: true } });
    expect(c.maxMicroBatch).toBeGreaterThanOrEqual(1);
    expect(c.maxMicroBatch).toBeLessThan(4);
    expect(c.why).toContain(`where the published peak fits one (48 GB); at micro-batch ${c.maxMicroBatch} or less it fits one.`);
  });

  it("shows the latest completed experiment: a newer failed experiment or failed retry never replaces it; ?experiment picks one", async () => {
    const t0 = Date.now();
    for (const cell of ["A", "B", "C"] as const) await run(`done-${cell}`, cell, "esft-done", new Date(t0), "completed");
    await run("done-A-retry", "A", "esft-done", new Date(t0 + 10_000), "failed");
    await run("later-A", "A", "esft-later", new Date(t0 + 20_000), "failed");
    await run("live-A", "A", "esft-live", new Date(t0 + 30_000), null);
    const view = await api.client().review.bySlug.query({ slug: SLUG });
    const runs = view.runs!;
    expect(runs).toMatchObject({ experiment: "esft-done", chosenBy: "latest-completed", newer: [{ cell: "A", runId: "done-A-retry", status: "failed" }] });
    expect(runs.cells.map((c) => [c.cell, c.runId, c.status])).toEqual([
      ["A", "done-A", "completed"],
      ["B", "done-B", "completed"],
      ["C", "done-C", "completed"],
    ]);
    expect(Object.fromEntries(runs.experiments.map((e) => [e.name, e.status]))).toMatchObject({
      "esft-done": "completed",
      "esft-later": "failed",
      "esft-live": "running",
    });
    expect(runs.cells[0]!.params).toMatchObject({ model: "DeepSeek-V2-Lite", lr: 1e-5, seed: 3 });
    expect(runs.cells[0]!.finalLoss!.value).toBe(5.99534);

    const live = (await api.client().review.bySlug.query({ slug: SLUG, experiment: "esft-live" })).runs!;
    expect(live).toMatchObject({ experiment: "esft-live", chosenBy: "request" });
    expect(live.cells[0]!.finalLoss).toBeNull(); // a running run has no final loss yet
    await expect(api.client().review.bySlug.query({ slug: SLUG, experiment: "Bad Name" })).rejects.toThrow(/experiment/);
  });
});
