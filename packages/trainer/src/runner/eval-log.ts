// runs/<ID>/evals.jsonl: each evaluation during training (the base model at step 0, checkpoints, the final adapter),
// one JSON line per task, with the metric rows the API takes. Written before anything goes to the API, so, like
// metrics.jsonl for steps, it is the record of truth and the backlog `train --resume` sends again.
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { EvalRecord } from "./records.ts";

export const EVALS_FILE = "evals.jsonl";

const evalRecordSchema = z.object({
  model: z.string().min(1),
  runId: z.string().min(1),
  step: z.number().int().nonnegative(),
  task: z.string().min(1),
  metric: z.string().min(1),
  value: z.number(),
  stderr: z.number().nullable(),
  n: z.number().int().positive(),
  note: z.string().nullable(),
  samplesPath: z.string().nullable(),
});

/** One line: the step, the API rows, and the evaluator's full result (kept for people and tools, not read back). */
export const evalLogLineSchema = z.object({ step: z.number().int().nonnegative(), rows: z.array(evalRecordSchema).min(1), result: z.unknown() });
export type EvalLogLine = z.infer<typeof evalLogLineSchema>;

/** The key the API upserts a row by: the same evaluation logged twice is one row. */
export function evalRecordKey(r: Pick<EvalRecord, "model" | "runId" | "step" | "task" | "metric">): string {
  return [r.model, r.runId, r.step, r.task, r.metric].join("|");
}

/** Synchronous append: the line is on disk before the rows are sent anywhere. */
export function appendEvalLog(runDir: string, line: EvalLogLine): void {
  appendFileSync(join(runDir, EVALS_FILE), `${JSON.stringify(line)}\n`);
}

/** Every row of a run's evals.jsonl, in order. A last line cut short by a crash is dropped; any other bad line is an error. */
export function readEvalLog(runDir: string): EvalRecord[] {
  const path = join(runDir, EVALS_FILE);
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, "utf8").split("\n");
  return lines.flatMap((text, i) => {
    if (text.trim() === "") return [];
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      if (i >= lines.length - 2) return []; // the torn final write of a killed process
      throw new Error(`${path}:${i + 1}: not JSON`);
    }
    const parsed = evalLogLineSchema.safeParse(json);
    if (!parsed.success) throw new Error(`${path}:${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; ")}`);
    return parsed.data.rows;
  });
}
