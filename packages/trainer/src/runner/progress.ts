// The progress line on stderr: step/total, loss, tokens/s, GPU memory, ETA, and the API backlog when there is one.
import type { StepMessage } from "../worker/messages.ts";

const GiB = 2 ** 30;

export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, "0")}m` : m ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

export interface ProgressState {
  label: string;
  step: StepMessage;
  startStep: number;
  totalSteps: number;
  /** seconds since the first step of this launch began */
  elapsed: number;
  backlog: number;
  apiError: string | null;
}

export function progressLine(p: ProgressState): string {
  const { step } = p;
  const done = step.step - p.startStep;
  const eta = done > 0 ? (p.elapsed / done) * (p.totalSteps - step.step) : Number.NaN;
  const mem = step.gpu_mem_peak_bytes === null ? "GPU -" : `GPU ${(step.gpu_mem_allocated_bytes! / GiB).toFixed(1)} GiB (peak ${(step.gpu_mem_peak_bytes / GiB).toFixed(1)})`;
  const api = p.backlog ? ` · api: ${p.backlog} steps queued${p.apiError ? ` (${p.apiError.slice(0, 60)})` : ""}` : "";
  const pct = ((100 * step.step) / p.totalSteps).toFixed(1);
  return `${p.label} step ${step.step}/${p.totalSteps} (${pct}%) · loss ${step.loss.toFixed(4)} · ${Math.round(step.tokens_per_s).toLocaleString("en-US")} tok/s · ${mem} · ETA ${formatEta(eta)}${api}`;
}

/** On a terminal the line is redrawn in place; otherwise one line per step at most every `everyMs`, and the last. */
export class ProgressWriter {
  private last = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly everyMs = 2_000,
  ) {}

  update(line: string, final = false): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${line}${final ? "\n" : ""}`);
      this.drawn = !final;
      return;
    }
    const now = Date.now();
    if (final || now - this.last >= this.everyMs) {
      this.stream.write(`${line}\n`);
      this.last = now;
    }
  }

  /** A message on its own line (the progress line is redrawn after it). */
  note(text: string): void {
    this.stream.write(`${this.drawn ? "\n" : ""}${text}\n`);
    this.drawn = false;
  }
}
