import { cycleKeyId, type Checkpoint, type CycleBlockHashes, type CycleKey, type CycleRecord, type TelemetryStore } from "./store.ts";

export const blockHashesOf = (c: CycleBlockHashes): CycleBlockHashes => ({
  firstBlockHash: c.firstBlockHash,
  lastBlockHash: c.lastBlockHash,
  commitReadHash: c.commitReadHash,
  windowEndHash: c.windowEndHash,
  readBlockHash: c.readBlockHash,
});

/** Refuses a record whose miner rows repeat a hotkey: a cycle holds each hotkey once. */
export function assertDistinctHotkeys(cycle: CycleRecord): void {
  const hotkeys = new Set(cycle.miners.map((m) => m.hotkey));
  if (hotkeys.size !== cycle.miners.length) throw new Error(`cycle ${cycle.index} (#${cycle.firstBlock}): duplicate hotkey in miners`);
}

/** TelemetryStore in process memory: for tests, benchmarks and dry runs. */
export class MemoryStore implements TelemetryStore {
  readonly cycles = new Map<string, CycleRecord>();
  readonly checkpoints = new Map<number, Checkpoint>();
  upserts = 0;

  async loadCheckpoint(netuid: number): Promise<Checkpoint | null> {
    return this.checkpoints.get(netuid) ?? null;
  }

  async storedBlockHashes(netuid: number, keys: readonly CycleKey[]): Promise<Map<string, CycleBlockHashes>> {
    const found = new Map<string, CycleBlockHashes>();
    for (const key of keys) {
      const c = this.cycles.get(`${netuid}:${cycleKeyId(key)}`);
      if (c) found.set(cycleKeyId(key), blockHashesOf(c));
    }
    return found;
  }

  async upsertCycle(cycle: CycleRecord): Promise<void> {
    assertDistinctHotkeys(cycle);
    this.upserts++;
    this.cycles.set(`${cycle.netuid}:${cycleKeyId(cycle)}`, structuredClone(cycle));
  }

  async saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.checkpoints.set(checkpoint.netuid, { ...checkpoint });
  }

  /** Stored cycles of a netuid in block order. */
  list(netuid: number): CycleRecord[] {
    return [...this.cycles.values()].filter((c) => c.netuid === netuid).sort((a, b) => a.firstBlock - b.firstBlock || a.length - b.length);
  }
}
