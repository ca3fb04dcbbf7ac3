// Section 04's measured part: the latest training run of each cell in the review's experiment, with its loss
// curve and the figures the runner measured, beside core's memory estimate for the run's own shape.
import { GB, GiB, countParameters, estimateMemory, figure, parseModelConfig, trainedCells, type Figure, type TrainedCell } from "@subnet-review/core";
import type { Db, TrainingRun } from "@subnet-review/db";
import { z } from "zod";

export const MAX_CURVE_POINTS = 500;

export interface RunCellView {
  cell: TrainedCell;
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
  /** the run's settings as its spec recorded them; null where the spec does not say */
  params: RunParams;
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

export interface RunParams {
  model: string | null;
  routingMode: string | null;
  topK: number | null;
  lr: number | null;
  seed: number | null;
}

/** An experiment with runs, for the picker. */
export interface ExperimentOption {
  name: string;
  /** completed: every cell it ran has a completed run; else the state of its latest run */
  status: "completed" | "running" | "failed";
  cells: string[];
  /** latest start or finish among its runs, ISO */
  lastActivity: string;
}

export interface RunsView {
  experiment: string;
  /** how the experiment shown was chosen */
  chosenBy: "request" | "latest-completed" | "review" | "latest";
  experiments: ExperimentOption[];
  /** per cell, the latest completed run (else its latest run) */
  cells: RunCellView[];
  /** runs newer than the one shown for their cell (running or failed), so a reader knows they exist */
  newer: { cell: string; runId: string; status: string }[];
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
/** Settings the page shows beside a run; each optional, as older runs (and other trainers) may lack them. */
const storedParams = z.looseObject({
  model: z.string().optional(),
  routingMode: z.string().optional(),
  topK: z.number().int().optional(),
  lr: z.number().optional(),
  seed: z.number().int().optional(),
  modelConfig: z.looseObject({ num_experts_per_tok: z.number().int().optional() }).optional(),
});

/** The run's columns when the record has them (routing mode and top-k, recorded since the trainer stores them). */
const runColumns = z.looseObject({ routingMode: z.string().nullish(), topK: z.number().int().nullish() });

function runParams(run: TrainingRun): RunParams {
  const cols = runColumns.safeParse(run).data;
  const d = storedParams.safeParse(run.spec).data;
  return {
    // the checkpoint directory's name, not the machine's path to it
    model: d?.model ? (d.model.split(/[\\/]/).filter(Boolean).at(-1) ?? null) : null,
    routingMode: cols?.routingMode ?? d?.routingMode ?? null,
    topK: cols?.topK ?? d?.topK ?? d?.modelConfig?.num_experts_per_tok ?? null,
    lr: d?.lr ?? null,
    seed: d?.seed ?? null,
  };
}

/** Mean loss over equal buckets of consecutive steps, at most `max` points; the bucket's last step is its x. */
export function downsampleLoss(
  steps: { step: number; loss: number }[],
  max = MAX_CURVE_POINTS,
): { points: { step: number; loss: number }[]; perPoint: number } {
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
    })[run.cell as TrainedCell];
    const total = memory.figure.totalGB;
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
    cell: run.cell as TrainedCell,
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
    params: runParams(run),
    loss: points,
    stepsPerPoint: perPoint,
    // a final loss only for a finished run: a running or failed run's last step is not its final loss
    finalLoss:
      last && run.status === "completed"
        ? measured(
            "finalLoss",
            `Cell ${run.cell} training loss at step ${last.step}`,
            last.loss,
            "ratio",
            "mean cross-entropy over the step's target tokens (nats)",
          )
        : null,
    wallclock:
      run.wallclockSeconds === null
        ? null
        : measured(
            "wallclock",
            `Cell ${run.cell} wallclock`,
            run.wallclockSeconds,
            "seconds",
            "wall time of the worker, measured by the runner: model load, expert scoring and every training step (summed over resumes)",
          ),
    tokensPerSecond:
      run.tokensPerSecond === null
        ? null
        : measured(
            "tokensPerSecond",
            `Cell ${run.cell} training tokens/s`,
            run.tokensPerSecond,
            "tokens/s",
            "tokens trained / summed step time, over the steps after the first (warm-up)",
          ),
    peakGiB:
      run.peakMemoryBytes === null || !onGpu
        ? null
        : measured(
            "peakGiB",
            `Cell ${run.cell} GPU peak memory, measured`,
            Number(run.peakMemoryBytes) / GiB,
            "GiB",
            "max over steps of torch.cuda.max_memory_allocated (reset each step), in GiB",
          ),
    estimatedGiB: spec.success ? estimatedPeak(run, spec.data) : null,
    mfu:
      run.mfu === null
        ? null
        : measured(
            "mfu",
            `Cell ${run.cell} model FLOPs utilization`,
            run.mfu * 100,
            "percent",
            "core's training FLOPs per token × measured tokens/s / the GPU's dense bf16 peak FLOP/s",
          ),
  };
}

type RunRow = Pick<TrainingRun, "id" | "cell" | "status" | "startedAt" | "finishedAt"> & { experiment: { name: string } | null };

/** Per cell, the latest completed run, else the latest run: a newer running or failed run never hides a completed one. */
function shownRuns(runs: RunRow[]): Map<string, RunRow> {
  const shown = new Map<string, RunRow>();
  for (const r of runs) {
    const had = shown.get(r.cell);
    if (!had || (had.status !== "completed" && r.status === "completed")) shown.set(r.cell, r);
  }
  return shown;
}

function experimentOptions(runs: RunRow[]): ExperimentOption[] {
  const byName = new Map<string, RunRow[]>();
  for (const r of runs) if (r.experiment) byName.set(r.experiment.name, [...(byName.get(r.experiment.name) ?? []), r]);
  return [...byName.entries()]
    .map(([name, rs]): ExperimentOption => {
      const shown = [...shownRuns(rs).values()];
      const latest = rs[0]!;
      const times = rs.flatMap((r) => [r.startedAt, r.finishedAt ?? r.startedAt]).map((d) => d.getTime());
      return {
        name,
        status: shown.every((r) => r.status === "completed") ? "completed" : latest.status === "running" ? "running" : "failed",
        cells: [...new Set(rs.map((r) => r.cell))].sort(),
        lastActivity: new Date(Math.max(...times)).toISOString(),
      };
    })
    .sort((a, b) => b.lastActivity.localeCompare(a.lastActivity));
}

/**
 * The runs of one experiment: the one requested, else the latest completed experiment, else the review's own,
 * else the latest; null when no run is recorded.
 */
export async function loadRunsView(db: Db, reviewExperimentId: number | null, requested?: string): Promise<RunsView | null> {
  const runs: RunRow[] = await db.trainingRun.findMany({
    where: { experimentId: { not: null } },
    select: { id: true, cell: true, status: true, startedAt: true, finishedAt: true, experiment: { select: { name: true } } },
    orderBy: [{ startedAt: "desc" }, { id: "desc" }],
  });
  const experiments = experimentOptions(runs);
  if (experiments.length === 0) return null;
  const review = reviewExperimentId === null ? null : await db.experiment.findUnique({ where: { id: reviewExperimentId }, select: { name: true } });
  const pick = (name: string | undefined) => experiments.find((e) => e.name === name);
  const [chosen, chosenBy] = ((): [ExperimentOption, RunsView["chosenBy"]] => {
    const asked = pick(requested);
    if (asked) return [asked, "request"];
    const completed = experiments.find((e) => e.status === "completed");
    if (completed) return [completed, "latest-completed"];
    const own = pick(review?.name);
    return own ? [own, "review"] : [experiments[0]!, "latest"];
  })();
  const mine = runs.filter((r) => r.experiment?.name === chosen.name);
  const shown = shownRuns(mine);
  const newer = mine.filter((r) => {
    const s = shown.get(r.cell)!;
    return r.id !== s.id && r.startedAt > s.startedAt;
  });
  const rows = await db.trainingRun.findMany({ where: { id: { in: [...shown.values()].map((r) => r.id) } } });
  const cells = await Promise.all(
    trainedCells.flatMap((cell) => {
      const run = rows.find((r) => r.cell === cell);
      if (!run) return [];
      return [
        db.trainingStep
          .findMany({ where: { runId: run.id }, orderBy: { step: "asc" }, select: { step: true, loss: true } })
          .then((steps) => cellView(run, steps)),
      ];
    }),
  );
  return { experiment: chosen.name, chosenBy, experiments, cells, newer: newer.map((r) => ({ cell: r.cell, runId: r.id, status: r.status })) };
}
