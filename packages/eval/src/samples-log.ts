import { appendFile, mkdir, readFile, truncate } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { parseJsonl } from "./jsonl.ts";

const base = {
  task: z.string().min(1),
  docIndex: z.number().int().nonnegative(),
  model: z.string(),
  subject: z.string().optional(),
  prompt: z.string(),
  /** Per metric: did this sample score? */
  correct: z.record(z.string(), z.boolean()),
};

export const generationSampleSchema = z.object({
  ...base,
  kind: z.literal("generate"),
  output: z.string(),
  gold: z.string(),
  extracted: z.record(z.string(), z.string()),
});

export const choiceSampleSchema = z.object({
  ...base,
  kind: z.literal("choice"),
  choices: z.array(z.string()),
  gold: z.number().int().nonnegative(),
  loglikelihoods: z.array(z.number()),
  isGreedy: z.array(z.boolean()),
  pred: z.number().int(),
  predNorm: z.number().int(),
});

export const sampleRecordSchema = z.discriminatedUnion("kind", [generationSampleSchema, choiceSampleSchema]);
export type SampleRecord = z.infer<typeof sampleRecordSchema>;

/**
 * Reads a samples JSONL file (missing file: empty). A last line without its newline is what an interrupted append
 * leaves: it is cut off the file so the next append starts on a clean line, and its sample is redone.
 */
export async function readSampleLog(path: string): Promise<SampleRecord[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  if (text.length > 0 && !text.endsWith("\n")) {
    const keep = text.lastIndexOf("\n") + 1;
    text = text.slice(0, keep);
    await truncate(path, Buffer.byteLength(text, "utf8"));
  }
  return parseJsonl(text, path, sampleRecordSchema).map((r) => r.value);
}

/** Appends finished samples, one JSON line each, in one write. */
export async function appendSamples(path: string, records: readonly SampleRecord[]): Promise<void> {
  if (records.length === 0) return;
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, records.map((r) => `${JSON.stringify(r)}\n`).join(""), "utf8");
}
