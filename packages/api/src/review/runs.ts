// Section 04's measured part: the latest training run of each cell in the review's experiment, with its loss
// curve and the figures the runner measured, beside core's memory estimate for the run's own shape.
import { GB, GiB, countParameters, estimateMemory, figure, parseModelConfig, type Figure } from "@subnet-review/core";
import type { Db, TrainingRun } from "@subnet-review/db";
import { z } from "zod";

export const MAX_CURVE_POINTS = 500;

export interface RunCellView {
  cell: "A" | "B" | "C";
  runId: string;
  status: string;
  error: string | null;
  steps: number;
  recordedSteps: number;
  startedAt: string;
  finishedAt: string | null;
  /** the torch device name (a GPU's, or the CPU's architecture) */
  device: string | null;
  /** whether the run trained on a GPU (only then is a peak memory measured) */
  gpu: boolean;
  shape: { batch: number; seq: number; checkpointing: boolean; dtype: string } | null;
  trainable: number;
  kept: number;
  /** training loss by step; when a run has more than MAX_CURVE_POINTS steps, each point is the mean of a bucket */
  loss: { step: number; loss: number }[];
  stepsPerPoint: number;
  finalLoss: Figure | null;
  wallclock: Figure | null;
  tokensPerSecond: Figure | null;
  peakGiB: Figure | null;
  estimatedGiB: Figure | null;
  mfu: Figure | null;
}

export interface RunsView {
  experiment: string;
  cells: RunCellView[];
}

/** What the view reads from a run's stored spec (written by the trainer's runner). */
const storedSpec = z.looseObject({
  batch: z.number().int().min(1),
  seq: z.number().int().min(1),
  activationCheckpointing: z.boolean(),
  dtype: z.enum(["bf16", "fp32"]),
  optimizerStateDtype: z.enum(["bf16", "fp32"]),
  modelConfig: z.record(z.string(), z.unknown()),
});
const storedHardware = z.looseObject({ device: z.string(), device_name: z.string() });

/** Mean loss over equal buckets of consecutive steps, at most `max` points; the bucket's last step is its x. */
export function downsampleLoss(steps: { step: number; loss: number }[], max = MAX_CURVE_POINTS): { points: { step: number; loss: number }[]; perPoint: number } {
  if (steps.length <= max) return { points: steps, perPoint: 1 };
  const per = Math.ceil(steps.length / max);
  const points: { step: number; loss: number }[] = [];
  for (let i = 0; i < steps.length; i += per) {
    const bucket = steps.slice(i, i + per);
    points.push({ step: bucket.at(-1)!.step, loss: bucket.reduce((a, s) => a + s.loss, 0) / bucket.length });
  }
  return { points, perPoint: per };
}

/** core's peak-memory estimate for the run's own model, cell, K, N, batch, sequence, dtypes and checkpointing. */
function estimatedPeak(run: TrainingRun, spec: z.infer<typeof storedSpec>): Figure | null {
  try {
    const census = countParameters(parseModelConfig(spec.modelConfig));
    const bytes = spec.dtype === "bf16" ? 2 : 4;
    const memory = estimateMemory(census, {
      trainable: run.trainable,
      kept: run.kept,
      bytesPerWeight: bytes,
      bytesPerGrad: bytes,
      bytesPerOptimizerState: 2 * (spec.optimizerStateDtype === "bf16" ? 2 : 4), // AdamW m and v, no fp32 master copy
      bytesPerActivation: bytes,
      microBatch: spec.batch,
      seqLen: spec.seq,
      checkpointing: spec.activationCheckpointing,
    })[run.cell as "A" | "B" | "C"];
    const total = memory.figures.find((f) => f.id.endsWith(".totalGB"))!;
    return figure({
      id: `runs.${run.cell}.estimatedGiB`,
      label: `Cell ${run.cell} peak memory, estimated for this run's shape`,
      value: (memory.totalGB * GB) / GiB,
      unit: "GiB",
      formula: `core's estimate (weights + gradients + AdamW states + activations) for K=${run.trainable}${run.cell === "B" ? `, N=${run.kept}` : ""}, ${spec.batch} × ${spec.seq} tokens, ${spec.dtype}${spec.activationCheckpointing ? ", checkpointing per decoder layer" : ""}, in GiB (2^30 bytes)`,
      kind: "estimated",
      inputs: { totalGB: total },
    });
  } catch {
    return null; // a stored config core cannot price: no estimate, the measured figures still show
  }
}

function cellView(run: TrainingRun, steps: { step: number; loss: number }[]): RunCellView {
  const spec = storedSpec.safeParse(run.spec);
  const hw = storedHardware.safeParse(run.hardware);
  const source = `training run ${run.id}`;
  const measured = (id: string, label: string, value: number, unit: Figure["unit"], formula: string): Figure =>
    figure({ id: `runs.${run.cell}.${id}`, label, value, unit, formula, kind: "measured", source });
  const { points, perPoint } = downsampleLoss(steps);
  const last = steps.at(-1);
  const onGpu = hw.success && hw.data.device === "cuda";
  return {
    cell: run.cell as "A" | "B" | "C",
    runId: run.id,
    status: run.status,
    error: run.error,
    steps: run.steps,
    recordedSteps: steps.length,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    device: hw.success ? (onGpu ? hw.data.device_name : `CPU (${hw.data.device_name})`) : null,
    gpu: onGpu,
    shape: spec.success ? { batch: spec.data.batch, seq: spec.data.seq, checkpointing: spec.data.activationCheckpointing, dtype: spec.data.dtype } : null,
    trainable: run.trainable,
    kept: run.kept,
    loss: points,
    stepsPerPoint: perPoint,
    finalLoss: last ? measured("finalLoss", `Cell ${run.cell} training loss at step ${last.step}`, last.loss, "ratio", "mean cross-entropy over the step's target tokens (nats)") : null,
    wallclock:
      run.wallclockSeconds === null
        ? null
        : measured("wallclock", `Cell ${run.cell} wallclock`, run.wallclockSeconds, "seconds", "wall time of the worker, measured by the runner: model load, expert scoring and every training step (summed over resumes)"),
    tokensPerSecond:
      run.tokensPerSecond === null
        ? null
        : measured("tokensPerSecond", `Cell ${run.cell} training tokens/s`, run.tokensPerSecond, "tokens/s", "tokens trained / summed step time, over the steps after the first (warm-up)"),
    peakGiB:
      run.peakMemoryBytes === null || !onGpu
        ? null
        : measured("peakGiB", `Cell ${run.cell} GPU peak memory, measured`, Number(run.peakMemoryBytes) / GiB, "GiB", "max over steps of torch.cuda.max_memory_allocated (reset each step), in GiB"),
    estimatedGiB: spec.success ? estimatedPeak(run, spec.data) : null,
    mfu:
      run.mfu === null
        ? null
        : measured("mfu", `Cell ${run.cell} model FLOPs utilization`, run.mfu * 100, "percent", "core's training FLOPs per token × measured tokens/s / the GPU's dense bf16 peak FLOP/s"),
  };
}

/** The latest run of each cell in the experiment, or null when it has none. */
export async function loadRunsView(db: Db, experimentId: number | null): Promise<RunsView | null> {
  if (experimentId === null) return null;
  const experiment = await db.experiment.findUnique({ where: { id: experimentId }, select: { name: true } });
  if (!experiment) return null;
  const runs = await db.trainingRun.findMany({ where: { experimentId }, orderBy: { startedAt: "desc" } });
  const latest = new Map<string, TrainingRun>();
  for (const r of runs) if (!latest.has(r.cell)) latest.set(r.cell, r);
  if (latest.size === 0) return null;
  const cells = await Promise.all(
    (["A", "B", "C"] as const).flatMap((cell) => {
      const run = latest.get(cell);
      if (!run) return [];
      return [db.trainingStep.findMany({ where: { runId: run.id }, orderBy: { step: "asc" }, select: { step: true, loss: true } }).then((steps) => cellView(run, steps))];
    }),
  );
  return { experiment: experiment.name, cells };
}
