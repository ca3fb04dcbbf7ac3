// Section 04's memory table beside the published peaks: where our estimate and the published peak differ, what
// differs (the activations the published peak leaves room for vs the activations of our stated shape) and whether
// the cell fits one of the review's GPUs either way, each computed from core's figures.
import {
  GB,
  estimateActivations,
  findGpu,
  figure,
  formatFigure,
  gpuCatalog,
  type Cell,
  type CellMemory,
  type Figure,
  type ParameterCensus,
} from "@subnet-review/core";
import { publishedDecimals } from "./differences.ts";
import type { ReportedFigures } from "./reported.ts";

export interface MemoryShape {
  microBatch: number;
  seqLen: number;
  checkpointing: boolean;
}

export interface PublishedPeak {
  /** one figure, or the low and high ends of a range (B: ~28–32 GB) */
  peak: Figure[];
  /** the published peak at its own precision: "~21 GB", "~28–32 GB" */
  text: string;
  /** the published "Fits on…" column */
  fitsOn: string | null;
  /** whether the published peak (its high end) fits one of the review's GPUs */
  fitsOne: boolean;
}

export interface MemoryComparison {
  published: PublishedPeak | null;
  /** ours on the review's GPU: "1 × RTX A6000" or "4 × RTX A6000 (ZeRO-3 / FSDP)" */
  oursOnGpu: string;
  oursFitsOne: boolean;
  /** catalog GPUs that hold our estimate on one card */
  oneCard: string[];
  /** published peak − our weights + gradients + optimizer: the activations the published peak leaves room for */
  impliedActivations: Figure | null;
  /** our estimate rounded as the published one is, within the published value or range */
  agrees: boolean | null;
  /** the largest micro-batch of our sequence length whose estimate fits one review GPU (null: not even 1) */
  maxMicroBatch: number | null;
  why: string | null;
}

const gb = (v: number, decimals = 1) => formatFigure({ value: v, unit: "GB" }, { decimals });

function publishedPeak(reported: ReportedFigures, cell: Cell, gpuGB: number): PublishedPeak | null {
  const peak = reported.withPrefix(`memory.${cell}.peakGB`).sort((a, b) => a.value - b.value);
  if (peak.length === 0) return null;
  // The reported note keeps the published cell text: "~21 GB; fits one A6000 (48 GB)".
  const [peakText, ...fits] = peak[0]!.formula.replace(/^as published: /, "").split("; ");
  const approx = /^[~≈]/.test(peakText ?? "") ? "~" : "";
  const values = peak.map((f) => f.value.toFixed(publishedDecimals(f.value)));
  return { peak, text: `${approx}${values.join("–")} GB`, fitsOn: fits.join("; ") || null, fitsOne: peak.at(-1)!.value <= gpuGB };
}

function largestFittingMicroBatch(census: ParameterCensus, m: CellMemory, shape: MemoryShape, gpuGB: number, routable: number | undefined): number | null {
  for (let mb = shape.microBatch; mb >= 1; mb--) {
    const act = estimateActivations(census, {
      microBatch: mb,
      seqLen: shape.seqLen,
      checkpointing: shape.checkpointing,
      ...(routable ? { routablePerLayer: routable } : {}),
    });
    if (m.statesGB + act.totalBytes / GB <= gpuGB) return mb;
  }
  return null;
}

export function compareMemory(
  census: ParameterCensus,
  m: CellMemory,
  shard: { trainable: number; kept: number },
  shape: MemoryShape,
  reported: ReportedFigures,
  statesGB: Figure,
): MemoryComparison {
  const gpu = findGpu(m.gpu)!;
  const published = publishedPeak(reported, m.cell, gpu.memoryGB);
  const oursFitsOne = m.totalGB <= gpu.memoryGB;
  const oursOnGpu = oursFitsOne ? `1 × ${gpu.name}` : m.gpusNeeded ? `${m.gpusNeeded} × ${gpu.name} (ZeRO-3 / FSDP)` : `does not fit ${gpu.name}, even sharded`;
  const oneCard = gpuCatalog.filter((g) => m.totalGB <= g.memoryGB).map((g) => g.name);
  if (!published) return { published, oursOnGpu, oursFitsOne, oneCard, impliedActivations: null, agrees: null, maxMicroBatch: null, why: null };

  const decimals = Math.max(...published.peak.map((f) => publishedDecimals(f.value)));
  const ours = Number(m.totalGB.toFixed(decimals));
  const agrees = ours >= published.peak[0]!.value && ours <= published.peak.at(-1)!.value;
  const implied = published.peak.map((p) => p.value - m.statesGB);
  const impliedActivations = figure({
    id: `memory.${m.cell}.impliedActivationsGB`,
    label: `${m.cell === "full" ? "Full fine-tune" : `Cell ${m.cell}`}: activations the published peak leaves room for`,
    value: implied.at(-1)!,
    unit: "GB",
    formula: `published peak (${published.text}${published.peak.length > 1 ? ", high end" : ""}) − our weights + gradients + optimizer state`,
    kind: "computed",
    inputs: { publishedPeak: published.peak.at(-1)!, states: statesGB },
  });
  const routable = m.cell === "A" ? shard.trainable : m.cell === "B" ? shard.trainable + shard.kept : undefined;
  const maxMicroBatch = largestFittingMicroBatch(census, m, shape, gpu.memoryGB, routable);
  const shapeText = `micro-batch ${shape.microBatch} × ${shape.seqLen.toLocaleString("en-US")} tokens${shape.checkpointing ? " with activation checkpointing per decoder layer" : " without activation checkpointing"}`;
  const impliedText = implied.map((v) => gb(v)).join("–");
  const parts: string[] = [];
  if (!agrees) {
    parts.push(
      `What differs is activations. Our weights + gradients + optimizer state come to ${gb(m.statesGB)}; the published ${published.text} leaves ${impliedText} above that for activations, ` +
        `ours are ${gb(m.activationsGB)} for ${shapeText} (the published review does not state its batch, sequence length or checkpointing).`,
    );
  }
  if (oursFitsOne !== published.fitsOne) {
    parts.push(
      oursFitsOne
        ? `Ours fits one ${gpu.name} (${gpu.memoryGB} GB) where the published peak does not.`
        : `So ours needs ${oursOnGpu} where the published peak fits one (${gpu.memoryGB} GB)` +
            (maxMicroBatch ? `; at micro-batch ${maxMicroBatch} or less it fits one.` : "; no micro-batch of this length fits one."),
    );
  }
  return { published, oursOnGpu, oursFitsOne, oneCard, impliedActivations, agrees, maxMicroBatch, why: parts.length ? parts.join(" ") : null };
}
