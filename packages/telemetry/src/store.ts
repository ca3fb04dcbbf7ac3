import type { CountDefinition, PayloadKind } from "./count-definitions.ts";
import type { PhaseName, PhaseWindow, ScheduleSegment } from "./schedule.ts";

/** A cycle's identity: its first block, its length and the schedule segment it was computed under. */
export interface CycleKey {
  firstBlock: number;
  length: number;
  scheduleKey: string;
}
export const cycleKeyId = (k: CycleKey): string => `${k.firstBlock}:${k.length}:${k.scheduleKey}`;

/** A block read for the cycle, with the finalized hash it was read at. */
export interface ReadBlock {
  block: number;
  hash: string;
}

/** Block hashes a cycle was read at; compared on resume to catch a changed chain. */
export interface CycleBlockHashes {
  firstBlockHash: string;
  /** The cycle's last block: its finalized hash is the cycle's. */
  lastBlockHash: string;
  /** MinerCommit1 end + 1: the validators' signed-hash read. */
  commitReadHash: string;
  /** MinerCommit2's last block: the committed count's read (an in-window commitment is still visible there). */
  windowEndHash: string;
  /** MinerCommit2 end + 1: the validators' submission read. */
  readBlockHash: string;
}

export { ACCEPTED, COMMITTED, COUNT_DEFINITIONS, type CountDefinition } from "./count-definitions.ts";

/** One hotkey the cycle looked at: a miner that committed, was accepted, touched its commitment this cycle, or a validator. */
export interface CycleMiner {
  hotkey: string;
  /** uid at MinerCommit2's last block (else at the later, else the earlier read). */
  uid: number;
  /** Block of its latest commitment as of MinerCommit2's last block; null when it had none. */
  commitBlock: number | null;
  commitPhase: Extract<PhaseName, "MinerCommit1" | "MinerCommit2"> | null;
  payloadKind: PayloadKind;
  /** UTF-8 text of that commitment's first Raw field, null if none or not text. */
  payload: string | null;
  /** Block of its latest commitment at MinerCommit2 end + 1 (what validators read); null when none. */
  submissionBlock: number | null;
  committed: boolean;
  accepted: boolean;
  /** Why it is not accepted (null when accepted). */
  rejection: string | null;
}

export interface CycleCount {
  definition: CountDefinition;
  count: number;
}

export interface CycleRecord extends CycleBlockHashes, CycleKey {
  netuid: number;
  index: number;
  lastBlock: number;
  commitReadBlock: number;
  windowEndBlock: number;
  readBlock: number;
  phases: PhaseWindow[];
  schedule: ScheduleSegment;
  /** SubnetworkN at MinerCommit2 end + 1. */
  registeredNeurons: number;
  committed: CycleCount;
  accepted: CycleCount;
  miners: CycleMiner[];
  /** HTTP requests / WebSocket frames and JSON-RPC calls the ingest spent on this cycle. */
  rpcRequests: number;
  rpcCalls: number;
}

export interface Checkpoint {
  netuid: number;
  /** Last block of the gap-free prefix of ingested cycles: every whole cycle up to here is stored. */
  lastBlock: number;
  /** That cycle's index and schedule, for people. */
  lastCycle: number;
  scheduleKey: string;
}

/** What the ingest engine needs from storage; PgStore implements it over Postgres. */
export interface TelemetryStore {
  loadCheckpoint(netuid: number): Promise<Checkpoint | null>;
  /** Stored hashes of those of `keys` that are stored, by cycleKeyId. */
  storedBlockHashes(netuid: number, keys: readonly CycleKey[]): Promise<Map<string, CycleBlockHashes>>;
  /** In one transaction: write the cycle and make its miner rows exactly `miners`. */
  upsertCycle(cycle: CycleRecord): Promise<void>;
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>;
}
