import { mulberry32 } from "@subnet-review/core";

/**
 * Deterministic shuffle: Fisher-Yates from the last index down, drawing j = floor(u * (i + 1))
 * with u from mulberry32(seed). Documented in FORMAT.md so the order can be reproduced elsewhere.
 */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const random = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
