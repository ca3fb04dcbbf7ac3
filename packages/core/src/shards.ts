import * as z from "zod";
import type { ParameterCensus } from "./census.ts";
import { InputError, parseOrThrow } from "./errors.ts";
import { intField } from "./validate.ts";
import { configLimits } from "./config.ts";

/** The cells that train experts (the full fine-tune is only priced, not run). */
export const trainedCells = ["A", "B", "C"] as const;
export type TrainedCell = (typeof trainedCells)[number];
/** Every cell the review prices: the trained ones and the full fine-tune. */
export const cells = [...trainedCells, "full"] as const;
export type Cell = (typeof cells)[number];

export const cellLabels: Record<Cell, string> = {
  A: "A, in-place ESFT (K routable, rest parked on CPU)",
  B: "B, frozen-kept (K trainable + N frozen resident)",
  C: "C, ESFT-classic (all experts resident, K trainable)",
  full: "Full fine-tune",
};

export interface ShardOptions {
  /** K: trainable routed experts per MoE layer. */
  trainable: number;
  /** N: frozen routed experts kept resident per MoE layer (cell B). */
  kept: number;
}

export interface ShardSize {
  /** Parameters that get gradients and optimizer state. */
  trainable: number;
  /** Parameters held in GPU memory. */
  resident: number;
  /** Routed-expert parameters parked in CPU memory (never touched during training). */
  parked: number;
}

const shardSchema = z.object({
  trainable: intField(0, configLimits.experts, "trainable routed experts per MoE layer"),
  kept: intField(0, configLimits.experts, "frozen routed experts kept resident per MoE layer"),
});

/** Validate K and N against the model; throws InputError with field "trainable" or "kept". */
export function checkShardOptions(census: ParameterCensus, opts: unknown): ShardOptions {
  const o = parseOrThrow(shardSchema, opts ?? {}, "");
  const E = census.routedExpertsPerLayer;
  if (E === 0) {
    if (o.trainable !== 0)
      throw new InputError(
        "trainable",
        `must be 0: ${census.modelType} is a dense model with no routed experts (only the full fine-tune cell applies); got ${o.trainable}`,
      );
    if (o.kept !== 0) throw new InputError("kept", `must be 0: ${census.modelType} is a dense model with no routed experts; got ${o.kept}`);
    return o;
  }
  if (o.trainable > E) throw new InputError("trainable", `must be an integer from 0 to ${E} (routed experts per MoE layer); got ${o.trainable}`);
  if (o.trainable + o.kept > E)
    throw new InputError(
      "kept",
      `trainable + kept must be at most ${E} (routed experts per MoE layer); got ${o.trainable} + ${o.kept} = ${o.trainable + o.kept}`,
    );
  return o;
}

/**
 * Parameter counts per cell for K trainable and N kept routed experts in every MoE layer:
 * - A: trainable = K × MoE layers × per expert; resident = backbone + shared + the K experts, with the router
 *   restricted to those K (its rows for the other experts are parked with them); everything else parked.
 * - B: same trainable; resident adds the N kept experts (router holds K + N rows); the rest parked.
 * - C: same trainable; every parameter resident; nothing parked.
 * - full: every parameter trainable and resident.
 * resident + parked = total in every cell. (DeepSeek-V2-Lite, K=8, N=16: A 3,108,007,424, B 6,707,572,224.)
 */
export function shardSizes(census: ParameterCensus, opts: ShardOptions): Record<Cell, ShardSize> {
  const { trainable: K, kept: N } = checkShardOptions(census, opts);
  const per = census.perExpert * census.moeLayers;
  const gateRows = census.routerPerExpert * census.moeLayers;
  const E = census.routedExpertsPerLayer;
  const trainable = K * per;
  // Everything but the routed experts and their router rows stays resident in every cell.
  const fixed = census.total - census.routedExperts - E * gateRows;
  const held = (routable: number) => fixed + routable * (per + gateRows);
  return {
    A: { trainable, resident: held(K), parked: census.total - held(K) },
    B: { trainable, resident: held(K + N), parked: census.total - held(K + N) },
    C: { trainable, resident: census.total, parked: 0 },
    full: { trainable: census.total, resident: census.total, parked: 0 },
  };
}
