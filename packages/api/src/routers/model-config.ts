import { countParameters, parseModelConfig } from "@subnet-review/core";
import { z } from "zod";
import { badInput, createTRPCRouter, protectedProcedure, publicProcedure } from "../trpc.ts";

export const modelConfigRouter = createTRPCRouter({
  list: publicProcedure.query(({ ctx }) => ctx.db.modelConfig.findMany({ orderBy: { id: "asc" }, select: { id: true, name: true, modelType: true } })),

  /** Stores a Hugging Face config.json after core has parsed and counted it, and returns the census totals. */
  upsert: protectedProcedure
    .input(z.object({ name: z.string().min(1).max(200), config: z.record(z.string(), z.unknown()) }))
    .mutation(async ({ ctx, input }) => {
      let census;
      try {
        census = countParameters(parseModelConfig(input.config));
      } catch (err) {
        badInput(err);
      }
      const row = await ctx.db.modelConfig.upsert({
        where: { name: input.name },
        create: { name: input.name, modelType: census.modelType, config: input.config as object },
        update: { modelType: census.modelType, config: input.config as object },
      });
      return { id: row.id, name: row.name, modelType: row.modelType, total: census.total, routedExperts: census.routedExperts };
    }),
});
