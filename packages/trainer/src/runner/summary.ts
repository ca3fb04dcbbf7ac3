// A run's measured summary from its step messages: peak memory, tokens/s and MFU.
import { countParameters, parseModelConfig, trainingFlopsPerToken, type TrainedCell } from "@subnet-review/core";
import type { StepMessage } from "../worker/messages.ts";
import { gpuPeakFlops } from "./gpu-peak.ts";

export interface RunSummary {
  peakMemoryBytes: number | null;
  tokensPerSecond: number | null;
  mfu: number | null;
}

export interface SummaryContext {
  cell: TrainedCell;
  trainable: number;
  kept: number;
  seq: number;
  dtype: "bf16" | "fp32";
  device: "cuda" | "cpu";
  deviceName: string;
  peakTflops: number | null;
  modelConfig: unknown;
}

/**
 * tokens/s = tokens / step time over the steps after the first (the first pays for kernel selection and the
 * allocator's growth), or the one step there is. MFU = core's model FLOPs per token × tokens/s / the GPU's dense
 * bf16 peak; null on the CPU, in fp32, or on a GPU with no known peak.
 */
export function summarizeSteps(steps: StepMessage[], ctx: SummaryContext): RunSummary {
  const peaks = steps.map((s) => s.gpu_mem_peak_bytes).filter((b): b is number => b !== null);
  const timed = steps.length > 1 ? steps.slice(1) : steps;
  const time = timed.reduce((a, s) => a + s.step_time_s, 0);
  const tokens = timed.reduce((a, s) => a + s.tokens, 0);
  const tokensPerSecond = time > 0 ? tokens / time : null;
  let mfu: number | null = null;
  const peak = ctx.device === "cuda" && ctx.dtype === "bf16" ? gpuPeakFlops(ctx.deviceName, ctx.peakTflops) : null;
  if (peak && tokensPerSecond !== null) {
    const census = countParameters(parseModelConfig(ctx.modelConfig));
    const flops = trainingFlopsPerToken(census, { cell: ctx.cell, trainable: ctx.trainable, kept: ctx.kept, seqLen: ctx.seq });
    mfu = (flops.modelFlops * tokensPerSecond) / peak.flops;
  }
  // reduce, not Math.max(...peaks): a run of ~100k+ steps would overflow the stack as arguments.
  const peakMemoryBytes = peaks.length ? peaks.reduce((a, b) => Math.max(a, b)) : null;
  return { peakMemoryBytes, tokensPerSecond, mfu };
}
