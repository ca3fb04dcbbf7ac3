import { describe, expect, it } from "vitest";
import { deserializeFigures, figure, serializeFigures, WireError, type Figure } from "../src/index.ts";

const experts = figure({
  id: "config.n_routed_experts",
  label: "experts",
  value: 64,
  unit: "count",
  formula: "config.json: n_routed_experts",
  kind: "computed",
});
const perExpert = figure({ id: "params.perExpert", label: "per expert", value: 8_650_752, unit: "params", formula: "3 × h × i", kind: "computed" });
const routed = figure({
  id: "params.routed",
  label: "routed",
  value: 64 * 26 * 8_650_752,
  unit: "params",
  formula: "E × L × per expert",
  kind: "computed",
  inputs: { experts, perExpert },
});

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

describe("figureTransformer with any user JSON", () => {
  const trip = (v: unknown) => deserializeFigures(JSON.parse(JSON.stringify(serializeFigures(v))));

  it("round-trips keys named like its tags, and any key starting with $", () => {
    const user = {
      $date: "2026-01-01T00:00:00Z",
      $bigint: "12",
      $fig: "params.total",
      $$date: 1,
      $: null,
      nested: [{ $date: { $bigint: ["$fig"] } }, { $fig: 3 }],
      "": "empty key",
      ["__proto__"]: { polluted: true },
      constructor: "c",
    };
    const parsed = JSON.parse(JSON.stringify(user)) as unknown;
    const back = trip(parsed);
    expect(JSON.stringify(back)).toBe(JSON.stringify(parsed));
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it("round-trips an object shaped like a figure with a figure id no prototype key can shadow", () => {
    const f = figure({ id: "__proto__", label: "x", value: 1, unit: "count", formula: "1", kind: "computed" });
    const g = figure({ id: "constructor", label: "y", value: 2, unit: "count", formula: "x + 1", kind: "computed", inputs: { f } });
    expect(trip({ g })).toEqual({ g });
    // Near-figures (an extra field, an unknown unit) are plain data and come back as they went.
    const near = [
      { ...f, extra: 1 },
      { ...f, unit: "furlongs" },
      { ...f, inputs: { a: 1 } },
    ];
    expect(trip(near)).toEqual(near);
  });

  const bad: [string, unknown, RegExp][] = [
    ["not a wire object", { slug: "x" }, /expected \{ "f"/],
    ["a bare array", [1], /expected/],
    ["an unescaped $ key", { f: {}, d: { a: { $where: 1 } } }, /^a\.\$where: keys starting with "\$" travel escaped/],
    ["a tag beside other keys", { f: {}, d: { $date: "2026-01-01", x: 1 } }, /\$date: keys starting/],
    ["a non-string tag", { f: {}, d: { $fig: 1 } }, /\$fig must be a string/],
    ["an invalid date", { f: {}, d: { at: { $date: "yesterday" } } }, /^at: \$date must be an ISO date/],
    ["a huge bigint", { f: {}, d: { n: { $bigint: "9".repeat(81) } } }, /^n: \$bigint must be an integer of at most 80 digits/],
    ["a bigint with letters", { f: {}, d: { $bigint: "0x10" } }, /\$bigint must be an integer/],
    ["a missing figure", { f: {}, d: { $fig: "params.total" } }, /figure "params.total" is referenced but not sent/],
    ["a prototype figure key", { f: {}, d: { $fig: "constructor" } }, /referenced but not sent/],
    [
      "a malformed figure",
      { f: { x: { id: "x", label: "x", value: "1", unit: "count", formula: "", kind: "computed", inputs: {} } }, d: { $fig: "x" } },
      /^f\.x: value must be a number/,
    ],
    [
      "a figure with an unknown unit",
      { f: { x: { id: "x", label: "x", value: 1, unit: "furlongs", formula: "", kind: "computed", inputs: {} } }, d: { $fig: "x" } },
      /unit must be one of/,
    ],
    ["deep nesting", { f: {}, d: JSON.parse("[".repeat(10_000) + "]".repeat(10_000)) }, /nested deeper than 64/],
  ];
  it.each(bad)("refuses %s with a WireError naming where", (_what, wire, message) => {
    let thrown: unknown;
    try {
      deserializeFigures(wire);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(WireError);
    expect((thrown as Error).message).toMatch(message);
  });

  it("refuses a figure input chain deeper than 64", () => {
    const f: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++)
      f[`k${i}`] = { id: `k${i}`, label: "", value: i, unit: "count", formula: "", kind: "computed", inputs: i < 199 ? { next: `k${i + 1}` } : {} };
    expect(() => deserializeFigures({ f, d: { $fig: "k0" } })).toThrow(/nested deeper than 64/);
  });
});
