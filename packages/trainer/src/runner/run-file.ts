// runs/<ID>/run.json: what the run was asked to do and what it was run with, written before the worker starts.
import { execFileSync } from "node:child_process";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { expertSelectionSchema } from "../worker/messages.ts";
import { runSpecSchema } from "./spec.ts";

export const RUN_FILE = "run.json";

export const runFileSchema = z.object({
  id: z.string().min(1),
  createdAt: z.string(),
  spec: runSpecSchema,
  /** the selection the worker got: the flag's, or the explicit assignment an experiment resolved once */
  selection: expertSelectionSchema,
  experiment: z.object({ name: z.string(), description: z.string() }).nullable(),
  gitCommit: z.string().nullable(),
  modelConfig: z.record(z.string(), z.unknown()),
  /** the packed dataset directory the worker reads and its manifest's summary */
  data: z.object({
    dir: z.string(),
    sequences: z.number().int(),
    seqLen: z.number().int(),
    targetTokens: z.number().int(),
    sha256: z.string(),
    lines: z.number().int(),
  }),
});
export type RunFile = z.infer<typeof runFileSchema>;

export function writeRunFile(dir: string, run: RunFile): void {
  const path = join(dir, RUN_FILE);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(run, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

export function readRunFile(dir: string): RunFile {
  const path = join(dir, RUN_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  const parsed = runFileSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

/** HEAD of the repository the trainer runs from, "+dirty" when tracked files differ; null outside git. */
export function gitCommit(cwd: string): string | null {
  try {
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return null;
  }
}

/** "20261125-171502-A-3f9c": sortable, names the cell, unique enough for one machine. */
export function newRunId(cell: string, now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${t}-${cell}-${Math.random().toString(16).slice(2, 6)}`;
}
