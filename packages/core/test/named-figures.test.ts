import { describe, expect, it } from "vitest";
import { cells, countParameters, estimateMemory, estimateThroughput, modelSizes, parseModelConfig } from "../src/index.ts";
import { readFileSync } from "node:fs";

const lite = countParameters(parseModelConfig(JSON.parse(readFileSync(new URL("../../db/seed/deepseek-v2-lite.config.json", import.meta.url), "utf8"))));

describe("figures by name", () => {
  it("memory: each named figure is the listed one with that id", () => {
    const m = estimateMemory(lite, { trainable: 8, kept: 16 });
    for (const cell of cells) {
      const { gpusNeeded, ...named } = m[cell].figure;
      for (const [name, f] of Object.entries(named)) {
        expect(f.id).toBe(`memory.${cell}.${name}`);
        expect(m[cell].figures).toContain(f);
      }
      expect(gpusNeeded?.id ?? null).toBe(m[cell].gpusNeeded === null ? null : `memory.${cell}.gpusNeeded`);
      expect(m[cell].figure.totalGB.value).toBe(m[cell].totalGB);
    }
  });

  it("throughput: named in the listed order, ids throughput.<name>", () => {
    const t = estimateThroughput({ gpuTokensPerSecond: 7500, multiplier: 3, cycleBlocks: 524, windowHours: 365.2 });
    expect(Object.values(t.figure)).toEqual(t.figures);
    for (const [name, f] of Object.entries(t.figure)) expect(f.id).toBe(`throughput.${name}`);
    expect(t.figure.tokensPerSecond.value).toBe(t.tokensPerSecond);
  });

  it("model sizes: the census's and the shard's figures are the listed objects", () => {
    const s = modelSizes(lite, { trainable: 8, kept: 16 });
    expect(s.figures).toContain(s.census.total);
    expect(s.figures).toContain(s.shard!.trainable);
    expect(s.figures).toContain(s.shard!.residentOf.A);
    expect(s.census).toBe(lite.figures);
  });
});
