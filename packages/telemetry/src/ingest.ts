import { z } from "zod";
import { cycleBlocks, readCycle } from "./cycleReader.ts";
import type { SubstrateRpc } from "./rpcClient.ts";
import { cycleAtBlock, cycleWindow, type CycleWindow, type ScheduleHistory } from "./schedule.ts";
import type { CycleBlockHashes, TelemetryStore } from "./store.ts";

export interface IngestProgress {
  cycle: number;
  /** ingested: new; reingested: stored hashes differed from the chain; verified: stored and unchanged. */
  action: "ingested" | "reingested" | "verified";
  activeMiners: number | null;
  done: number;
  total: number;
  /** RPC round trips so far on this client. */
  requests: number;
  cyclesPerSecond: number;
}

export interface IngestSummary {
  cycles: number[];
  ingested: number;
  reingested: number;
  verified: number;
  requests: number;
  calls: number;
  seconds: number;
}

export const backfillRangeSchema = z.union([
  z
    .object({ fromCycle: z.number().int().nonnegative(), toCycle: z.number().int().nonnegative() })
    .refine((r) => r.fromCycle <= r.toCycle, { message: "fromCycle must be <= toCycle", path: ["fromCycle"] }),
  z.object({ last: z.number().int().positive() }),
]);
export type BackfillRange = z.infer<typeof backfillRangeSchema>;

export interface IngestOptions {
  rpc: SubstrateRpc;
  store: TelemetryStore;
  netuid: number;
  schedule: ScheduleHistory;
  validatorWhitelist: readonly string[];
  /** Cycles read at once; each is ~3 sequential round trips, so this hides latency. */
  concurrency?: number;
  onProgress?: (progress: IngestProgress) => void;
}

const sameHashes = (a: CycleBlockHashes, b: CycleBlockHashes) =>
  a.firstBlockHash.toLowerCase() === b.firstBlockHash.toLowerCase() &&
  a.lastBlockHash.toLowerCase() === b.lastBlockHash.toLowerCase() &&
  a.readBlockHash.toLowerCase() === b.readBlockHash.toLowerCase();

/** Backfills and follows per-cycle subnet activity into a TelemetryStore, reading only finalized blocks. */
export class TelemetryIngest {
  private readonly whitelist: ReadonlySet<string>;
  private readonly concurrency: number;

  constructor(private readonly options: IngestOptions) {
    this.whitelist = new Set(options.validatorWhitelist);
    this.concurrency = options.concurrency ?? 8;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError(`concurrency must be an integer >= 1, got ${options.concurrency}`);
  }

  /** Windows of the completed cycles (last block finalized) the range names, oldest first. */
  private async windowsFor(range: BackfillRange, finalizedNumber: number): Promise<CycleWindow[]> {
    const { schedule } = this.options;
    const complete = (w: CycleWindow | null): w is CycleWindow => w !== null && w.lastBlock <= finalizedNumber;
    if ("last" in range) {
      const current = cycleAtBlock(schedule, finalizedNumber);
      const windows: CycleWindow[] = [];
      for (let index = current?.index ?? -1; index >= 0 && windows.length < range.last; index--) {
        const w = cycleWindow(schedule, index);
        if (complete(w)) windows.push(w);
        else if (w === null && index < (current?.index ?? 0) - range.last * 2) break;
      }
      return windows.reverse();
    }
    const windows: CycleWindow[] = [];
    for (let index = range.fromCycle; index <= range.toCycle; index++) {
      const w = cycleWindow(schedule, index);
      if (complete(w)) windows.push(w);
    }
    return windows;
  }

  async backfill(rangeInput: BackfillRange): Promise<IngestSummary> {
    const parsed = backfillRangeSchema.safeParse(rangeInput);
    if (!parsed.success) throw new Error(`invalid backfill range: ${z.prettifyError(parsed.error)}`);
    const { rpc, store, netuid, onProgress } = this.options;
    const started = performance.now();
    const finalized = await rpc.finalized();
    const windows = await this.windowsFor(parsed.data, finalized.number);
    const stored = await store.storedBlockHashes(netuid, windows.map((w) => w.index));
    const summary: IngestSummary = { cycles: windows.map((w) => w.index), ingested: 0, reingested: 0, verified: 0, requests: 0, calls: 0, seconds: 0 };
    const checkpoint = await store.loadCheckpoint(netuid);
    const finished = new Set<number>();
    let frontier = 0; // windows[0..frontier) all finished
    let lastSaved = checkpoint?.lastCycle ?? -1;
    let done = 0;
    let next = 0;
    let failure: unknown = null;

    const ingestOne = async (window: CycleWindow) => {
      const blocks = cycleBlocks(window);
      const [firstBlockHash, lastBlockHash, readBlockHash] = await rpc.blockHashes([blocks.firstBlock, blocks.lastBlock, blocks.readBlock]);
      const hashes = { firstBlockHash: firstBlockHash!, lastBlockHash: lastBlockHash!, readBlockHash: readBlockHash! };
      const previous = stored.get(window.index);
      let action: IngestProgress["action"] = "verified";
      let activeMiners: number | null = null;
      if (!previous || !sameHashes(previous, hashes)) {
        const record = await readCycle(rpc, { netuid, window, hashes, validatorWhitelist: this.whitelist });
        await store.upsertCycle(record);
        action = previous ? "reingested" : "ingested";
        activeMiners = record.activeMiners.length;
      }
      summary[action]++;
      // Captured now: other workers finish cycles while this one awaits the checkpoint write.
      const doneNow = ++done;
      finished.add(window.index);
      while (frontier < windows.length && finished.has(windows[frontier]!.index)) frontier++;
      const reached = frontier > 0 ? windows[frontier - 1]! : null;
      // Only a gap-free prefix moves the checkpoint, and it never moves back.
      if (reached && reached.index > lastSaved) {
        lastSaved = reached.index;
        await store.saveCheckpoint({ netuid, lastCycle: reached.index, lastBlock: reached.lastBlock });
      }
      const seconds = (performance.now() - started) / 1000;
      onProgress?.({ cycle: window.index, action, activeMiners, done: doneNow, total: windows.length, requests: rpc.stats.roundTrips, cyclesPerSecond: doneNow / seconds });
    };

    const worker = async () => {
      while (failure === null && next < windows.length) {
        const window = windows[next++]!;
        try {
          await ingestOne(window);
        } catch (error) {
          failure ??= error;
        }
      }
    };
    const requestsBefore = rpc.stats.roundTrips;
    const callsBefore = rpc.stats.calls;
    await Promise.all(Array.from({ length: Math.min(this.concurrency, windows.length) }, worker));
    if (failure !== null) throw failure;
    summary.requests = rpc.stats.roundTrips - requestsBefore;
    summary.calls = rpc.stats.calls - callsBefore;
    summary.seconds = (performance.now() - started) / 1000;
    return summary;
  }

  /**
   * Keeps up with the finalized head until `signal` aborts: each poll ingests the cycles completed since the
   * checkpoint, re-checking the last `recheckCycles` stored ones (their hashes) first. With `onError`, a failed
   * poll (node gone past the client's retries, a malformed value) is reported and the next poll tries again.
   */
  async follow(options: {
    signal: AbortSignal;
    pollMs?: number;
    recheckCycles?: number;
    onSummary?: (s: IngestSummary) => void;
    onError?: (error: unknown) => void;
  }): Promise<void> {
    const { rpc, store, netuid, schedule } = this.options;
    const pollMs = options.pollMs ?? 12_000;
    let recheck = options.recheckCycles ?? 3;
    while (!options.signal.aborted) {
      try {
        const finalized = await rpc.finalized();
        const current = cycleAtBlock(schedule, finalized.number);
        // The cycle holding the finalized head is complete when the head is its last block.
        const latestComplete = current ? (current.lastBlock <= finalized.number ? current.index : current.index - 1) : -1;
        const checkpoint = await store.loadCheckpoint(netuid);
        let from = checkpoint ? checkpoint.lastCycle + 1 : latestComplete;
        if (checkpoint && recheck > 0) {
          // Re-check only cycles already stored: following must not reach back past where the store begins.
          const window = Array.from({ length: Math.min(recheck, checkpoint.lastCycle + 1) }, (_, i) => checkpoint.lastCycle - i);
          const stored = [...(await store.storedBlockHashes(netuid, window)).keys()];
          if (stored.length > 0) from = Math.min(...stored);
        }
        if (latestComplete >= 0 && from <= latestComplete) {
          // Not `onSummary?.(await ...)`: without a callback that would skip the backfill itself.
          const summary = await this.backfill({ fromCycle: from, toCycle: latestComplete });
          options.onSummary?.(summary);
        }
        recheck = 0;
      } catch (error) {
        if (!options.onError) throw error;
        options.onError(error);
      }
      await new Promise<void>((resolve) => {
        const stop = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          options.signal.removeEventListener("abort", stop);
          resolve();
        }, pollMs);
        options.signal.addEventListener("abort", stop, { once: true });
      });
    }
  }
}
