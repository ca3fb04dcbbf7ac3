import * as z from "zod";

/**
 * Every number the review shows is a Figure: a value with its unit, the formula in words
 * ("How it's computed"), the named figures it was computed from, and how we know it.
 */
export const figureKinds = ["computed", "measured", "estimated", "reported"] as const;
export type FigureKind = (typeof figureKinds)[number];

export const units = ["params", "bytes", "GB", "GiB", "tokens", "tokens/s", "hours", "seconds", "blocks", "count", "ratio", "percent", "FLOP"] as const;
export type Unit = (typeof units)[number];

export interface Figure {
  /** Stable key, e.g. "params.total" or "memory.A.totalGB". */
  id: string;
  label: string;
  value: number;
  unit: Unit;
  /** The "How it's computed" text, in words. */
  formula: string;
  kind: FigureKind;
  /** Named inputs, themselves figures (a config field is a computed figure read from config.json). */
  inputs: Record<string, Figure>;
  /** Where a reported or measured figure comes from (document, run id, chain block). */
  source?: string;
}

export const figureSchema: z.ZodType<Figure> = z.lazy(() =>
  z.object({
    id: z.string().min(1),
    label: z.string(),
    value: z.number().finite(),
    unit: z.enum(units),
    formula: z.string(),
    kind: z.enum(figureKinds),
    inputs: z.record(z.string(), figureSchema),
    source: z.string().optional(),
  }),
);

export function figure(f: Omit<Figure, "inputs"> & { inputs?: Record<string, Figure> }): Figure {
  return { ...f, inputs: f.inputs ?? {} };
}
