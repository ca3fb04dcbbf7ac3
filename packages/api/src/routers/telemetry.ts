import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { COUNT_DEFINITIONS, cycleMinerFromRow, type CountDefinition, type CycleMiner } from "@subnet-review/telemetry/definitions";
import { int32 } from "../fields.ts";
import { createTRPCRouter, publicProcedure } from "../trpc.ts";

/** Most cycles one query returns: ~2 months of 524-block cycles. */
const MAX_CYCLES = 5_000;
const cycleIndex = int32(0);
const block = int32(0);
const netuid = z.number().int().min(0).max(65535, "a subnet id from 0 to 65535");

export const cyclesInput = z
  .object({
    netuid,
    /** Indexes restart at every schedule change: a range may hold cycles of two schedules (each row names its own). */
    fromCycle: cycleIndex.optional(),
    toCycle: cycleIndex.optional(),
    /** Cycles with a block in [fromBlock, toBlock]. */
    fromBlock: block.optional(),
    toBlock: block.optional(),
    last: z.number().int().min(1, "at least 1 cycle").max(MAX_CYCLES, `at most ${MAX_CYCLES} cycles`).optional(),
  })
  .superRefine((q, ctx) => {
    const byIndex = q.fromCycle !== undefined || q.toCycle !== undefined;
    const byBlock = q.fromBlock !== undefined || q.toBlock !== undefined;
    if (q.last !== undefined && (byIndex || byBlock))
      ctx.addIssue({ code: "custom", path: ["last"], message: "give either last, fromCycle/toCycle or fromBlock/toBlock" });
    if (byIndex && byBlock) ctx.addIssue({ code: "custom", path: ["fromBlock"], message: "give either fromCycle/toCycle or fromBlock/toBlock, not both" });
    if (q.fromCycle !== undefined && q.toCycle !== undefined) {
      if (q.toCycle < q.fromCycle) ctx.addIssue({ code: "custom", path: ["toCycle"], message: `must be >= fromCycle ${q.fromCycle}` });
      else if (q.toCycle - q.fromCycle + 1 > MAX_CYCLES)
        ctx.addIssue({ code: "custom", path: ["toCycle"], message: `a range of at most ${MAX_CYCLES} cycles` });
    }
    if (q.fromBlock !== undefined && q.toBlock !== undefined && q.toBlock < q.fromBlock)
      ctx.addIssue({ code: "custom", path: ["toBlock"], message: `must be >= fromBlock ${q.fromBlock}` });
  });

/** One cycle: identified by firstBlock + length + scheduleKey (the index repeats across schedules). */
export const cycleInput = z.object({ netuid, firstBlock: block, length: int32(1), scheduleKey: z.string().min(1).max(200).optional() });

/** A count with the name of the definition it was computed by. */
export interface CycleCountView {
  definition: CountDefinition;
  description: string;
  count: number;
}

/** One ingested cycle in telemetry.cycles. */
export interface CycleSummaryView {
  cycle: number;
  length: number;
  firstBlock: number;
  lastBlock: number;
  /** Finalized hash of the cycle's last block. */
  finalizedHash: string;
  firstBlockHash: string;
  scheduleKey: string;
  scheduleSource: string | null;
  registeredNeurons: number;
  committed: CycleCountView;
  accepted: CycleCountView;
  /** Same as committed.count; kept for pages that draw one series. */
  activeMiners: number;
  /** What reading it cost: HTTP requests / WebSocket frames, and JSON-RPC calls. */
  rpcRequests: number;
  rpcCalls: number;
  ingestedAt: string;
}

/** One hotkey of a cycle's drill-down: telemetry's own record of it. */
export type CycleMinerView = CycleMiner;

/** telemetry.cycle: a cycle's block range, hashes, phases, reads, both counts and every hotkey it looked at. */
export interface CycleDetailView extends CycleSummaryView {
  phases: { phase: string; start: number; end: number }[];
  reads: { role: "commitRead" | "windowEnd" | "submissionRead"; block: number; hash: string; what: string }[];
  miners: CycleMinerView[];
}

const phasesSchema = z.array(z.object({ phase: z.string(), start: z.number().int(), end: z.number().int() }));
const definitionSchema = z.enum(Object.keys(COUNT_DEFINITIONS) as [CountDefinition, ...CountDefinition[]]);

interface CycleRow {
  cycle: number;
  length: number;
  firstBlock: number;
  lastBlock: number;
  firstBlockHash: string;
  lastBlockHash: string;
  scheduleKey: string;
  schedule: unknown;
  registeredNeurons: number;
  committedMiners: number;
  committedDefinition: string;
  acceptedMiners: number;
  acceptedDefinition: string;
  rpcRequests: number;
  rpcCalls: number;
  ingestedAt: Date;
}

const count = (definition: string, value: number): CycleCountView => {
  const name = definitionSchema.parse(definition);
  return { definition: name, description: COUNT_DEFINITIONS[name], count: value };
};

function summaryOf(r: CycleRow): CycleSummaryView {
  return {
    cycle: r.cycle,
    length: r.length,
    firstBlock: r.firstBlock,
    lastBlock: r.lastBlock,
    finalizedHash: r.lastBlockHash,
    firstBlockHash: r.firstBlockHash,
    scheduleKey: r.scheduleKey,
    scheduleSource: z.object({ source: z.string() }).safeParse(r.schedule).data?.source ?? null,
    registeredNeurons: r.registeredNeurons,
    committed: count(r.committedDefinition, r.committedMiners),
    accepted: count(r.acceptedDefinition, r.acceptedMiners),
    activeMiners: r.committedMiners,
    rpcRequests: r.rpcRequests,
    rpcCalls: r.rpcCalls,
    ingestedAt: r.ingestedAt.toISOString(),
  };
}

const summarySelect = {
  cycle: true,
  length: true,
  firstBlock: true,
  lastBlock: true,
  firstBlockHash: true,
  lastBlockHash: true,
  scheduleKey: true,
  schedule: true,
  registeredNeurons: true,
  committedMiners: true,
  committedDefinition: true,
  acceptedMiners: true,
  acceptedDefinition: true,
  rpcRequests: true,
  rpcCalls: true,
  ingestedAt: true,
} as const;

export const telemetryRouter = createTRPCRouter({
  /**
   * Ingested cycles of a subnet in block order with both counts, and the ingest checkpoint (the last block of the
   * gap-free prefix). Without a range: the last 48 (the published window's size), or `last`.
   */
  cycles: publicProcedure.input(cyclesInput).query(async ({ ctx, input }) => {
    const byIndex = input.fromCycle !== undefined || input.toCycle !== undefined;
    const byBlock = input.fromBlock !== undefined || input.toBlock !== undefined;
    const ranged = byIndex || byBlock;
    const rows = await ctx.db.chainCycle.findMany({
      where: {
        netuid: input.netuid,
        ...(byIndex ? { cycle: { gte: input.fromCycle, lte: input.toCycle } } : {}),
        ...(byBlock ? { lastBlock: { gte: input.fromBlock }, firstBlock: { lte: input.toBlock } } : {}),
      },
      select: summarySelect,
      orderBy: [{ firstBlock: ranged ? "asc" : "desc" }, { length: ranged ? "asc" : "desc" }],
      take: ranged ? MAX_CYCLES : (input.last ?? 48),
    });
    if (!ranged) rows.reverse();
    const checkpoint = await ctx.db.telemetryCheckpoint.findUnique({
      where: { netuid: input.netuid },
      select: { lastCycle: true, lastBlock: true, scheduleKey: true, updatedAt: true },
    });
    return { netuid: input.netuid, checkpoint, definitions: COUNT_DEFINITIONS, cycles: rows.map(summaryOf) };
  }),

  /** One cycle for the page's drill-down; NOT_FOUND when it is not ingested (or two schedules match: give scheduleKey). */
  cycle: publicProcedure.input(cycleInput).query(async ({ ctx, input }): Promise<CycleDetailView> => {
    const rows = await ctx.db.chainCycle.findMany({
      where: { netuid: input.netuid, firstBlock: input.firstBlock, length: input.length, ...(input.scheduleKey ? { scheduleKey: input.scheduleKey } : {}) },
      select: {
        ...summarySelect,
        phases: true,
        commitReadBlock: true,
        commitReadHash: true,
        windowEndBlock: true,
        windowEndHash: true,
        readBlock: true,
        readBlockHash: true,
        miners: { orderBy: [{ uid: "asc" }, { hotkey: "asc" }] },
      },
      take: 2,
    });
    if (rows.length !== 1) {
      const message =
        rows.length === 0
          ? `no ingested cycle of netuid ${input.netuid} starts at #${input.firstBlock} with ${input.length} blocks`
          : "two schedules hold this cycle: give scheduleKey";
      throw new TRPCError({ code: rows.length === 0 ? "NOT_FOUND" : "BAD_REQUEST", message });
    }
    const r = rows[0]!;
    return {
      ...summaryOf(r),
      phases: phasesSchema.parse(r.phases),
      reads: [
        { role: "commitRead", block: r.commitReadBlock, hash: r.commitReadHash, what: "MinerCommit1 end + 1: the validators' signed-hash read" },
        { role: "windowEnd", block: r.windowEndBlock, hash: r.windowEndHash, what: "MinerCommit2's last block: the committed count's read" },
        { role: "submissionRead", block: r.readBlock, hash: r.readBlockHash, what: "MinerCommit2 end + 1: the validators' submission read" },
      ],
      miners: r.miners.map(cycleMinerFromRow),
    };
  }),
});
