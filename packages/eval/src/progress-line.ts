// The eval progress line on stderr: done/total docs with a bar, this run's rate and the ETA.
import { formatDuration } from "@subnet-review/core";
import type { EvalProgress } from "./run-eval.ts";

export function evalProgressLine(p: EvalProgress, width = 20): string {
  const filled = p.total > 0 ? Math.round((p.done / p.total) * width) : width;
  const bar = `${"#".repeat(filled)}${".".repeat(width - filled)}`;
  const ranNow = p.done - p.resumed;
  const rate = p.elapsedMs > 0 ? ranNow / (p.elapsedMs / 1000) : 0;
  const eta = p.etaMs === null ? "?" : formatDuration(p.etaMs / 1000);
  const pct = p.total > 0 ? ((100 * p.done) / p.total).toFixed(1) : "100.0";
  const resumed = p.resumed ? ` · ${p.resumed} resumed from samples` : "";
  return `${p.task} [${bar}] ${p.done}/${p.total} docs (${pct}%) · ${rate.toFixed(2)} docs/s · ETA ${eta}${resumed}`;
}
