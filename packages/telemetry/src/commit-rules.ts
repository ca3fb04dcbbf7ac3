/**
 * Subnet 102's rules for reading miner commitments, as Connito-AI/Connito applies them (commit 0c936fa):
 * connito/shared/chain.py get_chain_commits parses each commitment's text with json.loads and then pydantic
 * (SignedModelHashChainCommit at MinerCommit1 end + 1, MinerChainCommit at MinerCommit2 end + 1); a commit that
 * fails either step is None. checkpoints.py build_chain_checkpoints + filter_checkpoints keep a hotkey with a
 * truthy signed hash ("m") and non-null "h", "v", "e", and "v" within get_allowed_version_range.
 */

/** CycleCfg.cycle_length (a locked 448, not the schedule's length): get_chain_commits' max_weight_age. */
export const MAX_WEIGHT_AGE_BLOCKS = 448;
/** CycleCfg.version_range_cycles: v must lie in [MinerCommit1 start - 3 x cycle length, MinerCommit1 start]. */
export const VERSION_RANGE_CYCLES = 3;

import type { PayloadKind } from "./count-definitions.ts";

type Json = Record<string, unknown>;
type Checked<T> = { ok: true; value: T } | { ok: false; why: string };

function jsonObject(text: string | null): Checked<Json> {
  if (text === null) return { ok: false, why: "not UTF-8 text in a Raw field" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, why: "not JSON" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { ok: false, why: "JSON but not an object" };
  return { ok: true, value: parsed as Json };
}

/** pydantic `int | None` in lax mode: integers, integral floats, bools and decimal-integer strings. */
function laxInt(value: unknown): number | null | undefined {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") return Number.isInteger(value) ? value : undefined;
  if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value.trim());
  return undefined;
}

/** pydantic `str | None`: strings only (numbers are not coerced). */
const strictStr = (value: unknown): string | null | undefined => (value === null || value === undefined ? null : typeof value === "string" ? value : undefined);

/** The signed model hash a MinerCommit1 read yields for this commitment text (SignedModelHashChainCommit). */
export function signedHashOf(text: string | null): Checked<string> {
  const object = jsonObject(text);
  if (!object.ok) return object;
  const m = strictStr(object.value.m);
  if (m === undefined) return { ok: false, why: '"m" is not a string' };
  if (!m) return { ok: false, why: 'no "m" (signed model hash)' };
  return { ok: true, value: m };
}

export interface Submission {
  expertGroup: number;
  modelHash: string;
  version: number;
}

const INT_FIELDS = ["b", "e", "v", "i"] as const;
const STR_FIELDS = ["m", "h", "r", "rv"] as const;

/** The submission a MinerCommit2 read yields (MinerChainCommit, then filter_checkpoints' completeness gate). */
export function submissionOf(text: string | null): Checked<Submission> {
  const object = jsonObject(text);
  if (!object.ok) return object;
  for (const field of INT_FIELDS) if (laxInt(object.value[field]) === undefined) return { ok: false, why: `"${field}" is not an integer` };
  for (const field of STR_FIELDS) if (strictStr(object.value[field]) === undefined) return { ok: false, why: `"${field}" is not a string` };
  const expertGroup = laxInt(object.value.e);
  const version = laxInt(object.value.v);
  const modelHash = strictStr(object.value.h);
  const missing = [modelHash === null ? "h" : null, version === null ? "v" : null, expertGroup === null ? "e" : null].filter(Boolean);
  if (missing.length > 0) return { ok: false, why: `no ${missing.map((f) => `"${f}"`).join(", ")}` };
  return { ok: true, value: { expertGroup: expertGroup!, modelHash: modelHash!, version: version! } };
}

/** What a commitment holds, for the drill-down: a signed hash, a submission, other JSON, or not JSON at all. */
export function payloadKind(hasCommitment: boolean, text: string | null): PayloadKind {
  if (!hasCommitment) return "none";
  if (text === null) return "not-text";
  if (submissionOf(text).ok) return "submission";
  if (signedHashOf(text).ok) return "signed-hash";
  return jsonObject(text).ok ? "other-json" : "not-json";
}

/** get_allowed_version_range for a cycle whose MinerCommit1 starts at `mc1Start`. */
export function allowedVersions(mc1Start: number, cycleLength: number): { min: number; max: number } {
  return { min: mc1Start - cycleLength * VERSION_RANGE_CYCLES, max: mc1Start };
}
