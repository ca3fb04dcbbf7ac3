import { importPublishedReview, openDatabase, publishedReviewPath, readPublishedReview } from "@subnet-review/db";
import { z } from "zod";
import { parseFlags, readableFile, UsageError } from "../args.ts";

export const importUsage = `pnpm review import [--file REVIEW.json]            import a published review's figures (kind "reported")`;

/** The review file's path once it reads and validates (with its model config), or a UsageError naming --file. */
async function checkedReviewFile(file: string | undefined): Promise<string> {
  const path = file === undefined ? publishedReviewPath : await readableFile(file, "--file");
  try {
    await readPublishedReview(path);
  } catch (err) {
    const detail = err instanceof SyntaxError ? `${path} is not valid JSON (${err.message})` : (err as Error).message;
    throw new UsageError(`--file: ${detail}`);
  }
  return path;
}

export async function importCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { file: { type: "string" } }, z.object({ file: z.string().min(1, "a path to a review JSON").optional() }));
  const path = await checkedReviewFile(flags.file);
  const database = await openDatabase();
  try {
    const { reviewId, figures } = await importPublishedReview(database.db, path);
    console.log(`review ${reviewId}: ${figures} reported figures imported`);
  } finally {
    await database.close();
  }
}
