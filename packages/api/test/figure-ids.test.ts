import type { Figure } from "@subnet-review/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../src/testing.ts";

// One id names one figure: a permalink, a table row or a "computed from" link must not point at two different
// things. And a figure that is derived says from what.

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.stop();
});

function isFigure(x: Record<string, unknown>): x is Record<string, unknown> & Figure {
  return typeof x.id === "string" && typeof x.formula === "string" && typeof x.kind === "string" && typeof x.inputs === "object" && x.inputs !== null;
}

/** Every figure reachable from the view, inputs included. */
function figuresOf(value: unknown): Figure[] {
  const out = new Set<Figure>();
  const seen = new Set<object>();
  const visit = (x: unknown): void => {
    if (typeof x !== "object" || x === null || seen.has(x)) return;
    seen.add(x);
    if (Array.isArray(x)) return x.forEach(visit);
    const o = x as Record<string, unknown>;
    if (isFigure(o)) out.add(o);
    Object.values(o).forEach(visit);
  };
  visit(value);
  return [...out];
}

/** A figure's definition: everything but its inputs' objects, which are named by id. */
const definition = (f: Figure) => JSON.stringify({ ...f, inputs: Object.fromEntries(Object.entries(f.inputs).map(([k, v]) => [k, v.id])) });

/** Leaves state a value rather than derive one: a config.json field, a stated input, an assumed constant, a published or measured value. */
const isLeaf = (f: Figure) =>
  f.kind === "reported" || f.kind === "measured" || /^(config\.json:|transformers default|input:|default:|assumed constant)/.test(f.formula);

describe("figure ids on the review", () => {
  it("name one definition each, and every derived figure has inputs", async () => {
    const view = await api.client().review.bySlug.query({ slug: "subnet-102-status-review" });
    const figures = figuresOf(view);
    expect(figures.length).toBeGreaterThan(50);
    const byId = new Map<string, Set<string>>();
    for (const f of figures) byId.set(f.id, (byId.get(f.id) ?? new Set()).add(definition(f)));
    const twice = [...byId].filter(([, defs]) => defs.size > 1).map(([id, defs]) => `${id}:\n  ${[...defs].join("\n  ")}`);
    expect(twice).toEqual([]);
    const bare = figures.filter((f) => !isLeaf(f) && Object.keys(f.inputs).length === 0).map((f) => `${f.id} (${f.kind}: ${f.formula})`);
    expect(bare).toEqual([]);
    // The memory table prices the same resident figure the size section shows.
    const held = view.sizes.rows.find((r) => r.figure.id === "shard.A.resident")!.figure;
    expect(view.cells.memory.find((m) => m.cell === "A")!.resident).toEqual(held);
  });
});
