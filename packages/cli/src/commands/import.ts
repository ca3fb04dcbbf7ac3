import { importPublishedReview, openDatabase, publishedReviewPath } from "@subnet-review/db";
import { z } from "zod";
import { parseFlags, userPath } from "../args.ts";

export const importUsage = `pnpm review import [--file REVIEW.json]            import a published review's figures (kind "reported")`;

export async function importCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { file: { type: "string" } }, z.object({ file: z.string().optional() }));
  const database = await openDatabase();
  try {
    const { reviewId, figures } = await importPublishedReview(database.db, flags.file ? userPath(flags.file) : publishedReviewPath);
    console.log(`review ${reviewId}: ${figures} reported figures imported`);
  } finally {
    await database.close();
  }
}
