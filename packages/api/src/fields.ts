import { z } from "zod";

// Input fields as the database can hold them: checked at the edge, named in the error, never a Postgres failure.

export const INT32_MAX = 2_147_483_647;

/** An integer for a Postgres `integer` column: beyond 2^31 − 1 it is refused here, not by the database. */
export function int32(min = 0) {
  return z.number().int().min(min).max(INT32_MAX, `at most ${INT32_MAX} (the largest value its 32-bit column holds)`);
}

/** A refusal of one input field, reported in the error's `fields` like a zod issue. */
export class FieldError extends Error {
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

/**
 * Where the first NUL character is in a decoded input (in a string or an object key), or null. PostgreSQL text and
 * jsonb cannot store U+0000, so such input is refused for every procedure before it reaches a query.
 */
export function nulCharacterPath(value: unknown, path: (string | number)[] = []): (string | number)[] | null {
  if (typeof value === "string") return value.includes("\u0000") ? path : null;
  if (typeof value !== "object" || value === null) return null;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const at = nulCharacterPath(v, [...path, i]);
      if (at) return at;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k.includes("\u0000")) return [...path, k.replaceAll("\u0000", "\\u0000")];
    const at = nulCharacterPath(v, [...path, k]);
    if (at) return at;
  }
  return null;
}
