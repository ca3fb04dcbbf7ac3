import { taskMetrics, taskNameSchema, taskNames } from "@subnet-review/eval/tasks";
import { TRPCError } from "@trpc/server";
import type { Db, EvalResult } from "@subnet-review/db";
import { z } from "zod";
import { int32 } from "../fields.ts";
import { createTRPCRouter, protectedProcedure, publicProcedure } from "../trpc.ts";

// Eval results as `pnpm review eval` (and eval during training) measure them. One row per
// model | run | step | task | metric: recording the same evaluation again replaces its row.

const runId = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, "letters, digits, '.', '_' and '-', at most 100");
const modelLabel = z.string().min(1, "must name the model or checkpoint").max(300);

export const evalResultInput = z
  .object({
    model: modelLabel,
    runId: runId.nullable().default(null),
    step: int32(0).nullable().default(null),
    task: taskNameSchema,
    metric: z.string().min(1),
    /** a fraction in [0, 1], as the harness reports accuracy */
    value: z.number().finite().min(0).max(1),
    stderr: z.number().finite().min(0).nullable(),
    n: int32(1),
    note: z.string().max(1000).nullable().default(null),
    samplesPath: z.string().max(1000).nullable().default(null),
  })
  .superRefine((r, ctx) => {
    const allowed = taskMetrics[r.task];
    if (!allowed.includes(r.metric)) ctx.addIssue({ code: "custom", path: ["metric"], message: `${r.task} metrics are ${allowed.join(", ")}` });
    if (r.step !== null && r.runId === null) ctx.addIssue({ code: "custom", path: ["step"], message: "a step needs its runId" });
  });
export type EvalResultInput = z.input<typeof evalResultInput>;

/** The row key: re-recording the same evaluation replaces it. */
export function evalResultKey(r: { model: string; runId: string | null; step: number | null; task: string; metric: string }): string {
  return [r.model, r.runId ?? "", r.step ?? "", r.task, r.metric].join("|");
}

function publicRow(r: EvalResult) {
  return {
    model: r.model,
    runId: r.runId,
    step: r.step,
    task: r.task,
    metric: r.metric,
    value: r.value,
    stderr: r.stderr,
    n: r.n,
    note: r.note,
    samplesPath: r.samplesPath,
    createdAt: r.createdAt.toISOString(),
  };
}

async function rowsWhere(db: Db, where: { runId?: string; model?: string }) {
  const rows = await db.evalResult.findMany({ where, orderBy: [{ task: "asc" }, { metric: "asc" }, { step: "asc" }, { id: "asc" }] });
  return rows.map(publicRow);
}

export const evalsRouter = createTRPCRouter({
  /** Upserts results by key, all or none. */
  record: protectedProcedure.input(z.object({ results: z.array(evalResultInput).min(1).max(500) })).mutation(async ({ ctx, input }) => {
    const runIds = [...new Set(input.results.map((r) => r.runId).filter((id): id is string => id !== null))];
    const known = new Set((await ctx.db.trainingRun.findMany({ where: { id: { in: runIds } }, select: { id: true } })).map((r) => r.id));
    const missing = runIds.find((id) => !known.has(id));
    if (missing) throw new TRPCError({ code: "NOT_FOUND", message: `runId: no run ${missing} (runs.create first)` });
    await ctx.db.$transaction(
      input.results.map((r) => {
        const key = evalResultKey(r);
        const data = { ...r, key };
        return ctx.db.evalResult.upsert({ where: { key }, create: data, update: data });
      }),
    );
    return { recorded: input.results.length };
  }),

  byRun: publicProcedure.input(z.object({ runId })).query(({ ctx, input }) => rowsWhere(ctx.db, { runId: input.runId })),

  byModel: publicProcedure.input(z.object({ model: modelLabel })).query(({ ctx, input }) => rowsWhere(ctx.db, { model: input.model })),

  tasks: publicProcedure.query(() => taskNames.map((task) => ({ task, metrics: [...taskMetrics[task]] }))),
});
