import type { Cell, TrainedCell } from "@subnet-review/core";

/** A count or index as the page writes it: "15,702". */
export function formatCount(v: number): string {
  return v.toLocaleString("en-US");
}

/** "+0.1 pp" / "-0.5 pp". */
export function formatPoints(delta: number): string {
  return `${delta > 0 ? "+" : delta < 0 ? "−" : "±"}${Math.abs(delta).toFixed(1)} pp`;
}

export const cellNames = {
  A: "A · in-place ESFT",
  B: "B · frozen-kept",
  C: "C · ESFT-classic",
  full: "Full fine-tune",
  base: "Base",
} as const satisfies Record<Cell | "base", string>;

export const cellColors = { A: "var(--a)", B: "var(--b)", C: "var(--c)" } as const satisfies Record<TrainedCell, string>;
