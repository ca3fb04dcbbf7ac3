import type { Figure } from "./figure.ts";

/**
 * A tRPC data transformer that sends each distinct Figure once. A review's figures share inputs (the per-expert
 * count feeds a dozen others), so sent as plain JSON every input tree is repeated and a review weighs ~180 kB;
 * interned, each figure travels once and the receiver rebuilds the shared graph. Dates survive the trip.
 */
type Wire = { f: Record<string, WireFigure>; d: unknown };
type WireFigure = Omit<Figure, "inputs"> & { inputs: Record<string, string> };

function isFigure(x: object): x is Figure {
  const f = x as Partial<Figure>;
  return typeof f.id === "string" && typeof f.value === "number" && typeof f.formula === "string" && typeof f.kind === "string" && typeof f.inputs === "object";
}

const encoded = new WeakMap<object, Wire>();

export function serializeFigures(value: unknown): Wire {
  if (typeof value === "object" && value !== null) {
    const hit = encoded.get(value);
    if (hit) return hit;
  }
  const table: Record<string, WireFigure> = {};
  const keyOf = new Map<Figure, string>();
  const bySignature = new Map<string, string>();
  const intern = (f: Figure): string => {
    const known = keyOf.get(f);
    if (known) return known;
    const inputs = Object.fromEntries(Object.entries(f.inputs).map(([name, input]) => [name, intern(input)]));
    const body: WireFigure = { ...f, inputs };
    // Equal content, equal key: distinct objects describing the same figure are sent once.
    const signature = JSON.stringify(body);
    let key = bySignature.get(signature);
    if (!key) {
      key = table[f.id] ? `${f.id}~${Object.keys(table).length}` : f.id;
      table[key] = body;
      bySignature.set(signature, key);
    }
    keyOf.set(f, key);
    return key;
  };
  const walk = (x: unknown): unknown => {
    if (x instanceof Date) return { $date: x.toISOString() };
    if (Array.isArray(x)) return x.map(walk);
    if (typeof x === "bigint") return { $bigint: x.toString() };
    if (typeof x !== "object" || x === null) return x;
    if (isFigure(x)) return { $fig: intern(x) };
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, walk(v)]));
  };
  const wire: Wire = { f: table, d: walk(value) };
  if (typeof value === "object" && value !== null) encoded.set(value, wire);
  return wire;
}

export function deserializeFigures(wire: unknown): unknown {
  const { f: table, d } = wire as Wire;
  const built = new Map<string, Figure>();
  const figureOf = (key: string): Figure => {
    const hit = built.get(key);
    if (hit) return hit;
    const w = table[key];
    if (!w) throw new Error(`figure ${key} missing from the response`);
    const f: Figure = { ...w, inputs: {} };
    built.set(key, f);
    for (const [name, inputKey] of Object.entries(w.inputs)) f.inputs[name] = figureOf(inputKey);
    return f;
  };
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (typeof x !== "object" || x === null) return x;
    const o = x as Record<string, unknown>;
    if (typeof o.$fig === "string") return figureOf(o.$fig);
    if (typeof o.$date === "string") return new Date(o.$date);
    if (typeof o.$bigint === "string") return BigInt(o.$bigint);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, walk(v)]));
  };
  return walk(d);
}

export const figureTransformer = { serialize: serializeFigures, deserialize: deserializeFigures };
