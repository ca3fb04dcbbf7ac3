import { z } from "zod";
import { int32 } from "../fields.ts";
import { createTRPCRouter, publicProcedure } from "../trpc.ts";

/** Most cycles one query returns: ~2 months of 524-block cycles. */
const MAX_CYCLES = 5_000;
const cycleIndex = int32(0);

export const cyclesInput = z
  .object({
    netuid: z.number().int().min(0).max(65535, "a subnet id from 0 to 65535"),
    fromCycle: cycleIndex.optional(),
    toCycle: cycleIndex.optional(),
    last: z.number().int().min(1, "at least 1 cycle").max(MAX_CYCLES, `at most ${MAX_CYCLES} cycles`).optional(),
  })
  .superRefine((q, ctx) => {
    if (q.last !== undefined && (q.fromCycle !== undefined || q.toCycle !== undefined)) {
      ctx.addIssue({ code: "custom", path: ["last"], message: "give either last or fromCycle/toCycle, not both" });
    }
    if (q.fromCycle !== undefined && q.toCycle !== undefined) {
      if (q.toCycle < q.fromCycle) ctx.addIssue({ code: "custom", path: ["toCycle"], message: `must be >= fromCycle ${q.fromCycle}` });
      else if (q.toCycle - q.fromCycle + 1 > MAX_CYCLES) ctx.addIssue({ code: "custom", path: ["toCycle"], message: `a range of at most ${MAX_CYCLES} cycles` });
    }
  });

export const telemetryRouter = createTRPCRouter({
  /**
   * Ingested cycles of a subnet, oldest first, with their block hashes and distinct active miner counts, and the
   * ingest checkpoint. Without a range: the last 48 (the published window's size), or `last`.
   */
  cycles: publicProcedure.input(cyclesInput).query(async ({ ctx, input }) => {
    const ranged = input.fromCycle !== undefined || input.toCycle !== undefined;
    const rows = await ctx.db.chainCycle.findMany({
      where: { netuid: input.netuid, ...(ranged ? { cycle: { gte: input.fromCycle, lte: input.toCycle } } : {}) },
      select: {
        cycle: true, length: true, firstBlock: true, lastBlock: true, firstBlockHash: true, lastBlockHash: true, readBlock: true, readBlockHash: true,
        registeredNeurons: true, activeMiners: true, schedule: true, ingestedAt: true,
      },
      orderBy: { cycle: ranged ? "asc" : "desc" },
      take: ranged ? MAX_CYCLES : (input.last ?? 48),
    });
    if (!ranged) rows.reverse();
    const checkpoint = await ctx.db.telemetryCheckpoint.findUnique({ where: { netuid: input.netuid }, select: { lastCycle: true, lastBlock: true, updatedAt: true } });
    return {
      netuid: input.netuid,
      checkpoint,
      cycles: rows.map(({ schedule, ingestedAt, ...r }) => ({
        ...r,
        scheduleSource: z.object({ source: z.string() }).safeParse(schedule).data?.source ?? null,
        ingestedAt: ingestedAt.toISOString(),
      })),
    };
  }),
});
