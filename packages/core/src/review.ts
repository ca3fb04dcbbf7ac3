import { countParameters, type ParameterCensus } from "./census.ts";
import { isModelConfig, type ModelConfig } from "./config.ts";
import { InputError } from "./errors.ts";
import type { Figure } from "./figure.ts";
import { estimateMemory, type MemoryOptions } from "./memory.ts";
import { shardFigures, type ShardFigures } from "./shard-figures.ts";
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
  return modelSizes(config, opts).figures;
}

/** Section 01 as modelSizeFigures lists it, with the census's and the shard's figures by name (the same objects). */
export interface ModelSizes {
  figures: Figure[];
  census: ParameterCensus["figures"];
  /** null for a dense model (no shard) */
  shard: ShardFigures | null;
}

export function modelSizes(config: ModelConfig | ParameterCensus, opts: ShardOptions): ModelSizes {
  const c = censusOf(config);
  const f = c.figures;
  if (c.routedExpertsPerLayer === 0) {
    shardSizes(c, opts); // validates trainable = kept = 0
    return { figures: [f.total, f.embeddings, f.attention, f.denseFfn, f.activePerToken], census: f, shard: null };
  }
  const sf = shardFigures(c, opts);
  return {
    figures: [
      f.total,
      f.routedExperts,
      f.perExpert,
      f.sharedExperts,
      f.backbone,
      f.activePerToken,
      sf.trainable,
      sf.residentOf.A,
      sf.residentOf.B,
      sf.residentOf.C,
      sf.parkedA,
    ],
    census: f,
    shard: sf,
  };
}

/** The memory table: for cells A, B, C and full fine-tune, memory before activations, activations, and total. */
export function memoryFigures(config: ModelConfig | ParameterCensus, opts: MemoryOptions): Figure[] {
  const m = estimateMemory(censusOf(config), opts);
  const rows: Figure[] = [];
  for (const cell of cells) {
    const f = m[cell].figure;
    rows.push(f.statesGB, f.activationsGB, f.totalGB);
  }
  return rows;
}

/** Section 02 of the review (throughput), in order; see estimateThroughput. */
export function throughputFigures(inputs: ThroughputInputs): Figure[] {
  return estimateThroughput(inputs).figures;
}
