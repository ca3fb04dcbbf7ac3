import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { Db } from "./client.ts";
import { reviewConstantsSchema } from "./schemas.ts";

const reportedFigureSchema = z.object({
  key: z.string().regex(/^[a-z][\w.]*$/, "dotted lowercase key, e.g. model.params.total"),
  section: z.enum(["01", "02", "03", "04"]),
  label: z.string().min(1),
  value: z.number().finite(),
  unit: z.string().min(1),
  note: z.string(),
  cell: z.enum(["base", "A", "B", "C", "full"]).optional(),
  step: z.number().int().nonnegative().optional(),
  cycle: z.number().int().nonnegative().optional(),
});

export const publishedReviewSchema = z.object({
  slug: z.string().regex(/^[a-z0-9-]+$/),
  title: z.string().min(1),
  summary: z.string(),
  source: z.string().min(1),
  subnet: z.object({ netuid: z.number().int().min(0).max(65535), name: z.string().min(1) }),
  model: z.object({ name: z.string().min(1), configFile: z.string().min(1) }),
  experiment: z.object({ name: z.string().min(1), description: z.string() }),
  shard: z.object({ trainable: z.number().int().positive(), kept: z.number().int().nonnegative() }),
  constants: reviewConstantsSchema,
  figures: z.array(reportedFigureSchema).min(1),
});
export type PublishedReview = z.infer<typeof publishedReviewSchema>;

export const publishedReviewPath = fileURLToPath(new URL("../seed/subnet-102-status-review.json", import.meta.url));

/** Reads and validates a published-review data file and the model config.json it names (relative to it). */
export async function readPublishedReview(path: string = publishedReviewPath) {
  const parsed = publishedReviewSchema.safeParse(JSON.parse(await readFile(path, "utf8")));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const config: unknown = JSON.parse(await readFile(join(dirname(path), parsed.data.model.configFile), "utf8"));
  return { review: parsed.data, config };
}

/**
 * Upserts a published review and its figures (kind "reported") in one transaction, so a failed import
 * leaves nothing behind and a repeated import changes nothing.
 */
export async function importPublishedReview(db: Db, path: string = publishedReviewPath): Promise<{ reviewId: number; figures: number }> {
  const { review, config } = await readPublishedReview(path);
  const modelType = z.object({ model_type: z.string() }).parse(config).model_type;
  return db.$transaction(async (tx) => {
    // Serialise concurrent importers (two api replicas starting at once) so upserts never race.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(102000002)`;
    const subnet = await tx.subnet.upsert({
      where: { netuid: review.subnet.netuid },
      create: review.subnet,
      update: { name: review.subnet.name },
    });
    const model = await tx.modelConfig.upsert({
      where: { name: review.model.name },
      create: { name: review.model.name, modelType, config: config as object },
      update: { modelType, config: config as object },
    });
    const experiment = await tx.experiment.upsert({
      where: { name: review.experiment.name },
      create: review.experiment,
      update: { description: review.experiment.description },
    });
    const fields = {
      title: review.title,
      summary: review.summary,
      source: review.source,
      subnetId: subnet.id,
      modelConfigId: model.id,
      experimentId: experiment.id,
      trainable: review.shard.trainable,
      kept: review.shard.kept,
      constants: review.constants,
    };
    const row = await tx.review.upsert({
      where: { slug: review.slug },
      create: { slug: review.slug, ...fields },
      update: fields,
    });
    await tx.reportedFigure.deleteMany({ where: { reviewId: row.id } });
    await tx.reportedFigure.createMany({
      data: review.figures.map((f) => ({
        reviewId: row.id,
        key: f.key,
        section: f.section,
        label: f.label,
        value: f.value,
        unit: f.unit,
        cell: f.cell ?? null,
        step: f.step ?? null,
        cycle: f.cycle ?? null,
        note: f.note,
        source: `${review.source}, § ${f.section}`,
      })),
    });
    return { reviewId: row.id, figures: review.figures.length };
  });
}
