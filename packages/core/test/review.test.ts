import { describe, expect, it } from "vitest";
import {
  countParameters,
  figureSchema,
  formatFigure,
  memoryFigures,
  modelSizeFigures,
  parseModelConfig,
  throughputFigures,
  type Figure,
} from "../src/index.ts";
import { fixture, fixtures } from "./fixtures.ts";

const cfg = parseModelConfig(fixture("DeepSeek-V2-Lite"));

function walk(f: Figure, seen: (f: Figure) => void) {
  seen(f);
  for (const i of Object.values(f.inputs)) walk(i, seen);
}

describe("section 01: model & shard sizes (DeepSeek-V2-Lite, K = 8, N = 16)", () => {
  const rows = modelSizeFigures(cfg, { trainable: 8, kept: 16 });
  it("rows in order with the published values", () => {
    expect(rows.map((f) => [f.id, formatFigure(f)])).toEqual([
      ["params.total", "15.71 B"],
      ["params.routedExperts", "14.39 B"],
      ["params.perExpert", "8.7 M"],
      ["params.sharedExperts", "449.8 M"],
      ["params.backbone", "861.8 M"],
      ["params.activePerToken", "2.66 B"],
      ["shard.trainable", "1.80 B"],
      ["shard.A.resident", "3.11 B"],
      ["shard.B.resident", "6.71 B"],
      ["shard.C.resident", "15.71 B"],
      ["shard.A.parked", "12.60 B"],
    ]);
    expect(rows.map((f) => f.value).slice(0, 5)).toEqual([15_706_484_224, 14_394_851_328, 8_650_752, 449_839_104, 861_793_792]);
    expect(rows[6]!.value).toBe(1_799_356_416);
    expect(rows[7]!.value).toBe(3_108_007_424);
    expect(rows[8]!.value).toBe(6_707_572_224);
  });
  it("formulas in words", () => {
    const byId = Object.fromEntries(rows.map((f) => [f.id, f.formula]));
    expect(byId["params.sharedExperts"]).toBe("n_shared=2 × 26 MoE layers × per-expert params");
    expect(byId["params.perExpert"]).toBe("3 matrices (gate, up, down) × hidden_size 2048 × moe_intermediate_size 1408");
    expect(byId["shard.trainable"]).toBe("K=8 × 26 MoE layers × per-expert params");
    expect(byId["params.backbone"]).toBe("total − routed experts − shared experts");
  });
  it("accepts a census as well as a config", () => {
    expect(modelSizeFigures(countParameters(cfg), { trainable: 8, kept: 16 })).toEqual(rows);
  });
});

describe("memory table", () => {
  it("A 17.0, B 24.2, C 42.2, full 125.7 GB before activations", () => {
    const rows = memoryFigures(cfg, { trainable: 8, kept: 16 });
    const states = rows.filter((f) => f.id.endsWith(".statesGB")).map((f) => [f.id, formatFigure(f)]);
    expect(states).toEqual([
      ["memory.A.statesGB", "17.0 GB"],
      ["memory.B.statesGB", "24.2 GB"],
      ["memory.C.statesGB", "42.2 GB"],
      ["memory.full.statesGB", "125.7 GB"],
    ]);
    expect(rows).toHaveLength(12);
    expect(rows.find((f) => f.id === "memory.full.statesGB")!.formula).toBe("15.706 B × (2 + 2 + 4) bytes");
  });
});

describe("every figure is a valid Figure with provenance", () => {
  for (const name of Object.keys(fixtures) as (keyof typeof fixtures)[]) {
    it(name, () => {
      const c = countParameters(parseModelConfig(fixture(name)));
      const moe = c.routedExpertsPerLayer > 0;
      const K = moe ? Math.min(8, c.routedExpertsPerLayer) : 0;
      const N = moe ? Math.min(16, c.routedExpertsPerLayer - K) : 0;
      const all = [
        ...Object.values(c.figures),
        ...modelSizeFigures(c, { trainable: K, kept: N }),
        ...memoryFigures(c, { trainable: K, kept: N }),
        ...throughputFigures({ gpuTokensPerSecond: 7500, multiplier: 3, cycleBlocks: 524, windowHours: 365.2 }),
      ];
      for (const top of all)
        walk(top, (f) => {
          expect(figureSchema.safeParse(f).success).toBe(true);
          expect(f.formula.trim().length).toBeGreaterThan(0);
          expect(formatFigure(f)).not.toBe("—");
        });
      // figures survive JSON (the web app recomputes client-side and the API ships them)
      expect(JSON.parse(JSON.stringify(all))).toEqual(all);
    });
  }
});
