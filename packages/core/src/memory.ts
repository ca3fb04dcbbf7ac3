import * as z from "zod";
import { configFigure, n, type ParameterCensus } from "./census.ts";
import { InputError, parseOrThrow } from "./errors.ts";
import { figure, type Figure } from "./figure.ts";
import { findGpu, gpuCatalog, gpuLookupHint, type GpuSpec } from "./gpus.ts";
import { shardFigures } from "./shard-figures.ts";
import { cellLabels, cells, checkShardOptions, shardSizes, type Cell } from "./shards.ts";
import { boolField, intField, numField } from "./validate.ts";

export const GB = 1e9;
export const GiB = 2 ** 30;

export const memoryDefaults = {
  bytesPerWeight: 2,
  bytesPerGrad: 2,
  bytesPerOptimizerState: 4,
  bytesPerActivation: 2,
  microBatch: 2,
  seqLen: 2048,
  checkpointing: false,
  gpu: "H100 80GB",
} as const;

export interface MemoryOptions {
  /** K: trainable routed experts per MoE layer. */
  trainable: number;
  /** N: frozen routed experts kept resident per MoE layer (cell B). */
  kept: number;
  /** Bytes per resident weight (bf16: 2). */
  bytesPerWeight?: number;
  /** Bytes per gradient of a trainable parameter (bf16: 2). */
  bytesPerGrad?: number;
  /** Bytes of optimizer state per trainable parameter (AdamW m + v in bf16: 4; fp32 m + v + master: 12). */
  bytesPerOptimizerState?: number;
  /** Bytes per saved activation value (bf16: 2). */
  bytesPerActivation?: number;
  /** Sequences per step on one GPU (default 2). */
  microBatch?: number;
  /** Tokens per sequence (default 2048). */
  seqLen?: number;
  /** Activation checkpointing per decoder layer (default false). */
  checkpointing?: boolean;
  /** GPU that gpusNeeded is computed for (default "H100 80GB"); any name findGpu accepts. */
  gpu?: string;
}

const memorySchema = z.object({
  trainable: z.unknown(),
  kept: z.unknown(),
  bytesPerWeight: numField(0, 16, { what: "bytes per resident weight" }).optional(),
  bytesPerGrad: numField(0, 16, { inclusiveMin: true, what: "bytes per gradient" }).optional(),
  bytesPerOptimizerState: numField(0, 64, { inclusiveMin: true, what: "optimizer bytes per trainable parameter" }).optional(),
  bytesPerActivation: numField(0, 8, { what: "bytes per activation value" }).optional(),
  microBatch: intField(1, 65_536, "sequences per step per GPU").optional(),
  seqLen: intField(1, 4_194_304, "tokens per sequence").optional(),
  checkpointing: boolField("activation checkpointing per decoder layer").optional(),
  gpu: z.string({ error: 'must be a GPU name such as "H100 80GB"' }).optional(),
});

export interface ActivationOptions {
  microBatch: number;
  seqLen: number;
  checkpointing: boolean;
  bytesPerActivation?: number;
  /** Routed experts a token can reach in this cell (A: K, B: K + N); defaults to all. */
  routablePerLayer?: number;
}

export interface ActivationEstimate {
  tokens: number;
  /** Values saved per token in one attention block (all layers alike). */
  attentionValuesPerToken: number;
  /** Values saved per token in one MoE MLP block / one dense MLP block. */
  moeMlpValuesPerToken: number;
  denseMlpValuesPerToken: number;
  /** Bytes for the decoder layers (all layers, or checkpoints + one recomputed layer). */
  layerBytes: number;
  /** fp32 logits and their gradient: tokens × vocab × 4 bytes × 2. */
  logitsBytes: number;
  totalBytes: number;
  formula: string;
}

/**
 * Activation memory of one training micro-batch, in bytes.
 * Saved per token and layer (values, bytes each): attention block = 2 × hidden (norm in/out) + 2 × (q + k widths)
 * (projections and their rotary copies) + v width + attention output width (+ MLA latents: kv_a output, its norm,
 * q_a output and its norm; + q/k norm outputs where the model has them); MoE MLP = 2 × hidden + 2 × experts (router
 * logits, fp32) + top-k × (2 × hidden + 4 × expert width) + shared (4 × shared width + hidden); dense MLP =
 * 3 × hidden + 4 × width. Without checkpointing every layer's values are held; with per-layer checkpointing only
 * each layer's input (hidden values) plus one layer's full set during its recomputation. The fp32 logits and their
 * gradient (tokens × vocab × 4 bytes, twice) are added in both cases.
 */
export function estimateActivations(census: ParameterCensus, o: ActivationOptions): ActivationEstimate {
  const c = census.config;
  const a = c.attention;
  const h = c.hiddenSize;
  const bytes = o.bytesPerActivation ?? memoryDefaults.bytesPerActivation;
  const tokens = o.microBatch * o.seqLen;
  const qW = a.numHeads * a.qkHeadDim;
  const kW = (a.kind === "mla" ? a.numHeads : a.numKvHeads) * a.qkHeadDim;
  const vW = (a.kind === "mla" ? a.numHeads : a.numKvHeads) * a.vHeadDim;
  const oW = a.numHeads * a.vHeadDim;
  let extras = 0;
  if (a.kind === "mla") extras = a.kvLoraRank! + a.qkRopeHeadDim! + a.kvLoraRank! + (a.qLoraRank ? 2 * a.qLoraRank : 0);
  else if (a.qkNorm !== "none") extras = qW + kW;
  const attn = 2 * h + 2 * (qW + kW) + vW + oW + extras;
  const moe = c.moe;
  let moeMlp = 0;
  if (moe) {
    const reach = Math.min(moe.topK, o.routablePerLayer ?? moe.numExperts);
    moeMlp = 2 * h + 2 * moe.numExperts + reach * (2 * h + 4 * moe.expertIntermediate) + (moe.sharedIntermediate > 0 ? 4 * moe.sharedIntermediate + h : 0);
  }
  const dense = c.denseIntermediate ? 3 * h + 4 * c.denseIntermediate : 0;
  const moeLayerVals = attn + moeMlp;
  const denseLayerVals = attn + dense;
  const all = census.moeLayers * moeLayerVals + census.denseLayers * denseLayerVals;
  const largest = Math.max(census.moeLayers > 0 ? moeLayerVals : 0, census.denseLayers > 0 ? denseLayerVals : 0);
  const layerBytes = tokens * bytes * (o.checkpointing ? c.numLayers * h + largest : all);
  const logitsBytes = tokens * c.vocabSize * 4 * 2;
  const tokenText = `micro-batch ${o.microBatch} × seq ${n(o.seqLen)} = ${n(tokens)} tokens`;
  const mlpText = [census.moeLayers > 0 ? `MoE layer ${n(moeLayerVals)}` : "", census.denseLayers > 0 ? `dense layer ${n(denseLayerVals)}` : ""]
    .filter(Boolean)
    .join(", ");
  const formula = o.checkpointing
    ? `${tokenText} × ${bytes} bytes × (${c.numLayers} checkpointed layer inputs × hidden ${n(h)} + one layer recomputed, ${n(largest)} values) + fp32 logits and their gradient (tokens × vocab ${n(c.vocabSize)} × 4 bytes × 2)`
    : `${tokenText} × ${bytes} bytes × values saved per token summed over ${c.numLayers} layers (${mlpText}) + fp32 logits and their gradient (tokens × vocab ${n(c.vocabSize)} × 4 bytes × 2)`;
  return {
    tokens,
    attentionValuesPerToken: attn,
    moeMlpValuesPerToken: moeMlp,
    denseMlpValuesPerToken: dense,
    layerBytes,
    logitsBytes,
    totalBytes: layerBytes + logitsBytes,
    formula,
  };
}

export interface CellMemory {
  cell: Cell;
  label: string;
  trainable: number;
  resident: number;
  parked: number;
  /** Decimal GB. */
  weightsGB: number;
  gradsGB: number;
  optimizerGB: number;
  /** weights + grads + optimizer: the memory before activations. */
  statesGB: number;
  activationsGB: number;
  totalGB: number;
  /** totalGB in GiB (2^30 bytes), the unit torch.cuda.max_memory_allocated is usually reported in. */
  totalGiB: number;
  /** Catalog GPUs (names) whose memory holds totalGB on one card. */
  fitsOn: string[];
  /** The GPU gpusNeeded refers to. */
  gpu: string;
  /** GPUs of that kind a ZeRO-3/FSDP run needs (1 if one suffices); null if activations alone exceed one card. */
  gpusNeeded: number | null;
  /** The same for every catalog GPU, by name. */
  gpusNeededBy: Record<string, number | null>;
  /** The figures by name: callers read `figure.totalGB`, never search `figures` by id. */
  figure: CellMemoryFigures;
  /** The same figures in table order (gpusNeeded last, when a number). */
  figures: Figure[];
}

/** A cell's memory figures, each with its formula and inputs. */
export interface CellMemoryFigures {
  weightsGB: Figure;
  gradsGB: Figure;
  optimizerGB: Figure;
  /** weights + gradients + optimizer state */
  statesGB: Figure;
  activationsGB: Figure;
  totalGB: Figure;
  /** null when activations alone exceed one GPU */
  gpusNeeded: Figure | null;
}

/** Smallest n with states / n + activations ≤ memory; null when activations alone do not fit. */
export function shardedGpus(statesGB: number, activationsGB: number, memoryGB: number): number | null {
  if (statesGB + activationsGB <= memoryGB) return 1;
  if (activationsGB >= memoryGB) return null;
  const k = Math.ceil(statesGB / (memoryGB - activationsGB));
  return k > 65_536 ? null : Math.max(2, k);
}

function gb(id: string, label: string, value: number, formula: string, inputs: Record<string, Figure>, unit: "GB" | "GiB" = "GB"): Figure {
  return figure({ id, label, value, unit, formula, kind: "estimated", inputs });
}

function input(id: string, label: string, value: number, unit: Figure["unit"], defaulted: boolean): Figure {
  return figure({ id, label, value, unit, formula: defaulted ? `default: ${label} = ${value}` : `input: ${label}`, kind: "computed" });
}

/**
 * Memory per cell, in decimal GB: weights = resident × bytesPerWeight, grads = trainable × bytesPerGrad,
 * optimizer = trainable × bytesPerOptimizerState, activations from estimateActivations. Defaults (2 / 2 / 4 bytes)
 * reproduce the published table: A 17.0, B 24.2, C 42.2, full 125.7 GB before activations.
 */
export function estimateMemory(census: ParameterCensus, opts: MemoryOptions): Record<Cell, CellMemory> {
  const o = parseOrThrow(memorySchema, opts ?? {}, "");
  const shard = checkShardOptions(census, { trainable: o.trainable, kept: o.kept });
  const d = memoryDefaults;
  const bw = o.bytesPerWeight ?? d.bytesPerWeight;
  const bg = o.bytesPerGrad ?? d.bytesPerGrad;
  const bo = o.bytesPerOptimizerState ?? d.bytesPerOptimizerState;
  const ba = o.bytesPerActivation ?? d.bytesPerActivation;
  const microBatch = o.microBatch ?? d.microBatch;
  const seqLen = o.seqLen ?? d.seqLen;
  const checkpointing = o.checkpointing ?? d.checkpointing;
  const gpuName = o.gpu ?? d.gpu;
  const gpu: GpuSpec | undefined = findGpu(gpuName);
  if (!gpu) throw new InputError("gpu", gpuLookupHint(gpuName));

  const sizes = shardSizes(census, shard);
  const shardFigs = shardFigures(census, shard);
  const fBw = input("input.bytesPerWeight", "bytes per resident weight", bw, "bytes", o.bytesPerWeight === undefined);
  const fBg = input("input.bytesPerGrad", "bytes per gradient", bg, "bytes", o.bytesPerGrad === undefined);
  const fBo = input("input.bytesPerOptimizerState", "optimizer bytes per trainable parameter", bo, "bytes", o.bytesPerOptimizerState === undefined);
  const fMb = input("input.microBatch", "micro-batch (sequences)", microBatch, "count", o.microBatch === undefined);
  const fSeq = input("input.seqLen", "sequence length", seqLen, "tokens", o.seqLen === undefined);

  const out = {} as Record<Cell, CellMemory>;
  for (const cell of cells) {
    const s = sizes[cell];
    const routable = cell === "A" ? shard.trainable : cell === "B" ? shard.trainable + shard.kept : undefined;
    const act = estimateActivations(census, {
      microBatch,
      seqLen,
      checkpointing,
      bytesPerActivation: ba,
      ...(routable !== undefined && census.moeLayers > 0 ? { routablePerLayer: routable } : {}),
    });
    const weightsGB = (s.resident * bw) / GB;
    const gradsGB = (s.trainable * bg) / GB;
    const optimizerGB = (s.trainable * bo) / GB;
    const statesGB = weightsGB + gradsGB + optimizerGB;
    const activationsGB = act.totalBytes / GB;
    const totalGB = statesGB + activationsGB;
    const fitsOn = gpuCatalog.filter((g) => totalGB <= g.memoryGB).map((g) => g.name);
    const gpusNeededBy: Record<string, number | null> = {};
    for (const g of gpuCatalog) gpusNeededBy[g.name] = shardedGpus(statesGB, activationsGB, g.memoryGB);

    const fResident = shardFigs.residentOf[cell];
    const fTrainable = shardFigs.trainableOf[cell];
    const p = `memory.${cell}`;
    const who = cell === "full" ? "Full fine-tune" : `Cell ${cell}`;
    const fW = gb(`${p}.weightsGB`, `${who} weights`, weightsGB, `${fmtParams(s.resident)} resident params × ${bw} bytes`, {
      resident: fResident,
      bytesPerWeight: fBw,
    });
    const fG = gb(`${p}.gradsGB`, `${who} gradients`, gradsGB, `${fmtParams(s.trainable)} trainable params × ${bg} bytes`, {
      trainable: fTrainable,
      bytesPerGrad: fBg,
    });
    const fO = gb(`${p}.optimizerGB`, `${who} optimizer state`, optimizerGB, `${fmtParams(s.trainable)} trainable params × ${bo} bytes`, {
      trainable: fTrainable,
      bytesPerOptimizerState: fBo,
    });
    const fS = gb(
      `${p}.statesGB`,
      `${who} before activations`,
      statesGB,
      cell === "full"
        ? `${fmtParams(s.resident)} × (${bw} + ${bg} + ${bo}) bytes`
        : `${fmtParams(s.resident)} resident × ${bw} + ${fmtParams(s.trainable)} trainable × ${bg + bo} bytes`,
      { weights: fW, grads: fG, optimizer: fO },
    );
    const fA = gb(
      `${p}.activationsGB`,
      `${who} activations`,
      activationsGB,
      act.formula + (checkpointing ? " (activation checkpointing per decoder layer)" : " (no activation checkpointing)"),
      {
        microBatch: fMb,
        seqLen: fSeq,
        num_hidden_layers: configFigure(census.config, "num_hidden_layers"),
        hidden_size: configFigure(census.config, "hidden_size"),
        vocab_size: configFigure(census.config, "vocab_size"),
      },
    );
    const fT = gb(`${p}.totalGB`, `${who} total`, totalGB, "weights + gradients + optimizer state + activations", { states: fS, activations: fA });
    const need = gpusNeededBy[gpu.name]!;
    const fN: Figure | null =
      need === null
        ? null
        : figure({
            id: `${p}.gpusNeeded`,
            label: `${gpu.name} GPUs needed`,
            value: need,
            unit: "count",
            formula: `smallest n with (weights + gradients + optimizer) / n + activations per GPU ≤ ${gpu.memoryGB} GB (ZeRO-3 / FSDP shards the states, each GPU holds its own micro-batch's activations)`,
            kind: "estimated",
            inputs: { states: fS, activations: fA },
          });
    out[cell] = {
      cell,
      label: cellLabels[cell],
      trainable: s.trainable,
      resident: s.resident,
      parked: s.parked,
      weightsGB,
      gradsGB,
      optimizerGB,
      statesGB,
      activationsGB,
      totalGB,
      totalGiB: (totalGB * GB) / GiB,
      fitsOn,
      gpu: gpu.name,
      gpusNeeded: need,
      gpusNeededBy,
      figure: { weightsGB: fW, gradsGB: fG, optimizerGB: fO, statesGB: fS, activationsGB: fA, totalGB: fT, gpusNeeded: fN },
      figures: fN ? [fW, fG, fO, fS, fA, fT, fN] : [fW, fG, fO, fS, fA, fT],
    };
  }
  return out;
}

function fmtParams(v: number): string {
  return v >= 1e9 ? `${(v / 1e9).toFixed(3)} B` : `${(v / 1e6).toFixed(1)} M`;
}
