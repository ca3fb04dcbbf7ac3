import { formatDuration } from "@subnet-review/core";
import type { IngestProgress } from "./ingest.ts";

/** One line of ingest progress: the cycle just finished, done/total with a bar, rate, requests and calls, ETA. */
export function ingestProgressLine(p: IngestProgress, width = 20): string {
  const filled = p.total > 0 ? Math.round((p.done / p.total) * width) : width;
  const bar = `${"#".repeat(filled)}${".".repeat(width - filled)}`;
  const miners = p.committed === null ? "" : `, ${p.committed} committed / ${p.accepted} accepted miners`;
  const eta = p.cyclesPerSecond > 0 ? formatDuration((p.total - p.done) / p.cyclesPerSecond) : "?";
  return `[${bar}] ${p.done}/${p.total} cycles · cycle ${p.cycle} (${p.length} blocks from #${p.firstBlock}) ${p.action}${miners} · ${p.cyclesPerSecond.toFixed(2)} cycles/s · ${p.requests} requests, ${p.calls} JSON-RPC calls · ETA ${eta}`;
}
