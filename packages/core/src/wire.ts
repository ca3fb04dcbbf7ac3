import { figureKinds, units, type Figure } from "./figure.ts";

/**
 * A tRPC data transformer that sends each distinct Figure once. A review's figures share inputs (the per-expert
 * count feeds a dozen others), so sent as plain JSON every input tree is repeated and a review weighs ~180 kB;
 * interned, each figure travels once and the receiver rebuilds the shared graph. Dates and bigints survive the trip.
 *
 * Tags are one-key objects: { $fig: key }, { $date: iso }, { $bigint: digits }. Any user key that starts with "$"
 * is sent with one more "$" ("$date" travels as "$$date"), so user JSON round-trips exactly whatever its keys.
 * Decoding checks the shape and depth of what arrives and throws WireError naming where it is wrong.
 */
type Wire = { f: Record<string, WireFigure>; d: unknown };
type WireFigure = Omit<Figure, "inputs"> & { inputs: Record<string, string> };

/** Deepest nesting decoded by default (objects and arrays, and figure input chains): what the api accepts as input. */
export const WIRE_MAX_DEPTH = 64;
/** Longest $bigint decoded, in digits (2^256 has 78). */
export const WIRE_MAX_BIGINT_DIGITS = 80;

export class WireError extends Error {
  override name = "WireError";
}

const figureKeys = new Set(["id", "label", "value", "unit", "formula", "kind", "inputs", "source"]);
const unitSet = new Set<string>(units);
const kindSet = new Set<string>(figureKinds);

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Exactly a Figure's fields with a Figure's types, its inputs Figures too (memoised: inputs are shared). */
function figureCheck(): (x: unknown) => x is Figure {
  const seen = new WeakMap<object, boolean>();
  const check = (x: unknown): x is Figure => {
    if (!isPlainObject(x)) return false;
    const known = seen.get(x);
    if (known !== undefined) return known;
    seen.set(x, false); // a cycle is not a figure
    const f = x as Partial<Record<keyof Figure, unknown>>;
    const ok =
      Object.keys(x).every((k) => figureKeys.has(k)) &&
      typeof f.id === "string" &&
      typeof f.label === "string" &&
      typeof f.value === "number" &&
      typeof f.formula === "string" &&
      typeof f.unit === "string" &&
      unitSet.has(f.unit) &&
      typeof f.kind === "string" &&
      kindSet.has(f.kind) &&
      (f.source === undefined || typeof f.source === "string") &&
      isPlainObject(f.inputs) &&
      Object.values(f.inputs).every(check);
    seen.set(x, ok);
    return ok;
  };
  return check;
}

const escapeKey = (k: string) => (k.startsWith("$") ? `$${k}` : k);

const encoded = new WeakMap<object, Wire>();

export function serializeFigures(value: unknown): Wire {
  if (typeof value === "object" && value !== null) {
    const hit = encoded.get(value);
    if (hit) return hit;
  }
  // No prototype: a figure id such as "__proto__" is just a key.
  const table = Object.create(null) as Record<string, WireFigure>;
  let tableSize = 0;
  const isFigure = figureCheck();
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
      key = table[f.id] ? `${f.id}~${tableSize}` : f.id;
      table[key] = body;
      tableSize++;
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
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [escapeKey(k), walk(v)]));
  };
  const wire: Wire = { f: table, d: walk(value) };
  if (typeof value === "object" && value !== null) encoded.set(value, wire);
  return wire;
}

const where = (path: readonly (string | number)[]) => (path.length ? path.join(".") : "(top level)");

function wireFigureProblem(w: unknown): string | null {
  if (!isPlainObject(w)) return "must be an object";
  for (const k of Object.keys(w)) if (!figureKeys.has(k)) return `unknown field ${JSON.stringify(k)}`;
  for (const k of ["id", "label", "formula"] as const) if (typeof w[k] !== "string") return `${k} must be a string`;
  if (typeof w.value !== "number") return "value must be a number";
  if (typeof w.unit !== "string" || !unitSet.has(w.unit)) return `unit must be one of ${units.join(", ")}`;
  if (typeof w.kind !== "string" || !kindSet.has(w.kind)) return `kind must be one of ${figureKinds.join(", ")}`;
  if (w.source !== undefined && typeof w.source !== "string") return "source must be a string";
  if (!isPlainObject(w.inputs) || !Object.values(w.inputs).every((v) => typeof v === "string")) return "inputs must map names to figure keys";
  return null;
}

/** Rebuilds what serializeFigures wrote; throws WireError (naming where) for anything it could not have written. */
export function deserializeFigures(wire: unknown, maxDepth = WIRE_MAX_DEPTH): unknown {
  // No "d": the value was undefined (JSON drops it), as a procedure without input sends.
  if (!isPlainObject(wire) || Object.keys(wire).some((k) => k !== "f" && k !== "d")) {
    throw new WireError('expected { "f": { figures }, "d": data } as figureTransformer writes it');
  }
  const table = wire.f ?? {};
  if (!isPlainObject(table)) throw new WireError("f: must be an object of figures by key");
  const built = new Map<string, Figure>();
  const figureOf = (key: string, depth: number): Figure => {
    const hit = built.get(key);
    if (hit) return hit;
    if (!Object.hasOwn(table, key)) throw new WireError(`f: figure ${JSON.stringify(key)} is referenced but not sent`);
    if (depth > maxDepth) throw new WireError(`f.${key}: figure inputs nested deeper than ${maxDepth}`);
    const w = table[key];
    const problem = wireFigureProblem(w);
    if (problem) throw new WireError(`f.${key}: ${problem}`);
    const { inputs, ...rest } = w as WireFigure;
    const f: Figure = { ...rest, inputs: {} };
    built.set(key, f);
    for (const [name, inputKey] of Object.entries(inputs)) f.inputs[name] = figureOf(inputKey, depth + 1);
    return f;
  };
  const tag = (o: Record<string, unknown>, path: (string | number)[]): unknown => {
    const [k] = Object.keys(o);
    const v = o[k!];
    if (typeof v !== "string") throw new WireError(`${where(path)}: ${k} must be a string`);
    if (k === "$fig") return figureOf(v, 0);
    if (k === "$date") {
      const date = new Date(v);
      if (v.length > 40 || Number.isNaN(date.getTime())) throw new WireError(`${where(path)}: $date must be an ISO date`);
      return date;
    }
    if (!new RegExp(`^-?\\d{1,${WIRE_MAX_BIGINT_DIGITS}}$`).test(v)) {
      throw new WireError(`${where(path)}: $bigint must be an integer of at most ${WIRE_MAX_BIGINT_DIGITS} digits`);
    }
    return BigInt(v);
  };
  const walk = (x: unknown, path: (string | number)[]): unknown => {
    if (typeof x !== "object" || x === null) return x;
    if (path.length > maxDepth) throw new WireError(`${where(path.slice(0, 8))}…: nested deeper than ${maxDepth}`);
    if (Array.isArray(x)) return x.map((v, i) => walk(v, [...path, i]));
    const o = x as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && (keys[0] === "$fig" || keys[0] === "$date" || keys[0] === "$bigint")) return tag(o, path);
    return Object.fromEntries(
      keys.map((k) => {
        if (k.startsWith("$") && !k.startsWith("$$")) {
          throw new WireError(
            `${where([...path, k])}: keys starting with "$" travel escaped as "$${k}"; only $fig, $date and $bigint are tags, alone in their object`,
          );
        }
        return [k.startsWith("$") ? k.slice(1) : k, walk(o[k], [...path, k])];
      }),
    );
  };
  return walk(wire.d, []);
}

/**
 * Clients decode answers with twice the input bound: an answer nests what was accepted as input (a run's spec) a few
 * levels down.
 */
export const figureTransformer = { serialize: serializeFigures, deserialize: (wire: unknown) => deserializeFigures(wire, 2 * WIRE_MAX_DEPTH) };
