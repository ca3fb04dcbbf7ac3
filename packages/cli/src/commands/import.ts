import { importPublishedReview, databaseOptions, openDatabase, publishedReviewPath, readPublishedReview } from "@subnet-review/db";
import { z } from "zod";
import { parseFlags, readableFile, UsageError, type CommandHelp, type FlagSpecs } from "../args.ts";
import { cliEnv } from "../env.ts";

const importFlags = {
  file: { type: "string", value: "REVIEW.json", help: "a published review (default: the subnet 102 status review in packages/db/seed)" },
} satisfies FlagSpecs;

export const importHelp: CommandHelp = {
  usage: `pnpm review import [--file REVIEW.json]
    import a published review's figures (kind "reported"); importing it again changes nothing`,
  flags: importFlags,
};

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
  const flags = parseFlags(argv, importFlags, z.object({ file: z.string().min(1, "a path to a review JSON").optional() }));
  const path = await checkedReviewFile(flags.file);
  const database = await openDatabase(databaseOptions(cliEnv()));
  try {
    const { reviewId, figures } = await importPublishedReview(database.db, path);
    console.log(`review ${reviewId}: ${figures} reported figures imported`);
  } finally {
    await database.close();
  }
}
