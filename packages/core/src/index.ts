export * from "./figure.ts";
export { InputError, parseOrThrow } from "./errors.ts";
export { groupedFixed, groupedNumber, groupedTrimmed } from "./digits.ts";
export {
  parseModelConfig,
  supportedModelTypes,
  configLimits,
  type SupportedModelType,
  type ModelFamily,
  type ModelConfig,
  type AttentionShape,
  type MoeShape,
  type ConfigField,
  type ConfigValue,
} from "./config.ts";
export { countParameters, configFigure, type ParameterCensus, type CensusKey } from "./census.ts";
export { shardSizes, cells, trainedCells, cellLabels, type Cell, type TrainedCell, type ShardOptions, type ShardSize } from "./shards.ts";
export { shardFigures, residentFormula, type ShardFigures } from "./shard-figures.ts";
export { gpuCatalog, findGpu, type GpuSpec } from "./gpus.ts";
export {
  estimateMemory,
  estimateActivations,
  shardedGpus,
  memoryDefaults,
  GB,
  GiB,
  type MemoryOptions,
  type CellMemory,
  type CellMemoryFigures,
  type ActivationOptions,
  type ActivationEstimate,
} from "./memory.ts";
export {
  estimateThroughput,
  trainingFlopsPerToken,
  BLOCK_SECONDS,
  type ThroughputInputs,
  type ThroughputEstimate,
  type ThroughputFigures,
  type FigureInput,
  type FlopsOptions,
  type TrainingFlops,
} from "./throughput.ts";
export { formatFigure, formatExact, type FormatOptions } from "./format.ts";
export { formatDuration } from "./duration.ts";
export { backoffDelayMs, retryAfterMs, type BackoffOptions } from "./backoff.ts";
export { mulberry32 } from "./random.ts";
export { modelSizeFigures, modelSizes, memoryFigures, throughputFigures, type ModelSizes } from "./review.ts";
export { figureTransformer, serializeFigures, deserializeFigures, WireError, WIRE_MAX_DEPTH, WIRE_MAX_BIGINT_DIGITS } from "./wire.ts";
