import { countParameters, parseModelConfig, shardSizes } from "@subnet-review/core";
import { reviewConstantsSchema } from "@subnet-review/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { int32 } from "../fields.ts";
import { dataVersionOf } from "../view/data-version.ts";
import { cachedReviewView } from "../view/view-cache.ts";
import { badInput, createTRPCRouter, protectedProcedure, publicProcedure } from "../trpc.ts";

const slug = z.string().regex(/^[a-z0-9-]{1,100}$/, "lowercase letters, digits and dashes, at most 100");
const experimentName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, "an experiment name: lowercase letters, digits, '.', '_' and '-', at most 100");

export const reviewRouter = createTRPCRouter({
  list: publicProcedure.query(({ ctx }) =>
    ctx.db.review.findMany({
      orderBy: { id: "asc" },
      select: {
        slug: true,
        title: true,
        trainable: true,
        kept: true,
        updatedAt: true,
        subnet: { select: { netuid: true } },
        modelConfig: { select: { name: true } },
      },
    }),
  ),

  /** `experiment` picks the runs shown (default: the latest completed experiment). */
  bySlug: publicProcedure.input(z.object({ slug, experiment: experimentName.optional() })).query(async ({ ctx, input }) => {
    const view = await cachedReviewView(ctx.db, input.slug, input.experiment);
    if (!view) throw new TRPCError({ code: "NOT_FOUND", message: `no review ${input.slug}` });
    return view;
  }),

  /**
   * An opaque token that changes whenever committed data may have changed (the view cache's own notion), so a
   * client that keeps a rendered page (the web server) polls this instead of asking for the review again.
   */
  dataVersion: publicProcedure.query(async ({ ctx }) => ({ version: await dataVersionOf(ctx.db).current() })),

  /** A new review of a stored model config for a subnet, K and N checked against the model. */
  create: protectedProcedure
    .input(
      z.object({
        slug,
        title: z.string().min(1).max(200),
        summary: z.string().max(2000).default(""),
        source: z.string().min(1).max(500),
        netuid: z.number().int().min(0).max(65535),
        modelName: z.string().min(1),
        trainable: int32(1),
        kept: int32(0),
        constants: reviewConstantsSchema,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const model = await ctx.db.modelConfig.findUnique({ where: { name: input.modelName } });
      if (!model) throw new TRPCError({ code: "NOT_FOUND", message: `modelName: no stored model config ${input.modelName} (modelConfig.upsert first)` });
      try {
        shardSizes(countParameters(parseModelConfig(model.config)), { trainable: input.trainable, kept: input.kept });
      } catch (err) {
        badInput(err);
      }
      const subnet = await ctx.db.subnet.upsert({
        where: { netuid: input.netuid },
        create: { netuid: input.netuid, name: `subnet ${input.netuid}` },
        update: {},
      });
      const row = await ctx.db.review
        .create({
          data: {
            slug: input.slug,
            title: input.title,
            summary: input.summary,
            source: input.source,
            subnetId: subnet.id,
            modelConfigId: model.id,
            trainable: input.trainable,
            kept: input.kept,
            constants: input.constants,
          },
        })
        .catch((err: { code?: string }) => {
          if (err.code === "P2002") throw new TRPCError({ code: "CONFLICT", message: `slug: a review ${input.slug} exists` });
          throw err;
        });
      return { id: row.id, slug: row.slug };
    }),
});
