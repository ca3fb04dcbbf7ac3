import type { Db } from "@subnet-review/db";
import { z } from "zod";
import { cycleMinerFromRow } from "./count-definitions.ts";
import { PHASE_NAMES, scheduleSegmentSchema } from "./schedule.ts";
import { assertDistinctHotkeys, blockHashesOf } from "./memory-store.ts";
import { ACCEPTED, COMMITTED, cycleKeyId, type Checkpoint, type CycleBlockHashes, type CycleKey, type CycleRecord, type TelemetryStore } from "./store.ts";

const phasesSchema = z.array(z.object({ phase: z.enum(PHASE_NAMES), start: z.number().int(), end: z.number().int() }));

/**
 * TelemetryStore over Postgres (ChainCycle, ChainMiner, TelemetryCheckpoint). A cycle is keyed by netuid, first
 * block, length and schedule key; it and its miner rows are written in one transaction, so a failed write leaves
 * the previous version of the cycle (or nothing) behind.
 */
export class PgStore implements TelemetryStore {
  constructor(private readonly db: Db) {}

  async loadCheckpoint(netuid: number): Promise<Checkpoint | null> {
    const row = await this.db.telemetryCheckpoint.findUnique({ where: { netuid } });
    return row ? { netuid: row.netuid, lastCycle: row.lastCycle, lastBlock: row.lastBlock, scheduleKey: row.scheduleKey } : null;
  }

  async storedBlockHashes(netuid: number, keys: readonly CycleKey[]): Promise<Map<string, CycleBlockHashes>> {
    const found = new Map<string, CycleBlockHashes>();
    if (keys.length === 0) return found;
    const wanted = new Set(keys.map(cycleKeyId));
    const rows = await this.db.chainCycle.findMany({
      where: { netuid, firstBlock: { in: [...new Set(keys.map((k) => k.firstBlock))] } },
      select: {
        firstBlock: true,
        length: true,
        scheduleKey: true,
        firstBlockHash: true,
        lastBlockHash: true,
        commitReadHash: true,
        windowEndHash: true,
        readBlockHash: true,
      },
    });
    for (const r of rows) if (wanted.has(cycleKeyId(r))) found.set(cycleKeyId(r), blockHashesOf(r));
    return found;
  }

  async upsertCycle(cycle: CycleRecord): Promise<void> {
    assertDistinctHotkeys(cycle);
    const key = { netuid: cycle.netuid, firstBlock: cycle.firstBlock, length: cycle.length, scheduleKey: cycle.scheduleKey };
    const fields = {
      cycle: cycle.index,
      lastBlock: cycle.lastBlock,
      ...blockHashesOf(cycle),
      commitReadBlock: cycle.commitReadBlock,
      windowEndBlock: cycle.windowEndBlock,
      readBlock: cycle.readBlock,
      phases: cycle.phases.map((p) => ({ phase: p.phase, start: p.start, end: p.end })),
      schedule: { fromBlock: cycle.schedule.fromBlock, phases: { ...cycle.schedule.phases }, source: cycle.schedule.source },
      registeredNeurons: cycle.registeredNeurons,
      committedMiners: cycle.committed.count,
      committedDefinition: cycle.committed.definition,
      acceptedMiners: cycle.accepted.count,
      acceptedDefinition: cycle.accepted.definition,
      rpcRequests: cycle.rpcRequests,
      rpcCalls: cycle.rpcCalls,
      // A re-ingested cycle shows when it was last read.
      ingestedAt: new Date(),
    };
    await this.db.$transaction(async (tx) => {
      await tx.chainCycle.upsert({ where: { netuid_firstBlock_length_scheduleKey: key }, create: { ...key, ...fields }, update: fields });
      // Replace, not merge: a miner that a reorg removed from the cycle must not survive the re-ingest.
      await tx.chainMiner.deleteMany({ where: key });
      if (cycle.miners.length > 0) {
        // One statement with array parameters rather than createMany's per-row ones (bench/telemetry-pg.ts).
        const m = cycle.miners;
        await tx.$executeRaw`
          INSERT INTO "ChainMiner" ("netuid", "firstBlock", "length", "scheduleKey", "hotkey", "uid", "commitBlock", "commitPhase", "payloadKind", "payload", "submissionBlock", "committed", "accepted", "rejection")
          SELECT ${key.netuid}::int, ${key.firstBlock}::int, ${key.length}::int, ${key.scheduleKey}::text, r.*
          FROM unnest(${m.map((x) => x.hotkey)}::text[], ${m.map((x) => x.uid)}::int[], ${m.map((x) => x.commitBlock)}::int[],
                      ${m.map((x) => x.commitPhase)}::text[], ${m.map((x) => x.payloadKind)}::text[], ${m.map((x) => x.payload)}::text[],
                      ${m.map((x) => x.submissionBlock)}::int[], ${m.map((x) => x.committed)}::boolean[], ${m.map((x) => x.accepted)}::boolean[],
                      ${m.map((x) => x.rejection)}::text[])
            AS r(hotkey, uid, "commitBlock", "commitPhase", "payloadKind", payload, "submissionBlock", committed, accepted, rejection)`;
      }
    });
  }

  async saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const { netuid, lastCycle, lastBlock, scheduleKey } = checkpoint;
    await this.db.telemetryCheckpoint.upsert({
      where: { netuid },
      create: { netuid, lastCycle, lastBlock, scheduleKey },
      update: { lastCycle, lastBlock, scheduleKey },
    });
  }

  /** Stored cycles of a netuid in block order, with their miners (uid order), optionally with a block in [fromBlock, toBlock]. */
  async list(netuid: number, range: { fromBlock?: number; toBlock?: number } = {}): Promise<CycleRecord[]> {
    const rows = await this.db.chainCycle.findMany({
      where: { netuid, lastBlock: { gte: range.fromBlock }, firstBlock: { lte: range.toBlock } },
      include: { miners: { orderBy: [{ uid: "asc" }, { hotkey: "asc" }] } },
      orderBy: [{ firstBlock: "asc" }, { length: "asc" }],
    });
    return rows.map((r) => ({
      netuid: r.netuid,
      index: r.cycle,
      length: r.length,
      firstBlock: r.firstBlock,
      lastBlock: r.lastBlock,
      scheduleKey: r.scheduleKey,
      commitReadBlock: r.commitReadBlock,
      windowEndBlock: r.windowEndBlock,
      readBlock: r.readBlock,
      ...blockHashesOf(r),
      phases: phasesSchema.parse(r.phases),
      schedule: scheduleSegmentSchema.parse(r.schedule),
      registeredNeurons: r.registeredNeurons,
      committed: { definition: z.literal(COMMITTED).parse(r.committedDefinition), count: r.committedMiners },
      accepted: { definition: z.literal(ACCEPTED).parse(r.acceptedDefinition), count: r.acceptedMiners },
      rpcRequests: r.rpcRequests,
      rpcCalls: r.rpcCalls,
      miners: r.miners.map(cycleMinerFromRow),
    }));
  }
}
