import { z } from "zod";
import { cycleBlocks, readCycle } from "./cycle-reader.ts";
import { checkStorageLayouts, MetadataLayoutError } from "./metadata-layout.ts";
import { newRpcStats, type SubstrateRpc } from "./rpc-client.ts";
import type { BlockHash, RuntimeVersion } from "./rpc-schemas.ts";
import { cyclesByIndex, cyclesOverlapping, lastCyclesEndingBy, type CycleWindow, type ScheduleHistory } from "./schedule.ts";
import { cycleKeyId, type Checkpoint, type CycleBlockHashes, type TelemetryStore } from "./store.ts";

export interface IngestProgress {
  cycle: number;
  firstBlock: number;
  length: number;
  /** ingested: new; reingested: stored hashes differed from the chain; verified: stored and unchanged. */
  action: "ingested" | "reingested" | "verified";
  committed: number | null;
  accepted: number | null;
  done: number;
  total: number;
  /** HTTP requests / WebSocket frames, and JSON-RPC calls, so far on this client. */
  requests: number;
  calls: number;
  cyclesPerSecond: number;
}

export interface CycleOutcome {
  index: number;
  firstBlock: number;
  length: number;
  scheduleKey: string;
  action: IngestProgress["action"];
  committed: number | null;
  accepted: number | null;
  /** What this cycle cost: HTTP requests / WebSocket frames, and JSON-RPC calls. */
  requests: number;
  calls: number;
}

/** Whole cycles the schedule defines between the checkpoint and the newest cycle read that are not stored. */
export interface Gap {
  fromBlock: number;
  toBlock: number;
  cycles: number;
}

export interface IngestSummary {
  cycles: CycleOutcome[];
  ingested: number;
  reingested: number;
  verified: number;
  requests: number;
  calls: number;
  seconds: number;
  checkpoint: Checkpoint | null;
  gaps: Gap[];
}

const blockNumber = z.number().int().nonnegative();
export const backfillRangeSchema = z.union([
  z.object({ last: z.number().int().positive() }).strict(),
  z
    .object({ fromBlock: blockNumber, toBlock: blockNumber })
    .strict()
    .refine((r) => r.fromBlock <= r.toBlock, { message: "fromBlock must be <= toBlock", path: ["toBlock"] }),
  z
    .object({ fromCycle: blockNumber, toCycle: blockNumber })
    .strict()
    .refine((r) => r.fromCycle <= r.toCycle, { message: "fromCycle must be <= toCycle", path: ["toCycle"] }),
]);
export type BackfillRange = z.infer<typeof backfillRangeSchema>;

export interface IngestOptions {
  rpc: SubstrateRpc;
  store: TelemetryStore;
  netuid: number;
  schedule: ScheduleHistory;
  validatorWhitelist: readonly string[];
  /** Cycles read at once; each is 3 sequential round trips, so this hides latency. */
  concurrency?: number;
  onProgress?: (progress: IngestProgress) => void;
}

const sameHashes = (a: CycleBlockHashes, b: CycleBlockHashes) =>
  (["firstBlockHash", "lastBlockHash", "commitReadHash", "windowEndHash", "readBlockHash"] as const).every((k) => a[k].toLowerCase() === b[k].toLowerCase());

/** Runs of consecutive windows, as block ranges. */
function gapsOf(missing: CycleWindow[]): Gap[] {
  const gaps: Gap[] = [];
  for (const w of missing) {
    const last = gaps.at(-1);
    if (last && w.firstBlock <= last.toBlock + 1 + w.length) {
      last.toBlock = w.lastBlock;
      last.cycles++;
    } else gaps.push({ fromBlock: w.firstBlock, toBlock: w.lastBlock, cycles: 1 });
  }
  return gaps;
}

/** Backfills and follows per-cycle subnet activity into a TelemetryStore, reading only finalized blocks. */
export class TelemetryIngest {
  private readonly whitelist: ReadonlySet<string>;
  private readonly concurrency: number;
  private schedule: ScheduleHistory;
  /** Spec versions whose storage layouts were checked against their metadata (a check per version, not per block). */
  private readonly checkedSpecs = new Map<number, Promise<void>>();

  constructor(private readonly options: IngestOptions) {
    this.whitelist = new Set(options.validatorWhitelist);
    this.schedule = options.schedule;
    this.concurrency = options.concurrency ?? 8;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError(`concurrency must be an integer >= 1, got ${options.concurrency}`);
  }

  /**
   * Reads the runtime version and metadata at the finalized head and refuses (MetadataLayoutError, naming the
   * spec version) when a storage entry this package decodes changed. Each cycle read also reads the runtime version
   * of its blocks, so an older runtime met in a backfill is checked (once per spec version) before it is decoded.
   */
  async checkRuntime(): Promise<{ specVersion: number; specName: string }> {
    const { rpc } = this.options;
    const head = await rpc.finalizedHead();
    const version = await rpc.runtimeVersion(head);
    await this.checkSpec(version, head);
    return { specVersion: version.specVersion, specName: version.specName };
  }

  /** Checks the layouts of `version` once (at `at`, a block it ran); a refused version stays refused. */
  private checkSpec(version: RuntimeVersion, at: BlockHash): Promise<void> {
    let check = this.checkedSpecs.get(version.specVersion);
    if (!check) {
      check = checkStorageLayouts(this.options.rpc, at, version).then(
        () => undefined,
        (error: unknown) => {
          // Only a layout that differs stays refused; a failed read is tried again next time.
          if (!(error instanceof MetadataLayoutError)) this.checkedSpecs.delete(version.specVersion);
          throw error;
        },
      );
      this.checkedSpecs.set(version.specVersion, check);
    }
    return check;
  }

  /** Windows of the completed cycles (last block finalized) the range names, oldest first. */
  private windowsFor(range: BackfillRange, finalized: number): CycleWindow[] {
    const complete = (w: CycleWindow) => w.lastBlock <= finalized;
    if ("last" in range) return lastCyclesEndingBy(this.schedule, range.last, finalized);
    if ("fromBlock" in range) return cyclesOverlapping(this.schedule, range.fromBlock, Math.min(range.toBlock, finalized)).filter(complete);
    return cyclesByIndex(this.schedule, range.fromCycle, range.toCycle).filter(complete);
  }

  async backfill(rangeInput: BackfillRange): Promise<IngestSummary> {
    const parsed = backfillRangeSchema.safeParse(rangeInput);
    if (!parsed.success) throw new Error(`invalid backfill range: ${z.prettifyError(parsed.error)}`);
    const { rpc, store, netuid, onProgress } = this.options;
    const started = performance.now();
    const requestsBefore = rpc.stats.roundTrips;
    const callsBefore = rpc.stats.calls;
    await this.checkRuntime();
    const finalized = await rpc.finalized();
    const windows = this.windowsFor(parsed.data, finalized.number);
    const stored = await store.storedBlockHashes(netuid, windows);
    const outcomes: (CycleOutcome | undefined)[] = [];
    let done = 0;
    let next = 0;
    let failure: unknown = null;

    const ingestOne = async (window: CycleWindow, position: number) => {
      const meter = newRpcStats();
      const b = cycleBlocks(window);
      const [firstBlockHash, lastBlockHash, commitReadHash, windowEndHash, readBlockHash] = await rpc.blockHashes(
        [b.firstBlock, b.lastBlock, b.commitReadBlock, b.windowEndBlock, b.readBlock],
        meter,
      );
      const hashes = {
        firstBlockHash: firstBlockHash!,
        lastBlockHash: lastBlockHash!,
        commitReadHash: commitReadHash!,
        windowEndHash: windowEndHash!,
        readBlockHash: readBlockHash!,
      };
      const previous = stored.get(cycleKeyId(window));
      let action: IngestProgress["action"] = "verified";
      let committed: number | null = null;
      let accepted: number | null = null;
      if (!previous || !sameHashes(previous, hashes)) {
        const record = await readCycle(rpc, {
          netuid,
          window,
          hashes,
          validatorWhitelist: this.whitelist,
          meter,
          checkRuntime: (v, at) => this.checkSpec(v, at),
        });
        await store.upsertCycle({ ...record, rpcRequests: meter.roundTrips, rpcCalls: meter.calls });
        action = previous ? "reingested" : "ingested";
        committed = record.committed.count;
        accepted = record.accepted.count;
      }
      outcomes[position] = {
        index: window.index,
        firstBlock: window.firstBlock,
        length: window.length,
        scheduleKey: window.scheduleKey,
        action,
        committed,
        accepted,
        requests: meter.roundTrips,
        calls: meter.calls,
      };
      const doneNow = ++done;
      const seconds = (performance.now() - started) / 1000;
      onProgress?.({
        cycle: window.index,
        firstBlock: window.firstBlock,
        length: window.length,
        action,
        committed,
        accepted,
        done: doneNow,
        total: windows.length,
        requests: rpc.stats.roundTrips,
        calls: rpc.stats.calls,
        cyclesPerSecond: doneNow / seconds,
      });
    };

    const worker = async () => {
      while (failure === null && next < windows.length) {
        const position = next++;
        try {
          await ingestOne(windows[position]!, position);
        } catch (error) {
          failure ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, windows.length) }, worker));
    // The checkpoint moves over what was stored even when a cycle failed: those writes were acknowledged.
    const { checkpoint, gaps } = await this.advanceCheckpoint(windows[0] ?? null, windows.at(-1)?.lastBlock ?? -1);
    if (failure !== null) throw failure;
    const finished = outcomes.filter((o): o is CycleOutcome => o !== undefined);
    return {
      cycles: finished,
      ingested: finished.filter((o) => o.action === "ingested").length,
      reingested: finished.filter((o) => o.action === "reingested").length,
      verified: finished.filter((o) => o.action === "verified").length,
      requests: rpc.stats.roundTrips - requestsBefore,
      calls: rpc.stats.calls - callsBefore,
      seconds: (performance.now() - started) / 1000,
      checkpoint,
      gaps,
    };
  }

  /**
   * Moves the checkpoint to the end of the gap-free prefix: from the checkpoint (or, for a new store, the oldest
   * cycle of this run) through every whole cycle the schedule defines, as long as each is stored. Returns it with the
   * gaps between it and `upTo` (the newest block read).
   */
  private async advanceCheckpoint(oldest: CycleWindow | null, upTo: number): Promise<{ checkpoint: Checkpoint | null; gaps: Gap[] }> {
    const { store, netuid } = this.options;
    let checkpoint = await store.loadCheckpoint(netuid);
    if (upTo < 0 || (checkpoint && upTo <= checkpoint.lastBlock)) return { checkpoint, gaps: [] };
    const from = checkpoint ? checkpoint.lastBlock + 1 : oldest!.firstBlock;
    const expected = cyclesOverlapping(this.schedule, from, upTo).filter((w) => w.firstBlock >= from && w.lastBlock <= upTo);
    const stored = await store.storedBlockHashes(netuid, expected);
    let prefix = 0;
    while (prefix < expected.length && stored.has(cycleKeyId(expected[prefix]!))) prefix++;
    if (prefix > 0) {
      const reached = expected[prefix - 1]!;
      checkpoint = { netuid, lastBlock: reached.lastBlock, lastCycle: reached.index, scheduleKey: reached.scheduleKey };
      await store.saveCheckpoint(checkpoint);
    }
    return { checkpoint, gaps: gapsOf(expected.slice(prefix).filter((w) => !stored.has(cycleKeyId(w)))) };
  }

  /**
   * Keeps up with the finalized head until `signal` aborts. Each poll reads the finalized head, then the schedule
   * (`schedule`, when given, so a length change is picked up), then ingests every whole cycle from the checkpoint's next block to the
   * finalized head: gaps behind the head are filled, and the first poll re-checks the last `recheckCycles` stored
   * cycles. With `onError`, a failed poll is reported and the next poll tries again.
   */
  async follow(options: {
    signal: AbortSignal;
    pollMs?: number;
    recheckCycles?: number;
    /** The schedule history known once `finalized` is final (read after it, so it is never older than the head). */
    schedule?: (finalized: number) => Promise<ScheduleHistory>;
    onSummary?: (s: IngestSummary) => void;
    onError?: (error: unknown) => void;
  }): Promise<void> {
    const { rpc, store, netuid } = this.options;
    const pollMs = options.pollMs ?? 12_000;
    let recheck = options.recheckCycles ?? 3;
    while (!options.signal.aborted) {
      try {
        const finalized = await rpc.finalized();
        if (options.schedule) this.schedule = await options.schedule(finalized.number);
        const checkpoint = await store.loadCheckpoint(netuid);
        let range: BackfillRange;
        if (!checkpoint) range = { last: 1 };
        else {
          // Re-check only cycles already stored: following must not reach back past where the store begins.
          const recent = recheck > 0 ? lastCyclesEndingBy(this.schedule, recheck, checkpoint.lastBlock) : [];
          const stored = await store.storedBlockHashes(netuid, recent);
          const rechecked = recent.find((w) => stored.has(cycleKeyId(w)));
          range = { fromBlock: rechecked?.firstBlock ?? checkpoint.lastBlock + 1, toBlock: finalized.number };
        }
        if (!("fromBlock" in range) || range.fromBlock <= range.toBlock) {
          // Not `onSummary?.(await ...)`: without a callback that would skip the backfill itself.
          const summary = await this.backfill(range);
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
