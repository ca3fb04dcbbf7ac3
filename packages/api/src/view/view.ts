import {
  countParameters,
  estimateMemory,
  estimateThroughput,
  figure,
  modelSizes,
  parseModelConfig,
  cells,
  trainedCells,
  type Cell,
  type CellMemoryFigures,
  type Figure,
  type TrainedCell,
} from "@subnet-review/core";
import { reviewConstantsSchema, type Db, type Experiment, type ModelConfig, type ReportedFigure, type Review, type Subnet } from "@subnet-review/db";
import { ReportedFigures } from "./reported.ts";
import { loadRunsView, type RunsView } from "./runs.ts";
import { loadEvalsView, type EvalsView } from "./evals.ts";
import { buildMinersView, loadChainWindow, type ChainWindow, type MinersView } from "./miners.ts";
import { compare, type ComparedFigure } from "./differences.ts";
import { compareMemory, type MemoryComparison } from "./memory.ts";
import { measuredTakeaway, reportedTakeaway, ratioFigure, type Takeaway } from "./takeaway.ts";

export type { ComparedFigure, Difference } from "./differences.ts";

/** A cell's memory row: core's figures (gpusNeeded as a count) beside the published peak. */
export interface CellMemoryView extends Omit<CellMemoryFigures, "gpusNeeded"> {
  cell: Cell;
  trainable: Figure;
  resident: Figure;
  fitsOn: string[];
  gpusNeeded: number | null;
  gpu: string;
  publishedPeak: Figure[];
  /** our estimate beside the published peak and "Fits on", and what differs */
  compared: MemoryComparison;
}

export interface RetentionRow {
  benchmark: string;
  label: string;
  base: Figure;
  cells: { cell: TrainedCell; score: Figure; delta: Figure; flagged: boolean }[];
}

export interface ReviewView {
  slug: string;
  title: string;
  summary: string;
  source: string;
  subnet: { netuid: number; name: string };
  model: { name: string; modelType: string; config: unknown };
  shard: { trainable: number; kept: number };
  experiment: { name: string; description: string } | null;
  sizes: {
    cards: { full: Figure; held: Figure; trainable: Figure; expertsPerLayer: Figure; moeLayers: Figure; sharedPerLayer: number };
    rows: ComparedFigure[];
    more: Figure[];
  };
  throughput: { headline: ComparedFigure; rows: ComparedFigure[]; windowNote: string | null };
  /** Section 03: the published average (reported) and, once cycles are ingested, the per-cycle series (measured). */
  miners: MinersView;
  cells: {
    steps: Figure | null;
    memoryAssumptions: { microBatch: number; seqLen: number; checkpointing: boolean; gpu: string; source: string };
    memory: CellMemoryView[];
    wallclock: { cell: TrainedCell; figure: Figure }[];
    gsm8k: { cell: TrainedCell; points: Figure[] }[];
    retention: RetentionRow[];
    /** total memory, full fine-tune over cell A: ours (estimated) and the published peaks' (derived) */
    memoryRatio: { ours: Figure; published: Figure | null };
  };
  /** The one-line takeaway: from measured runs and evals when they exist, else from the published figures. */
  takeaway: Takeaway | null;
  /** Section 04's training runs (latest per cell of the review's experiment); null when none are recorded. */
  runs: RunsView | null;
  /** Section 04's measured evals of those runs (GSM8K vs step, retention); null when none are recorded. */
  evals: EvalsView | null;
}

// The published review does not print its activation assumptions; the memory table is priced for the shape the
// subnet's miners train with (Connito-AI/Connito: expert_groups/exp_math/config.yaml and connito/shared/config.py,
// per_device_train_batch_size 1 × sequence_length 4096, batch 4 by gradient accumulation; connito/shared/model.py
// enables gradient checkpointing).
const MEMORY_SHAPE = { microBatch: 1, seqLen: 4096, checkpointing: true } as const;
const MEMORY_SHAPE_SOURCE =
  "the shape the subnet's miners train with: Connito's exp_math config, per-device batch 1 × sequence length 4,096, batch 4 by gradient accumulation, gradient checkpointing on";

type ReviewRow = Review & { subnet: Subnet; modelConfig: ModelConfig; experiment: Experiment | null; figures: ReportedFigure[] };

/** Everything the review page shows, computed by core from the stored config and constants, beside the reported figures. */
export function buildReviewView(
  row: ReviewRow,
  chain: ChainWindow | null = null,
): Omit<ReviewView, "runs" | "evals" | "takeaway"> & { reportedTakeaway: Takeaway | null } {
  const constants = reviewConstantsSchema.parse(row.constants);
  const reported = new ReportedFigures(row.figures);
  const config = parseModelConfig(row.modelConfig.config);
  const census = countParameters(config);
  const shard = { trainable: row.trainable, kept: row.kept };
  const sizes = modelSizes(census, shard);
  const params = sizes.census;
  const shardFigs = sizes.shard;
  if (!shardFigs) throw new Error(`a review needs an MoE model: ${row.modelConfig.name} has no routed experts to shard`);

  // each row: core's figure beside the published one of that name
  const sizeRows: [Figure, string][] = [
    [params.total, "model.params.total"],
    [shardFigs.residentOf.A, "model.params.held"],
    [params.backbone, "model.params.backbone"],
    [params.sharedExperts, "model.params.shared"],
    [shardFigs.trainable, "model.params.trainable"],
    [params.perExpert, "model.params.perExpert"],
    [params.moeLayers, "model.moeLayers"],
    [params.routedExpertsPerLayer, "model.routedExpertsPerLayer"],
  ];
  const shown = new Set(sizeRows.map(([f]) => f));

  const source = row.source;
  const estimatedInput = (id: string, label: string, value: number, unit: Figure["unit"], why: string) =>
    figure({ id, label, value, unit, formula: why, kind: "estimated", source });
  const miners = buildMinersView(
    chain,
    { average: reported.get("miners.averageActive"), cycles: reported.get("miners.cycles") },
    { value: constants.blockSeconds, source },
  );
  const throughput = estimateThroughput({
    gpuTokensPerSecond: estimatedInput(
      "throughput.gpuTokensPerSecond",
      `${constants.gpu} tokens/s for 2B-param training`,
      constants.gpuTokensPerSecond,
      "tokens/s",
      "assumed constant: per-GPU training rate",
    ),
    multiplier: estimatedInput(
      "throughput.multiplier",
      "Multiplier for merged miner outputs",
      constants.multiplier,
      "ratio",
      "assumed constant: merged miner outputs",
    ),
    multiplierLabel: "Multiplier for merged miner outputs",
    cycleBlocks:
      miners.cycleLength ??
      figure({
        id: "throughput.cycleBlocks",
        label: "Cycle length",
        value: constants.cycleBlocks,
        unit: "blocks",
        formula: "cycle_length_blocks, sum of the cycle's phase lengths",
        kind: "reported",
        source,
      }),
    blockSeconds: figure({
      id: "throughput.blockSeconds",
      label: "Block time",
      value: constants.blockSeconds,
      unit: "seconds",
      formula: "seconds per block",
      kind: "reported",
      source,
    }),
    // Ingested cycles measure the window (so rounds counted follow the chain); otherwise the published constant.
    windowHours:
      miners.windowHours ??
      publishedWindow(reported) ??
      figure({
        id: "throughput.windowHours",
        label: "Window",
        value: constants.windowHours,
        unit: "hours",
        formula: constants.windowHoursNote ?? "hours in the review window",
        kind: "reported",
        source,
      }),
  });
  const tp = throughput.figure;
  // the published figure has core's id
  const tpRow = (f: Figure) => compare(f, reported.get(f.id));

  const memory = estimateMemory(census, {
    ...shard,
    bytesPerWeight: constants.bytesPerWeight,
    bytesPerGrad: constants.bytesPerGrad,
    bytesPerOptimizerState: constants.bytesPerOptimizerState,
    ...MEMORY_SHAPE,
    gpu: constants.gpu,
  });
  const memoryCells = cells.map((cell): CellMemoryView => {
    const m = memory[cell];
    const f = m.figure;
    return {
      cell,
      // The parameter counts are the inputs core priced the memory from.
      trainable: f.gradsGB.inputs.trainable!,
      resident: f.weightsGB.inputs.resident!,
      weightsGB: f.weightsGB,
      gradsGB: f.gradsGB,
      optimizerGB: f.optimizerGB,
      statesGB: f.statesGB,
      activationsGB: f.activationsGB,
      totalGB: f.totalGB,
      fitsOn: m.fitsOn,
      gpusNeeded: m.gpusNeeded,
      gpu: m.gpu,
      publishedPeak: reported.withPrefix(`memory.${cell}.peakGB`),
      compared: compareMemory(census, m, shard, MEMORY_SHAPE, reported, f.statesGB),
    };
  });

  const retention = ["mmlu", "arc_challenge", "hellaswag"].flatMap((benchmark): RetentionRow[] => {
    const base = reported.get(`retention.${benchmark}.base`);
    if (!base) return [];
    return [
      {
        benchmark,
        label: base.label,
        base,
        cells: trainedCells.flatMap((cell) => {
          const score = reported.get(`retention.${benchmark}.${cell}`);
          if (!score) return [];
          const delta = figure({
            id: `retention.${benchmark}.${cell}.delta`,
            label: `${base.label}: cell ${cell} − base`,
            value: Math.round((score.value - base.value) * 1e6) / 1e6,
            unit: "percent",
            formula: "cell score − base score, in percentage points; |delta| > 0.5 pp is flagged",
            kind: "computed",
            inputs: { score, base },
          });
          return [{ cell, score, delta, flagged: Math.abs(delta.value) > 0.5 }];
        }),
      },
    ];
  });

  return {
    slug: row.slug,
    title: row.title,
    summary: row.summary,
    source,
    subnet: { netuid: row.subnet.netuid, name: row.subnet.name },
    model: { name: row.modelConfig.name, modelType: row.modelConfig.modelType, config: row.modelConfig.config },
    shard,
    experiment: row.experiment ? { name: row.experiment.name, description: row.experiment.description } : null,
    sizes: {
      cards: {
        full: params.total,
        held: shardFigs.residentOf.A,
        trainable: shardFigs.trainable,
        expertsPerLayer: params.routedExpertsPerLayer,
        moeLayers: params.moeLayers,
        sharedPerLayer: config.moe?.sharedCount ?? 0,
      },
      rows: sizeRows.map(([f, key]) => compare(f, reported.get(key))),
      more: sizes.figures.filter((f) => !shown.has(f)),
    },
    throughput: {
      headline: tpRow(tp.tokensPerSecond),
      rows: [tp.tokensPerSecond, tp.hoursPerRound, tp.tokensPerRound, tp.rounds].map(tpRow),
      windowNote: miners.windowHours
        ? `measured, ${miners.windowHours.formula}`
        : publishedWindow(reported)
          ? `derived: ${publishedWindow(reported)!.formula}`
          : (constants.windowHoursNote ?? null),
    },
    miners,
    cells: {
      steps: reported.get("training.steps"),
      memoryAssumptions: { ...MEMORY_SHAPE, gpu: constants.gpu, source: MEMORY_SHAPE_SOURCE },
      memory: memoryCells,
      wallclock: trainedCells.flatMap((cell) => {
        const f = reported.get(`wallclock.${cell}`);
        return f ? [{ cell, figure: f }] : [];
      }),
      gsm8k: trainedCells.map((cell) => ({ cell, points: reported.withPrefix(`gsm8k.${cell}.`) })),
      retention,
      memoryRatio: {
        ours: ratioFigure("memory.ratio.fullOverA", "Full fine-tune memory / cell A memory, estimated", memory.full.figure.totalGB, memory.A.figure.totalGB),
        published: (() => {
          const full = reported.withPrefix("memory.full.peakGB").at(-1);
          const a = reported.withPrefix("memory.A.peakGB").at(-1);
          return full && a ? ratioFigure("memory.ratio.published", "Full fine-tune peak / cell A peak, published", full, a) : null;
        })(),
      },
    },
    reportedTakeaway: reportedTakeaway(reported),
  };
}

/** The published window in hours, derived from its printed rounds × hours per round (the hours are not printed). */
function publishedWindow(reported: ReportedFigures): Figure | null {
  const rounds = reported.get("throughput.rounds");
  const hours = reported.get("throughput.hoursPerRound");
  if (!rounds || !hours) return null;
  return figure({
    id: "throughput.windowHours",
    label: "Window",
    value: rounds.value * hours.value,
    unit: "hours",
    formula: `not printed in the published review: its rounds counted (${rounds.value}) × hours per round (${hours.value})`,
    kind: "computed",
    inputs: { rounds, hoursPerRound: hours },
  });
}

/**
 * Loads a review and everything measured that belongs to it. Each measured part (chain cycles, runs, evals)
 * has its own loader module under src/view/ and adds its field to the view here.
 */
export async function loadReviewView(db: Db, slug: string, experiment?: string): Promise<ReviewView | null> {
  const row = await db.review.findUnique({
    where: { slug },
    include: { subnet: true, modelConfig: true, experiment: true, figures: true },
  });
  if (!row) return null;
  const [chain, runs] = await Promise.all([
    loadChainWindow(db, { netuid: row.subnet.netuid, cycleFrom: row.cycleFrom, cycleTo: row.cycleTo }),
    loadRunsView(db, row.experimentId, experiment),
  ]);
  const { reportedTakeaway: published, ...view } = buildReviewView(row, chain);
  const evals = await loadEvalsView(db, runs, row.modelConfig.name);
  return { ...view, runs, evals, takeaway: measuredTakeaway(runs, evals) ?? published };
}
