export { twox128, twox64Concat, blake2_128Concat, identity, u16le, storagePrefix } from "./hashers.ts";
export {
  accountIdBytes,
  subnetworkNKey,
  keysPrefix,
  keysKey,
  uidsKey,
  lastUpdateKey,
  incentiveKey,
  activeKey,
  commitmentOfPrefix,
  commitmentOfKey,
  accountFromCommitmentKey,
  type HexKey,
} from "./storage-keys.ts";
export {
  SS58_PREFIX,
  StorageDecodeError,
  decodeU16,
  decodeU64,
  decodeVecU64,
  decodeVecU16,
  decodeVecBool,
  decodeAccountId,
  decodeAccountIdBytes,
  decodeRegistration,
  commitmentText,
  COMMITMENT_DATA_VARIANTS,
  type CommitmentField,
  type Registration,
  type ValueOrigin,
} from "./scale.ts";
export {
  PHASE_NAMES,
  CONNITO_REPO_DEFAULT_PHASES,
  cycleLength,
  cycleWindow,
  cycleAtBlock,
  segmentAt,
  phaseWindow,
  phaseAtBlock,
  scheduleKey,
  cyclesOverlapping,
  lastCyclesEndingBy,
  cyclesByIndex,
  AmbiguousCycleRangeError,
  parseScheduleHistory,
  fetchOwnerSchedule,
  withObservedSegment,
  scheduleHistorySchema,
  ownerScheduleResponseSchema,
  type PhaseName,
  type PhaseLengths,
  type PhaseWindow,
  type CycleWindow,
  type ScheduleSegment,
  type ScheduleHistory,
  type HistorySegment,
  type UnknownSegment,
} from "./schedule.ts";
export { MAX_WEIGHT_AGE_BLOCKS, VERSION_RANGE_CYCLES, allowedVersions, payloadKind, signedHashOf, submissionOf, type Submission } from "./commit-rules.ts";
export { PAYLOAD_KINDS, type CountDefinition, type PayloadKind } from "./count-definitions.ts";
export { DECODED_LAYOUTS, MetadataLayoutError, checkStorageLayouts, layoutDifferences, layoutsInMetadata, type StorageLayout } from "./metadata-layout.ts";
export { SubstrateRpc, RpcError, call, newRpcStats, rpcClientOptionsSchema, type RpcClientOptions, type RpcCall, type RpcStats } from "./rpc-client.ts";
export { RetryableTransportError } from "./transport.ts";
export type { BlockHash, Header, RuntimeVersion } from "./rpc-schemas.ts";
export { cycleBlocks, readCycle, type ReadCycleInput } from "./cycle-reader.ts";
export {
  ACCEPTED,
  COMMITTED,
  COUNT_DEFINITIONS,
  cycleKeyId,
  type TelemetryStore,
  type CycleRecord,
  type CycleMiner,
  type CycleCount,
  type CycleKey,
  type Checkpoint,
  type CycleBlockHashes,
  type ReadBlock,
} from "./store.ts";
export { MemoryStore } from "./memory-store.ts";
export { PgStore } from "./pg-store.ts";
export {
  TelemetryIngest,
  backfillRangeSchema,
  type BackfillRange,
  type CycleOutcome,
  type Gap,
  type IngestOptions,
  type IngestProgress,
  type IngestSummary,
} from "./ingest.ts";
export { ingestProgressLine } from "./progress-line.ts";
