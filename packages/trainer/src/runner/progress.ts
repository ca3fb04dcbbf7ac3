// The progress line on stderr: step/total, loss, tokens/s, GPU memory, ETA, and the API backlog when there is one.
import { formatDuration } from "@subnet-review/core";
import type { StepMessage } from "../worker/messages.ts";

const GiB = 2 ** 30;

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
  const mem =
    step.gpu_mem_peak_bytes === null
      ? "GPU -"
      : `GPU ${(step.gpu_mem_allocated_bytes! / GiB).toFixed(1)} GiB (peak ${(step.gpu_mem_peak_bytes / GiB).toFixed(1)})`;
  const api = p.backlog ? ` · api: ${p.backlog} steps queued${p.apiError ? ` (${p.apiError.slice(0, 60)})` : ""}` : "";
  const pct = ((100 * step.step) / p.totalSteps).toFixed(1);
  return `${p.label} step ${step.step}/${p.totalSteps} (${pct}%) · loss ${step.loss.toFixed(4)} · ${Math.round(step.tokens_per_s).toLocaleString("en-US")} tok/s · ${mem} · ETA ${formatDuration(eta)}${api}`;
}
