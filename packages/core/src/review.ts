import { countParameters, type ParameterCensus } from "./census.ts";
import { isModelConfig, type ModelConfig } from "./config.ts";
import { InputError } from "./errors.ts";
import { figure, type Figure } from "./figure.ts";
import { estimateMemory, residentFormula, type MemoryOptions } from "./memory.ts";
import { cells, shardSizes, type ShardOptions } from "./shards.ts";
import { estimateThroughput, type ThroughputInputs } from "./throughput.ts";

function censusOf(x: ModelConfig | ParameterCensus): ParameterCensus {
  if (typeof x === "object" && x !== null && "figures" in x && "total" in x) return x as ParameterCensus;
  if (isModelConfig(x)) return countParameters(x);
  throw new InputError("config", "must be a ModelConfig from parseModelConfig (or a census from countParameters)");
}

/**
 * Section 01 of the review (model & shard sizes), in order: total, routed experts, one expert, shared experts,
 * backbone, activated per token, trainable (K × MoE layers), resident in cells A, B, C, parked in cell A.
 * Dense models: total, embeddings, attention, dense MLP, activated per token.
 */
export function modelSizeFigures(config: ModelConfig | ParameterCensus, opts: ShardOptions): Figure[] {
  const c = censusOf(config);
  const f = c.figures;
  if (c.routedExpertsPerLayer === 0) {
    shardSizes(c, opts); // validates trainable = kept = 0
    return [f.total, f.embeddings, f.attention, f.denseFfn, f.activePerToken];
  }
  const s = shardSizes(c, opts);
  const K = opts.trainable;
  const N = opts.kept;
  const L = c.moeLayers;
  const fK = figure({ id: "input.trainable", label: "K, trainable experts per MoE layer", value: K, unit: "count", formula: "input: K", kind: "computed" });
  const fN = figure({ id: "input.kept", label: "N, kept frozen experts per MoE layer", value: N, unit: "count", formula: "input: N", kind: "computed" });
  const fTrain = figure({
    id: "shard.trainable",
    label: `Trainable: K=${K} experts × ${L} MoE layers`,
    value: s.A.trainable,
    unit: "params",
    formula: `K=${K} × ${L} MoE layers × per-expert params`,
    kind: "computed",
    inputs: { K: fK, moeLayers: f.moeLayers, perExpert: f.perExpert },
  });
  const base = { backbone: f.backbone, sharedExperts: f.sharedExperts };
  const fA = figure({ id: "shard.A.resident", label: `Held for cell A (${K} experts per layer)`, value: s.A.resident, unit: "params", formula: residentFormula("A", K, N), kind: "computed", inputs: { ...base, trainable: fTrain } });
  const fB = figure({ id: "shard.B.resident", label: `Held for cell B (${K + N} experts per layer)`, value: s.B.resident, unit: "params", formula: residentFormula("B", K, N), kind: "computed", inputs: { ...base, K: fK, N: fN, perExpert: f.perExpert, moeLayers: f.moeLayers } });
  const fC = figure({ id: "shard.C.resident", label: "Held for cell C (all experts)", value: s.C.resident, unit: "params", formula: residentFormula("C", K, N), kind: "computed", inputs: { total: f.total } });
  const fParked = figure({
    id: "shard.A.parked",
    label: "Parked on CPU in cell A",
    value: s.A.parked,
    unit: "params",
    formula: `(${c.routedExpertsPerLayer} − K=${K}) experts × ${L} MoE layers × (per-expert params + their router row)`,
    kind: "computed",
    inputs: { K: fK, routedExpertsPerLayer: f.routedExpertsPerLayer, moeLayers: f.moeLayers, perExpert: f.perExpert },
  });
  return [f.total, f.routedExperts, f.perExpert, f.sharedExperts, f.backbone, f.activePerToken, fTrain, fA, fB, fC, fParked];
}

/** The memory table: for cells A, B, C and full fine-tune, memory before activations, activations, and total. */
export function memoryFigures(config: ModelConfig | ParameterCensus, opts: MemoryOptions): Figure[] {
  const m = estimateMemory(censusOf(config), opts);
  const rows: Figure[] = [];
  for (const cell of cells) {
    const byId = (suffix: string) => m[cell].figures.find((f) => f.id === `memory.${cell}.${suffix}`)!;
    rows.push(byId("statesGB"), byId("activationsGB"), byId("totalGB"));
  }
  return rows;
}

/** Section 02 of the review (throughput), in order; see estimateThroughput. */
export function throughputFigures(inputs: ThroughputInputs): Figure[] {
  return estimateThroughput(inputs).figures;
}
