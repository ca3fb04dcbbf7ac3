import { describe, expect, it } from "vitest";
import { countParameters, estimateThroughput, figure, formatFigure, parseModelConfig, throughputFigures, trainingFlopsPerToken } from "../src/index.ts";
import { fixture } from "./fixtures.ts";

const published = { gpuTokensPerSecond: 7500, multiplier: 3, cycleBlocks: 524, windowHours: 365.2 };

describe("throughput (section 02)", () => {
  it("reproduces the published figures", () => {
    const t = estimateThroughput(published);
    expect(t.tokensPerSecond).toBe(22_500);
    expect(t.hoursPerRound).toBeCloseTo((524 * 12) / 3600, 12);
    expect(t.tokensPerRound).toBe(141_480_000);
    expect(t.rounds).toBeCloseTo(209.08, 2);
    expect(t.figures.map((f) => formatFigure(f))).toEqual(["7,500", "3", "22,500", "524", "12", "1.747", "141,480,000", "365.2", "209.1"]);
  });
  it("orders the rows and states formulas in words", () => {
    const rows = throughputFigures(published);
    expect(rows.map((f) => f.id)).toEqual([
      "throughput.gpuTokensPerSecond",
      "throughput.multiplier",
      "throughput.tokensPerSecond",
      "throughput.cycleBlocks",
      "throughput.blockSeconds",
      "throughput.hoursPerRound",
      "throughput.tokensPerRound",
      "throughput.windowHours",
      "throughput.rounds",
    ]);
    const byId = Object.fromEntries(rows.map((f) => [f.id, f]));
    expect(byId["throughput.hoursPerRound"]!.formula).toBe("cycle_length 524 blocks × 12 s / 3600");
    expect(byId["throughput.rounds"]!.formula).toBe("window_hours / hours_per_round");
    expect(byId["throughput.tokensPerRound"]!.formula).toBe("tokens/s × hours per round × 3600");
    expect(byId["throughput.tokensPerSecond"]!.inputs.gpuTokensPerSecond!.value).toBe(7500);
    expect(byId["throughput.blockSeconds"]!.formula).toBe("default: Block time = 12");
  });
  it("accepts Figures as inputs and keeps their provenance", () => {
    const measured = figure({
      id: "run.tps",
      label: "Measured tokens/s",
      value: 17_310,
      unit: "tokens/s",
      formula: "median of 6 steps",
      kind: "measured",
      source: "H100 run",
    });
    const t = estimateThroughput({ ...published, gpuTokensPerSecond: measured, multiplier: 1 });
    expect(t.tokensPerSecond).toBe(17_310);
    expect(t.figures[0]).toBe(measured);
    expect(t.figures[2]!.inputs.gpuTokensPerSecond!.kind).toBe("measured");
  });
  it("takes another block time", () => {
    expect(estimateThroughput({ ...published, blockSeconds: 6 }).hoursPerRound).toBeCloseTo((524 * 6) / 3600, 12);
  });
});

describe("training FLOPs per token", () => {
  const lite = countParameters(parseModelConfig(fixture("DeepSeek-V2-Lite")));
  it("cell A: forward 2 × 2.45 B + attention, backward activations the same again (attention twice), weight grads of the routed experts", () => {
    const f = trainingFlopsPerToken(lite, { cell: "A", trainable: 8, kept: 16, seqLen: 2048 });
    expect(f.matmulParams).toBe(2_451_435_008);
    expect(f.trainableMatmulParams).toBe(6 * 26 * 8_650_752);
    expect(f.attentionForward).toBe(27 * 16 * 2048 * (192 + 128));
    expect(f.forward).toBe(2 * f.matmulParams + f.attentionForward);
    expect(f.modelFlops).toBe(f.forward + 2 * f.matmulParams + 2 * f.attentionForward + 2 * f.trainableMatmulParams);
    expect(f.modelFlops / 1e9).toBeCloseTo(13.35, 1);
    expect(f.sixN).toBe(6 * f.matmulParams);
    expect(f.recompute).toBe(0);
    expect(formatFigure(f.figures.find((x) => x.id === "flops.A.modelFlops")!)).toBe("13.4 GFLOP");
  });
  it("checkpointing adds one forward of recomputation", () => {
    const f = trainingFlopsPerToken(lite, { cell: "A", trainable: 8, kept: 16, checkpointing: true });
    expect(f.hardwareFlops - f.modelFlops).toBe(f.forward);
  });
  it("cells differ only in the weight gradients; full fine-tune trains every weight", () => {
    const a = trainingFlopsPerToken(lite, { cell: "A", trainable: 8, kept: 16 });
    const b = trainingFlopsPerToken(lite, { cell: "B", trainable: 8, kept: 16 });
    const c = trainingFlopsPerToken(lite, { cell: "C", trainable: 8, kept: 16 });
    const full = trainingFlopsPerToken(lite, { cell: "full", trainable: 8, kept: 16 });
    expect(b.forward).toBe(a.forward);
    expect(c.forward).toBe(a.forward);
    expect(b.trainableMatmulParams).toBeCloseTo(((6 * 8) / 24) * 26 * 8_650_752, 0);
    expect(c.trainableMatmulParams).toBeCloseTo(((6 * 8) / 64) * 26 * 8_650_752, 0);
    expect(full.trainableMatmulParams).toBe(full.matmulParams);
    expect(a.modelFlops).toBeGreaterThan(b.modelFlops);
    expect(full.modelFlops).toBeGreaterThan(a.modelFlops);
  });
  it("fewer routable experts than top-k reach fewer experts", () => {
    const f = trainingFlopsPerToken(lite, { cell: "A", trainable: 4, kept: 0 });
    expect(f.matmulParams).toBe(2_451_435_008 - 2 * 26 * 8_650_752);
  });
  it("tied output heads still cost a matmul", () => {
    const q = countParameters(parseModelConfig(fixture("Qwen2-0.5B")));
    const f = trainingFlopsPerToken(q, { cell: "full", trainable: 0, kept: 0 });
    expect(f.matmulParams).toBe(q.total);
  });
});
