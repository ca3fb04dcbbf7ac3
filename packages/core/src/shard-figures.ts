import type { ParameterCensus } from "./census.ts";
import { figure, type Figure } from "./figure.ts";
import { shardSizes, type Cell, type ShardOptions } from "./shards.ts";

/** The shard's parameter counts as figures: one definition per id, shared by the size section and the memory table. */
export interface ShardFigures {
  K: Figure;
  N: Figure;
  /** Trainable parameters of cells A, B and C (K experts per MoE layer). */
  trainable: Figure;
  trainableOf: Record<Cell, Figure>;
  residentOf: Record<Cell, Figure>;
  parkedA: Figure;
}

export function residentFormula(cell: Cell, K: number, N: number): string {
  switch (cell) {
    case "A":
      return `backbone + shared experts + K=${K} experts × MoE layers, router restricted to those ${K} (rows of the others parked)`;
    case "B":
      return `backbone + shared experts + (K=${K} + N=${N}) experts × MoE layers, router restricted to those ${K + N}`;
    default:
      return "total parameters (all experts resident)";
  }
}

export function shardFigures(census: ParameterCensus, opts: ShardOptions): ShardFigures {
  const s = shardSizes(census, opts);
  const f = census.figures;
  const K = opts.trainable;
  const N = opts.kept;
  const L = census.moeLayers;
  const fK = figure({ id: "input.trainable", label: "K, trainable experts per MoE layer", value: K, unit: "count", formula: "input: K", kind: "computed" });
  const fN = figure({ id: "input.kept", label: "N, kept frozen experts per MoE layer", value: N, unit: "count", formula: "input: N", kind: "computed" });
  const trainable = figure({
    id: "shard.trainable",
    label: `Trainable: K=${K} experts × ${L} MoE layers`,
    value: s.A.trainable,
    unit: "params",
    formula: `K=${K} × ${L} MoE layers × per-expert params`,
    kind: "computed",
    inputs: { K: fK, moeLayers: f.moeLayers, perExpert: f.perExpert },
  });
  const base = { backbone: f.backbone, sharedExperts: f.sharedExperts };
  const residentOf: Record<Cell, Figure> = {
    A: figure({
      id: "shard.A.resident",
      label: `Held for cell A (${K} experts per layer)`,
      value: s.A.resident,
      unit: "params",
      formula: residentFormula("A", K, N),
      kind: "computed",
      inputs: { ...base, trainable },
    }),
    B: figure({
      id: "shard.B.resident",
      label: `Held for cell B (${K + N} experts per layer)`,
      value: s.B.resident,
      unit: "params",
      formula: residentFormula("B", K, N),
      kind: "computed",
      inputs: { ...base, K: fK, N: fN, perExpert: f.perExpert, moeLayers: f.moeLayers },
    }),
    C: figure({
      id: "shard.C.resident",
      label: "Held for cell C (all experts)",
      value: s.C.resident,
      unit: "params",
      formula: residentFormula("C", K, N),
      kind: "computed",
      inputs: { total: f.total },
    }),
    full: figure({
      id: "shard.full.resident",
      label: "Held for the full fine-tune (all parameters)",
      value: s.full.resident,
      unit: "params",
      formula: residentFormula("full", K, N),
      kind: "computed",
      inputs: { total: f.total },
    }),
  };
  const fullTrainable = figure({
    id: "shard.full.trainable",
    label: "Trainable in the full fine-tune (all parameters)",
    value: s.full.trainable,
    unit: "params",
    formula: "total parameters",
    kind: "computed",
    inputs: { total: f.total },
  });
  const parkedA = figure({
    id: "shard.A.parked",
    label: "Parked on CPU in cell A",
    value: s.A.parked,
    unit: "params",
    formula: `(${census.routedExpertsPerLayer} − K=${K}) experts × ${L} MoE layers × (per-expert params + their router row)`,
    kind: "computed",
    inputs: { K: fK, routedExpertsPerLayer: f.routedExpertsPerLayer, moeLayers: f.moeLayers, perExpert: f.perExpert },
  });
  // Cells A, B and C train the same K experts per layer: one figure, not three copies under different ids.
  return { K: fK, N: fN, trainable, trainableOf: { A: trainable, B: trainable, C: trainable, full: fullTrainable }, residentOf, parkedA };
}
