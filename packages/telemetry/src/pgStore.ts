import type { Db } from "@subnet-review/db";
import { z } from "zod";
import { PHASE_NAMES, scheduleSegmentSchema } from "./schedule.ts";
import type { ActiveMiner, Checkpoint, CycleBlockHashes, CycleRecord, TelemetryStore } from "./store.ts";

const phasesSchema = z.array(z.object({ phase: z.enum(PHASE_NAMES), start: z.number().int(), end: z.number().int() }));
const commitPhaseSchema = z.enum(["MinerCommit1", "MinerCommit2"]);

/**
 * TelemetryStore over Postgres (ChainCycle, ChainMiner, TelemetryCheckpoint). A cycle and its miner rows are
 * written in one transaction, so a failed write leaves the previous version of the cycle (or nothing) behind.
 */
export class PgStore implements TelemetryStore {
  constructor(private readonly db: Db) {}

  async loadCheckpoint(netuid: number): Promise<Checkpoint | null> {
    const row = await this.db.telemetryCheckpoint.findUnique({ where: { netuid } });
    return row ? { netuid: row.netuid, lastCycle: row.lastCycle, lastBlock: row.lastBlock } : null;
  }

  async storedBlockHashes(netuid: number, cycles: readonly number[]): Promise<Map<number, CycleBlockHashes>> {
    const found = new Map<number, CycleBlockHashes>();
    if (cycles.length === 0) return found;
    const rows = await this.db.chainCycle.findMany({
      where: { netuid, cycle: { in: [...cycles] } },
      select: { cycle: true, firstBlockHash: true, lastBlockHash: true, readBlockHash: true },
    });
    for (const r of rows) found.set(r.cycle, { firstBlockHash: r.firstBlockHash, lastBlockHash: r.lastBlockHash, readBlockHash: r.readBlockHash });
    return found;
  }

  async upsertCycle(cycle: CycleRecord): Promise<void> {
    const hotkeys = new Set(cycle.activeMiners.map((m) => m.hotkey));
    if (hotkeys.size !== cycle.activeMiners.length) throw new Error(`cycle ${cycle.index}: duplicate hotkey in active miners`);
    const key = { netuid: cycle.netuid, cycle: cycle.index };
    const fields = {
      length: cycle.length,
      firstBlock: cycle.firstBlock,
      lastBlock: cycle.lastBlock,
      firstBlockHash: cycle.firstBlockHash,
      lastBlockHash: cycle.lastBlockHash,
      readBlock: cycle.readBlock,
      readBlockHash: cycle.readBlockHash,
      phases: cycle.phases.map((p) => ({ phase: p.phase, start: p.start, end: p.end })),
      schedule: { fromBlock: cycle.schedule.fromBlock, phases: { ...cycle.schedule.phases }, source: cycle.schedule.source },
      registeredNeurons: cycle.registeredNeurons,
      activeMiners: cycle.activeMiners.length,
      // A re-ingested cycle shows when it was last read.
      ingestedAt: new Date(),
    };
    await this.db.$transaction(async (tx) => {
      await tx.chainCycle.upsert({ where: { netuid_cycle: key }, create: { ...key, ...fields }, update: fields });
      // Replace, not merge: a miner that a reorg removed from the cycle must not survive the re-ingest.
      await tx.chainMiner.deleteMany({ where: key });
      if (cycle.activeMiners.length > 0) {
        // One statement with five array parameters rather than createMany's per-row ones: the 150-cycle backfill
        // (~200 miners a cycle) took 23.8 s of CPU with createMany and 10.6 s with this (bench/telemetry-pg.ts).
        const m = cycle.activeMiners;
        await tx.$executeRaw`
          INSERT INTO "ChainMiner" ("netuid", "cycle", "hotkey", "uid", "commitBlock", "commitPhase", "payload")
          SELECT ${cycle.netuid}::int, ${cycle.index}::int, r.hotkey, r.uid, r.block, r.phase, r.payload
          FROM unnest(${m.map((x) => x.hotkey)}::text[], ${m.map((x) => x.uid)}::int[], ${m.map((x) => x.commitBlock)}::int[],
                      ${m.map((x) => x.commitPhase)}::text[], ${m.map((x) => x.payload)}::text[]) AS r(hotkey, uid, block, phase, payload)`;
      }
    });
  }

  async saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const { netuid, lastCycle, lastBlock } = checkpoint;
    await this.db.telemetryCheckpoint.upsert({ where: { netuid }, create: { netuid, lastCycle, lastBlock }, update: { lastCycle, lastBlock } });
  }

  /** Stored cycles of a netuid in index order, with their miners (uid order), optionally within [from, to]. */
  async list(netuid: number, range: { fromCycle?: number; toCycle?: number } = {}): Promise<CycleRecord[]> {
    const rows = await this.db.chainCycle.findMany({
      where: { netuid, cycle: { gte: range.fromCycle, lte: range.toCycle } },
      include: { miners: { orderBy: { uid: "asc" } } },
      orderBy: { cycle: "asc" },
    });
    return rows.map((r) => ({
      netuid: r.netuid,
      index: r.cycle,
      length: r.length,
      firstBlock: r.firstBlock,
      lastBlock: r.lastBlock,
      readBlock: r.readBlock,
      firstBlockHash: r.firstBlockHash,
      lastBlockHash: r.lastBlockHash,
      readBlockHash: r.readBlockHash,
      phases: phasesSchema.parse(r.phases),
      schedule: scheduleSegmentSchema.parse(r.schedule),
      registeredNeurons: r.registeredNeurons,
      activeMiners: r.miners.map(
        (m): ActiveMiner => ({ hotkey: m.hotkey, uid: m.uid, commitBlock: m.commitBlock, commitPhase: commitPhaseSchema.parse(m.commitPhase), payload: m.payload }),
      ),
    }));
  }
}
