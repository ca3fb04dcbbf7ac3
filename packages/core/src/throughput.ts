import * as z from "zod";
import { n, type ParameterCensus } from "./census.ts";
import { InputError, describeValue, parseOrThrow } from "./errors.ts";
import { figure, figureSchema, type Figure } from "./figure.ts";
import { memoryDefaults } from "./memory.ts";
import { cells, checkShardOptions, type Cell } from "./shards.ts";
import { boolField, intField, numField } from "./validate.ts";

export const BLOCK_SECONDS = 12;

/** A plain number (an input) or a Figure carrying its own provenance (e.g. a measured rate). */
export type FigureInput = number | Figure;

export interface ThroughputInputs {
  /** Training tokens per second one GPU sustains. */
  gpuTokensPerSecond: FigureInput;
  /** Factor applied to the per-GPU rate (e.g. GPUs per miner). */
  multiplier: FigureInput;
  /** Blocks in one cycle (= one round). */
  cycleBlocks: FigureInput;
  /** Seconds per block (chain: 12). */
  blockSeconds?: FigureInput;
  /** Hours of the observation window. */
  windowHours: FigureInput;
  /** Label for the multiplier row (default "Multiplier"). */
  multiplierLabel?: string;
}

export interface ThroughputEstimate {
  tokensPerSecond: number;
  hoursPerRound: number;
  tokensPerRound: number;
  rounds: number;
  /** The figures by name: callers read `figure.tokensPerSecond`, never search `figures` by id. */
  figure: ThroughputFigures;
  /** Section 02 rows, in order: per-GPU rate, multiplier, tokens/s, cycle blocks, block seconds, hours/round, tokens/round, window hours, rounds. */
  figures: Figure[];
}

/** Section 02's figures, each with its formula and inputs. */
export interface ThroughputFigures {
  gpuTokensPerSecond: Figure;
  multiplier: Figure;
  tokensPerSecond: Figure;
  cycleBlocks: Figure;
  blockSeconds: Figure;
  hoursPerRound: Figure;
  tokensPerRound: Figure;
  windowHours: Figure;
  rounds: Figure;
}

function toFigure(field: string, x: unknown, schema: z.ZodType<number>, make: (v: number) => Figure): Figure {
  if (typeof x === "object" && x !== null && !Array.isArray(x)) {
    parseOrThrow(figureSchema, x, field);
    parseOrThrow(schema, (x as Figure).value, field);
    return x as Figure;
  }
  if (x === undefined || typeof x === "number") return make(parseOrThrow(schema, x, field));
  throw new InputError(field, `must be a number or a Figure; got ${describeValue(x)}`);
}

function given(id: string, label: string, unit: Figure["unit"], v: number, defaulted = false): Figure {
  return figure({ id, label, value: v, unit, formula: defaulted ? `default: ${label} = ${v}` : `input: ${label}`, kind: "reported" });
}

/**
 * tokensPerSecond = per-GPU rate × multiplier; hoursPerRound = cycleBlocks × blockSeconds / 3600;
 * tokensPerRound = tokensPerSecond × hoursPerRound × 3600; rounds = windowHours / hoursPerRound.
 */
export function estimateThroughput(inputs: ThroughputInputs): ThroughputEstimate {
  if (typeof inputs !== "object" || inputs === null) throw new InputError("throughput", "must be an object of inputs");
  const mLabel = inputs.multiplierLabel ?? "Multiplier";
  const fRate = toFigure("gpuTokensPerSecond", inputs.gpuTokensPerSecond, numField(0, 1e8, { what: "tokens/s per GPU" }), (v) =>
    given("throughput.gpuTokensPerSecond", "Tokens/s per GPU", "tokens/s", v),
  );
  const fMult = toFigure("multiplier", inputs.multiplier, numField(0, 1e6, { what: "factor on the per-GPU rate" }), (v) =>
    given("throughput.multiplier", mLabel, "ratio", v),
  );
  const fBlocks = toFigure("cycleBlocks", inputs.cycleBlocks, intField(1, 10_000_000, "blocks per cycle"), (v) =>
    given("throughput.cycleBlocks", "Cycle length", "blocks", v),
  );
  const fSec = toFigure("blockSeconds", inputs.blockSeconds ?? BLOCK_SECONDS, numField(0, 3600, { what: "seconds per block" }), (v) =>
    given("throughput.blockSeconds", "Block time", "seconds", v, inputs.blockSeconds === undefined),
  );
  const fWindow = toFigure("windowHours", inputs.windowHours, numField(0, 1e6, { what: "hours observed" }), (v) =>
    given("throughput.windowHours", "Window", "hours", v),
  );

  const tokensPerSecond = fRate.value * fMult.value;
  const roundSeconds = fBlocks.value * fSec.value;
  const hoursPerRound = roundSeconds / 3600;
  const tokensPerRound = tokensPerSecond * roundSeconds;
  const rounds = fWindow.value / hoursPerRound;

  const fTps = figure({
    id: "throughput.tokensPerSecond",
    label: "Tokens/s",
    value: tokensPerSecond,
    unit: "tokens/s",
    formula: `per-GPU rate ${n(fRate.value)} × ${mLabel.toLowerCase()} ${fMult.value}`,
    kind: "estimated",
    inputs: { gpuTokensPerSecond: fRate, multiplier: fMult },
  });
  const fHours = figure({
    id: "throughput.hoursPerRound",
    label: "Hours per round",
    value: hoursPerRound,
    unit: "hours",
    formula: `cycle_length ${n(fBlocks.value)} blocks × ${fSec.value} s / 3600`,
    kind: "computed",
    inputs: { cycleBlocks: fBlocks, blockSeconds: fSec },
  });
  const fTpr = figure({
    id: "throughput.tokensPerRound",
    label: "Tokens per round",
    value: tokensPerRound,
    unit: "tokens",
    formula: "tokens/s × hours per round × 3600",
    kind: "estimated",
    inputs: { tokensPerSecond: fTps, hoursPerRound: fHours },
  });
  const fRounds = figure({
    id: "throughput.rounds",
    label: "Rounds in window",
    value: rounds,
    unit: "count",
    formula: "window_hours / hours_per_round",
    kind: "computed",
    inputs: { windowHours: fWindow, hoursPerRound: fHours },
  });
  const named: ThroughputFigures = {
    gpuTokensPerSecond: fRate,
    multiplier: fMult,
    tokensPerSecond: fTps,
    cycleBlocks: fBlocks,
    blockSeconds: fSec,
    hoursPerRound: fHours,
    tokensPerRound: fTpr,
    windowHours: fWindow,
    rounds: fRounds,
  };
  return { tokensPerSecond, hoursPerRound, tokensPerRound, rounds, figure: named, figures: Object.values(named) };
}

export interface FlopsOptions {
  cell: Cell;
  /** K trainable routed experts per MoE layer (0 for dense models). */
  trainable: number;
  /** N kept frozen experts per MoE layer (cell B). */
  kept?: number;
  /** Sequence length for the attention-score term (default 2048). */
  seqLen?: number;
  /** Activation checkpointing per decoder layer: adds one forward pass of recomputation (default false). */
  checkpointing?: boolean;
}

export interface TrainingFlops {
  /** Weights a token is multiplied with in this cell: active parameters − input embeddings (+ tied output head). */
  matmulParams: number;
  /** Of those, the trainable ones (expected value under uniform routing in cells B and C). */
  trainableMatmulParams: number;
  /** Attention scores and weighted values, forward, per token. */
  attentionForward: number;
  forward: number;
  backwardActivations: number;
  backwardWeights: number;
  recompute: number;
  /** forward + backward: the work the step needs. Use for MFU = tokens/s × modelFlops / peak FLOP/s. */
  modelFlops: number;
  /** modelFlops + recomputation (HFU). */
  hardwareFlops: number;
  /** 6 × matmulParams, the usual dense-training convention, for comparison. */
  sixN: number;
  figures: Figure[];
}

const flopsSchema = z.object({
  cell: z.enum(cells, { error: `must be one of ${cells.join(", ")}` }),
  trainable: z.unknown(),
  kept: z.unknown(),
  seqLen: intField(1, 4_194_304, "tokens per sequence").optional(),
  checkpointing: boolField().optional(),
});

/**
 * FLOPs per training token: forward = 2 × matmul parameters + attention (layers × heads × seq × (qk + v head dims),
 * causal); backward = the same again for activation gradients (attention twice) + 2 × trainable matmul parameters for
 * weight gradients (frozen weights need none); checkpointing adds one more forward.
 */
export function trainingFlopsPerToken(census: ParameterCensus, opts: FlopsOptions): TrainingFlops {
  const o = parseOrThrow(flopsSchema, opts ?? {}, "");
  const s = checkShardOptions(census, { trainable: o.trainable, kept: o.kept ?? 0 });
  const seqLen = o.seqLen ?? memoryDefaults.seqLen;
  const checkpointing = o.checkpointing ?? false;
  const c = census.config;
  const a = c.attention;
  const topK = census.expertsPerToken;
  const E = census.routedExpertsPerLayer;
  const perLayerExperts = census.perExpert * census.moeLayers;
  const reach = o.cell === "A" ? Math.min(topK, s.trainable) : o.cell === "B" ? Math.min(topK, s.trainable + s.kept) : topK;
  const active = census.total - census.routedExperts + reach * perLayerExperts;
  const tiedHead = c.tieWordEmbeddings ? c.vocabSize * c.hiddenSize : 0;
  const matmulParams = active - census.embeddings + tiedHead;
  let trainableMatmulParams: number;
  let trainableText: string;
  if (o.cell === "full") {
    trainableMatmulParams = matmulParams;
    trainableText = "every weight is trainable";
  } else if (o.cell === "A") {
    trainableMatmulParams = reach * perLayerExperts;
    trainableText = `${reach} routed experts per token × ${census.moeLayers} MoE layers × per-expert params, all trainable (router restricted to K)`;
  } else {
    const pool = o.cell === "B" ? s.trainable + s.kept : E;
    trainableMatmulParams = pool > 0 ? (reach * s.trainable * perLayerExperts) / pool : 0;
    trainableText = `${reach} routed experts per token × K ${s.trainable} / ${pool} routable × ${census.moeLayers} MoE layers × per-expert params (uniform routing assumed)`;
  }
  const attentionForward = c.numLayers * a.numHeads * seqLen * (a.qkHeadDim + a.vHeadDim);
  const forward = 2 * matmulParams + attentionForward;
  const backwardActivations = 2 * matmulParams + 2 * attentionForward;
  const backwardWeights = 2 * trainableMatmulParams;
  const recompute = checkpointing ? forward : 0;
  const modelFlops = forward + backwardActivations + backwardWeights;
  const hardwareFlops = modelFlops + recompute;
  const sixN = 6 * matmulParams;

  const F = (id: string, label: string, value: number, formula: string, inputs: Record<string, Figure> = {}, unit: Figure["unit"] = "FLOP") =>
    figure({ id: `flops.${o.cell}.${id}`, label, value, unit, formula, kind: "estimated", inputs });
  const fMat = F(
    "matmulParams",
    "Weights multiplied per token",
    matmulParams,
    `activated parameters in cell ${o.cell} (${reach} routed experts per MoE layer) − input embeddings${tiedHead ? " + tied output head" : ""}`,
    { total: census.figures.total, embeddings: census.figures.embeddings, perExpert: census.figures.perExpert },
    "params",
  );
  const fTrain = F(
    "trainableMatmulParams",
    "Trainable weights per token",
    trainableMatmulParams,
    trainableText,
    { perExpert: census.figures.perExpert },
    "params",
  );
  const fAttn = F(
    "attentionForward",
    "Attention scores, forward",
    attentionForward,
    `${c.numLayers} layers × ${a.numHeads} heads × seq ${n(seqLen)} × (qk ${a.qkHeadDim} + v ${a.vHeadDim}) (causal: half the keys, 2 FLOPs each)`,
  );
  const fFwd = F("forward", "Forward", forward, "2 × weights multiplied per token + attention", { matmulParams: fMat, attention: fAttn });
  const fBa = F("backwardActivations", "Backward, activation gradients", backwardActivations, "2 × weights multiplied per token + 2 × attention", {
    matmulParams: fMat,
    attention: fAttn,
  });
  const fBw = F("backwardWeights", "Backward, weight gradients", backwardWeights, "2 × trainable weights per token", { trainable: fTrain });
  const fModel = F("modelFlops", "Training FLOPs per token", modelFlops, "forward + backward (activation and weight gradients); for MFU", {
    forward: fFwd,
    backwardActivations: fBa,
    backwardWeights: fBw,
  });
  const figs = [fMat, fTrain, fAttn, fFwd, fBa, fBw, fModel];
  if (checkpointing)
    figs.push(
      F("hardwareFlops", "With recomputation", hardwareFlops, "training FLOPs + one more forward (activation checkpointing)", {
        modelFlops: fModel,
        forward: fFwd,
      }),
    );
  return {
    matmulParams,
    trainableMatmulParams,
    attentionForward,
    forward,
    backwardActivations,
    backwardWeights,
    recompute,
    modelFlops,
    hardwareFlops,
    sixN,
    figures: figs,
  };
}
