import { TRPCError } from "@trpc/server";
import { trainedCells } from "@subnet-review/core";
import type { Db } from "@subnet-review/db";
import { z } from "zod";
import { int32 } from "../fields.ts";
import { createTRPCRouter, protectedProcedure, publicProcedure } from "../trpc.ts";

// Training runs as the trainer streams them (packages/trainer/src/runner/records.ts). Every write is idempotent:
// a run's backlog replayed after an API outage upserts the same rows and duplicates nothing.

const runId = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, "letters, digits, '.', '_' and '-', at most 100");
const layerIds = z.record(z.string().regex(/^\d+$/, "a MoE layer index"), z.array(int32(0)));
const bytes = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable();
const experimentName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, "lowercase letters, digits, '.', '_' and '-', at most 100");

export const runCreateInput = z.object({
  id: runId,
  cell: z.enum(trainedCells),
  trainable: int32(0),
  kept: int32(0),
  /** the training forward's routing; optional for trainers that predate it */
  routingMode: z.enum(["subnet", "renormalized", "natural"]).optional(),
  topK: int32(1).nullable().optional(),
  steps: int32(1),
  spec: z.record(z.string(), z.unknown()),
  experts: z.object({ trainable: layerIds, kept: layerIds }).nullable(),
  hardware: z.record(z.string(), z.unknown()).nullable(),
  gitCommit: z.string().max(100).nullable(),
  experiment: z.object({ name: experimentName, description: z.string().max(4000) }).nullable(),
  startedAt: z.iso.datetime(),
});

export const stepInput = z.object({
  step: int32(1),
  loss: z.number().finite(),
  gradNorm: z.number().finite().min(0),
  lr: z.number().finite().min(0),
  tokens: int32(0),
  tokensPerSecond: z.number().finite().min(0),
  stepSeconds: z.number().finite().min(0),
  memAllocatedBytes: bytes,
  memPeakBytes: bytes,
});

export const runFinishInput = z.object({
  runId,
  status: z.enum(["completed", "failed"]),
  error: z.string().max(20_000).nullable(),
  finishedAt: z.iso.datetime(),
  wallclockSeconds: z.number().finite().min(0),
  peakMemoryBytes: bytes,
  tokensPerSecond: z.number().finite().min(0).nullable(),
  mfu: z.number().finite().min(0).nullable(),
});

/** One row per step: a step twice in one batch would be written twice by one statement (Postgres refuses that). */
function refuseRepeatedSteps(steps: { step: number }[], ctx: z.RefinementCtx): void {
  const first = new Map<number, number>();
  for (const [i, s] of steps.entries()) {
    const seen = first.get(s.step);
    if (seen === undefined) first.set(s.step, i);
    else
      ctx.addIssue({ code: "custom", path: [i, "step"], message: `step ${s.step} appears twice in this batch (also at steps.${seen}); send each step once` });
  }
}

const big = (v: bigint | null): number | null => (v === null ? null : Number(v));

async function requireRun(db: Db, id: string): Promise<void> {
  const run = await db.trainingRun.findUnique({ where: { id }, select: { id: true } });
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: `runId: no run ${id} (runs.create first)` });
}

export const runsRouter = createTRPCRouter({
  /** Creates a run, or brings an existing one up to date and back to running (a resumed run). */
  create: protectedProcedure.input(runCreateInput).mutation(async ({ ctx, input }) => {
    const experiment = input.experiment
      ? await ctx.db.experiment.upsert({ where: { name: input.experiment.name }, create: input.experiment, update: {} }) // attach: keep its description
      : null;
    const fields = {
      cell: input.cell,
      trainable: input.trainable,
      kept: input.kept,
      routingMode: input.routingMode ?? null,
      topK: input.topK ?? null,
      steps: input.steps,
      spec: input.spec as object,
      experts: input.experts ?? undefined,
      hardware: (input.hardware as object | null) ?? undefined,
      gitCommit: input.gitCommit,
      experimentId: experiment?.id ?? null,
      status: "running",
    };
    await ctx.db.trainingRun.upsert({
      where: { id: input.id },
      create: { id: input.id, startedAt: new Date(input.startedAt), ...fields },
      update: { ...fields, finishedAt: null, error: null },
    });
    return { id: input.id, experimentId: experiment?.id ?? null };
  }),

  /** Upserts steps by (runId, step): sending a batch twice leaves one row per step. */
  appendSteps: protectedProcedure
    .input(z.object({ runId, steps: z.array(stepInput).min(1).max(1000).superRefine(refuseRepeatedSteps) }))
    .mutation(async ({ ctx, input }) => {
      await requireRun(ctx.db, input.runId);
      // One statement for the whole batch (a row-by-row upsert costs a round trip per step).
      const col = <K extends keyof (typeof input.steps)[number]>(k: K) => input.steps.map((s) => s[k]);
      const bytesCol = (k: "memAllocatedBytes" | "memPeakBytes") => input.steps.map((s) => (s[k] === null ? null : String(s[k])));
      await ctx.db.$executeRaw`
        INSERT INTO "TrainingStep" ("runId", "step", "loss", "gradNorm", "lr", "tokens", "tokensPerSecond", "stepSeconds", "memAllocatedBytes", "memPeakBytes")
        SELECT ${input.runId}, * FROM unnest(${col("step")}::int[], ${col("loss")}::float8[], ${col("gradNorm")}::float8[], ${col("lr")}::float8[],
          ${col("tokens")}::int[], ${col("tokensPerSecond")}::float8[], ${col("stepSeconds")}::float8[], ${bytesCol("memAllocatedBytes")}::bigint[], ${bytesCol("memPeakBytes")}::bigint[])
        ON CONFLICT ("runId", "step") DO UPDATE SET
          "loss" = EXCLUDED."loss", "gradNorm" = EXCLUDED."gradNorm", "lr" = EXCLUDED."lr", "tokens" = EXCLUDED."tokens",
          "tokensPerSecond" = EXCLUDED."tokensPerSecond", "stepSeconds" = EXCLUDED."stepSeconds",
          "memAllocatedBytes" = EXCLUDED."memAllocatedBytes", "memPeakBytes" = EXCLUDED."memPeakBytes", "recordedAt" = now()`;
      return { runId: input.runId, received: input.steps.length };
    }),

  finish: protectedProcedure.input(runFinishInput).mutation(async ({ ctx, input }) => {
    await requireRun(ctx.db, input.runId);
    await ctx.db.trainingRun.update({
      where: { id: input.runId },
      data: {
        status: input.status,
        error: input.error,
        finishedAt: new Date(input.finishedAt),
        wallclockSeconds: input.wallclockSeconds,
        peakMemoryBytes: input.peakMemoryBytes === null ? null : BigInt(input.peakMemoryBytes),
        tokensPerSecond: input.tokensPerSecond,
        mfu: input.mfu,
      },
    });
    return { runId: input.runId, status: input.status };
  }),

  /** An experiment's runs, newest first, with how many steps each has recorded. */
  byExperiment: publicProcedure.input(z.object({ name: experimentName })).query(async ({ ctx, input }) => {
    const experiment = await ctx.db.experiment.findUnique({ where: { name: input.name } });
    if (!experiment) throw new TRPCError({ code: "NOT_FOUND", message: `name: no experiment ${input.name}` });
    const runs = await ctx.db.trainingRun.findMany({
      where: { experimentId: experiment.id },
      orderBy: { startedAt: "desc" },
      include: { _count: { select: { metrics: true } } },
    });
    return {
      experiment: { name: experiment.name, description: experiment.description },
      runs: runs.map(({ _count, peakMemoryBytes, startedAt, finishedAt, ...r }) => ({
        ...r,
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt?.toISOString() ?? null,
        peakMemoryBytes: big(peakMemoryBytes),
        recordedSteps: _count.metrics,
      })),
    };
  }),

  /** A run's steps in order (after `afterStep`, at most `limit`). */
  steps: publicProcedure
    .input(z.object({ runId, afterStep: int32(0).default(0), limit: z.number().int().min(1).max(100_000).default(10_000) }))
    .query(async ({ ctx, input }) => {
      await requireRun(ctx.db, input.runId);
      const rows = await ctx.db.trainingStep.findMany({
        where: { runId: input.runId, step: { gt: input.afterStep } },
        orderBy: { step: "asc" },
        take: input.limit,
      });
      return rows.map(({ runId: _r, recordedAt, memAllocatedBytes, memPeakBytes, ...s }) => ({
        ...s,
        memAllocatedBytes: big(memAllocatedBytes),
        memPeakBytes: big(memPeakBytes),
        recordedAt: recordedAt.toISOString(),
      }));
    }),
});
