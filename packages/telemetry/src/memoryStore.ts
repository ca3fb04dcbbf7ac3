import type { Checkpoint, CycleBlockHashes, CycleRecord, TelemetryStore } from "./store.ts";

/** TelemetryStore in process memory: for tests, benchmarks and dry runs. */
export class MemoryStore implements TelemetryStore {
  readonly cycles = new Map<string, CycleRecord>();
  readonly checkpoints = new Map<number, Checkpoint>();
  upserts = 0;

  private static key(netuid: number, cycle: number): string {
    return `${netuid}:${cycle}`;
  }

  async loadCheckpoint(netuid: number): Promise<Checkpoint | null> {
    return this.checkpoints.get(netuid) ?? null;
  }

  async storedBlockHashes(netuid: number, cycles: readonly number[]): Promise<Map<number, CycleBlockHashes>> {
    const found = new Map<number, CycleBlockHashes>();
    for (const index of cycles) {
      const c = this.cycles.get(MemoryStore.key(netuid, index));
      if (c) found.set(index, { firstBlockHash: c.firstBlockHash, lastBlockHash: c.lastBlockHash, readBlockHash: c.readBlockHash });
    }
    return found;
  }

  async upsertCycle(cycle: CycleRecord): Promise<void> {
    const hotkeys = new Set(cycle.activeMiners.map((m) => m.hotkey));
    if (hotkeys.size !== cycle.activeMiners.length) throw new Error(`cycle ${cycle.index}: duplicate hotkey in active miners`);
    this.upserts++;
    this.cycles.set(MemoryStore.key(cycle.netuid, cycle.index), structuredClone(cycle));
  }

  async saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.checkpoints.set(checkpoint.netuid, { ...checkpoint });
  }

  /** Stored cycles of a netuid in index order. */
  list(netuid: number): CycleRecord[] {
    return [...this.cycles.values()].filter((c) => c.netuid === netuid).sort((a, b) => a.index - b.index);
  }
}
