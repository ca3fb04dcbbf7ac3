import type { PhaseName, PhaseWindow, ScheduleSegment } from "./schedule.ts";

/** Block hashes a cycle was read at; compared on resume to catch a changed chain. */
export interface CycleBlockHashes {
  firstBlockHash: string;
  lastBlockHash: string;
  readBlockHash: string;
}

export interface ActiveMiner {
  hotkey: string;
  uid: number;
  /** Block of the hotkey's CommitmentOf entry as read after MinerCommit2. */
  commitBlock: number;
  commitPhase: Extract<PhaseName, "MinerCommit1" | "MinerCommit2">;
  /** UTF-8 text of the commitment's first Raw field (the miner's JSON), null if none or not UTF-8. */
  payload: string | null;
}

export interface CycleRecord extends CycleBlockHashes {
  netuid: number;
  index: number;
  length: number;
  firstBlock: number;
  lastBlock: number;
  /** First block after MinerCommit2, where registrations and commitments are read. */
  readBlock: number;
  phases: PhaseWindow[];
  schedule: ScheduleSegment;
  registeredNeurons: number;
  activeMiners: ActiveMiner[];
}

export interface Checkpoint {
  netuid: number;
  /** Highest cycle up to which ingest has no gap. */
  lastCycle: number;
  lastBlock: number;
}

/** What the ingest engine needs from storage; packages/db implements it over Postgres. */
export interface TelemetryStore {
  loadCheckpoint(netuid: number): Promise<Checkpoint | null>;
  storedBlockHashes(netuid: number, cycles: readonly number[]): Promise<Map<number, CycleBlockHashes>>;
  /** In one transaction: write the cycle and make its miner rows exactly `activeMiners` (keyed netuid, cycle, hotkey). */
  upsertCycle(cycle: CycleRecord): Promise<void>;
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>;
}
