// runs/<ID>/metrics.jsonl: every worker message, then the runner's end record, one JSON object per line.
// It is written before anything goes to the API, so it is the run's record of truth and the API's backlog.
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { workerMessageSchema, type WorkerMessage } from "../worker/messages.ts";

export const METRICS_FILE = "metrics.jsonl";

/** The runner's own line: how the run ended, with the summary figures it measured. */
export const runEndSchema = z.object({
  type: z.literal("run_end"),
  status: z.enum(["completed", "failed"]),
  error: z.string().nullable(),
  finished_at: z.string(),
  wallclock_s: z.number().nonnegative(),
  peak_memory_bytes: z.number().int().nonnegative().nullable(),
  tokens_per_s: z.number().nonnegative().nullable(),
  mfu: z.number().nonnegative().nullable(),
});
export type RunEnd = z.infer<typeof runEndSchema>;
export type MetricsLine = WorkerMessage | RunEnd;

const lineSchema = z.union([runEndSchema, workerMessageSchema]);

export class MetricsLog {
  constructor(readonly path: string) {}

  /** Synchronous append: the line is on disk before the caller sends it anywhere else. */
  append(line: MetricsLine): void {
    appendFileSync(this.path, `${JSON.stringify(line)}\n`);
  }
}

/**
 * Reads a metrics log. A last line cut short by a crash is dropped; any other bad line is an error
 * naming its line number.
 */
export function readMetricsLog(path: string): MetricsLine[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, "utf8").split("\n");
  const out: MetricsLine[] = [];
  lines.forEach((text, i) => {
    if (text.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      if (i >= lines.length - 2) return; // the torn final write of a killed runner
      throw new Error(`${path}:${i + 1}: not JSON`);
    }
    const parsed = lineSchema.safeParse(json);
    if (!parsed.success) throw new Error(`${path}:${i + 1}: ${parsed.error.issues[0]?.message ?? "not a metrics line"}`);
    out.push(parsed.data);
  });
  return out;
}
