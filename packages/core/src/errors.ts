import type { z } from "zod";
import { groupedNumber } from "./digits.ts";

/**
 * Thrown for any bad input to core. `field` is the path of the offending value, e.g.
 * "config.n_routed_experts", "config.model_type", "trainable", "microBatch"; `detail` says what is
 * allowed (and what was given). `message` is "<field>: <detail>".
 */
export class InputError extends Error {
  readonly field: string;
  readonly detail: string;
  constructor(field: string, detail: string) {
    super(`${field}: ${detail}`);
    this.name = "InputError";
    this.field = field;
    this.detail = detail;
  }
}

export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : String(v);
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : String(v);
}

/** "an integer from 1 to 262,144" style wording for limits. */
export function intRange(min: number, max: number): string {
  return `an integer from ${groupedNumber(min)} to ${groupedNumber(max)}`;
}

/** Parse with zod; on failure throw InputError for the first issue, its path prefixed. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, prefix: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = [prefix, ...issue.path.map(String)].filter((p) => p !== "").join(".");
  throw new InputError(path || prefix, issue.message);
}
