import { describe, expect, it } from "vitest";
import { deserializeFigures, figure, serializeFigures, type Figure } from "../src/index.ts";

const experts = figure({ id: "config.n_routed_experts", label: "experts", value: 64, unit: "count", formula: "config.json: n_routed_experts", kind: "computed" });
const perExpert = figure({ id: "params.perExpert", label: "per expert", value: 8_650_752, unit: "params", formula: "3 × h × i", kind: "computed" });
const routed = figure({ id: "params.routed", label: "routed", value: 64 * 26 * 8_650_752, unit: "params", formula: "E × L × per expert", kind: "computed", inputs: { experts, perExpert } });

describe("figureTransformer", () => {
  it("round-trips figures, dates, bigints and plain data, sending each distinct figure once", () => {
    const value = { rows: [routed, perExpert], card: routed, at: new Date("2026-11-25T00:00:00Z"), peak: 123n, n: 3, s: "x", nothing: null };
    const wire = serializeFigures(value);
    expect(Object.keys(wire.f).sort()).toEqual(["config.n_routed_experts", "params.perExpert", "params.routed"]);
    const back = deserializeFigures(JSON.parse(JSON.stringify(wire))) as typeof value;
    expect(back).toEqual(value);
    expect(back.at).toBeInstanceOf(Date);
    // The shared graph is rebuilt: one object per figure.
    expect(back.card).toBe(back.rows[0]);
    expect(back.rows[0]!.inputs.perExpert).toBe(back.rows[1]);
  });

  it("keeps two different figures that share an id apart", () => {
    const a: Figure = { ...perExpert, value: 1 };
    const b: Figure = { ...perExpert, value: 2 };
    const back = deserializeFigures(JSON.parse(JSON.stringify(serializeFigures([a, b])))) as Figure[];
    expect(back.map((f) => f.value)).toEqual([1, 2]);
  });
});
