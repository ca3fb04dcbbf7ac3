import * as z from "zod";
import { describeValue, intRange } from "./errors.ts";
import { groupedNumber } from "./digits.ts";

type IssueLike = { input?: unknown };

function messenger(allowed: string) {
  return (iss: IssueLike) => (iss.input === undefined ? `required: ${allowed}` : `must be ${allowed}; got ${describeValue(iss.input)}`);
}

/** An integer in [min, max]; messages name the allowed range and the value given. */
export function intField(min: number, max: number, what?: string) {
  const err = messenger(`${intRange(min, max)}${what ? ` (${what})` : ""}`);
  return z.number({ error: err }).int({ error: err }).min(min, { error: err }).max(max, { error: err });
}

/** A finite number in (min, max] (or [min, max] with inclusiveMin). */
export function numField(min: number, max: number, opts: { inclusiveMin?: boolean; what?: string } = {}) {
  const lo = opts.inclusiveMin ? `at least ${min}` : `greater than ${min}`;
  const err = messenger(`a number ${lo} and at most ${groupedNumber(max)}${opts.what ? ` (${opts.what})` : ""}`);
  const base = z.number({ error: err });
  return (opts.inclusiveMin ? base.min(min, { error: err }) : base.gt(min, { error: err })).max(max, { error: err });
}

export function boolField(what?: string) {
  return z.boolean({ error: messenger(`true or false${what ? ` (${what})` : ""}`) });
}
