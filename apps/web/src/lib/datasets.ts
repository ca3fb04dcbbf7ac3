import type { Figure } from "@subnet-review/core";
import type { CycleDetail, ReviewView } from "./api";
import { kindOf } from "./kind";

/** One table or chart series of the page as rows, for its CSV and JSON export. */
export interface Dataset {
  title: string;
  columns: string[];
  rows: (string | number | boolean | null)[][];
}

const val = (f: Figure | null | undefined) => f?.value ?? null;
const kind = (f: Figure | null | undefined) => (f ? kindOf(f) : null);

function figureRows(rows: { figure: Figure; published: Figure | null; agrees: boolean | null }[]): Dataset["rows"] {
  return rows.map((r) => [r.figure.id, r.figure.label, r.figure.value, r.figure.unit, kind(r.figure), r.figure.formula, val(r.published), r.agrees]);
}
const figureColumns = ["id", "label", "value", "unit", "kind", "formula", "published", "agrees"];

/** Every exportable table and series of a review, by the name its links use. */
export function datasets(view: ReviewView): Record<string, Dataset> {
  const runs = view.runs;
  const out: Record<string, Dataset> = {
    sizes: { title: "§ 01 Model & shard sizes", columns: figureColumns, rows: figureRows(view.sizes.rows) },
    throughput: { title: "§ 02 Network throughput", columns: figureColumns, rows: figureRows(view.throughput.rows) },
    miners: {
      title: "§ 03 Active miners per ingested cycle (measured)",
      columns: [
        "cycle",
        "committed_miners",
        "accepted_miners",
        "registered_neurons",
        "length_blocks",
        "first_block",
        "last_block",
        "first_block_hash",
        "finalized_hash",
        "schedule_key",
      ],
      rows: view.miners.series.map((p) => [
        p.cycle,
        p.activeMiners,
        p.acceptedMiners,
        p.registeredNeurons,
        p.length,
        p.firstBlock,
        p.lastBlock,
        p.firstBlockHash,
        p.lastBlockHash,
        p.scheduleKey,
      ]),
    },
    memory: {
      title: "§ 04 GPU memory per cell (GB = 10^9 bytes)",
      columns: [
        "cell",
        "trainable_params",
        "states_gb",
        "activations_gb",
        "estimated_peak_gb",
        "published_peak_gb_low",
        "published_peak_gb_high",
        "ours_on_review_gpu",
        "published_fits_on",
        "agrees",
      ],
      rows: view.cells.memory.map((m) => [
        m.cell,
        m.trainable.value,
        m.statesGB.value,
        m.activationsGB.value,
        m.totalGB.value,
        val(m.compared.published?.peak[0]),
        val(m.compared.published?.peak.at(-1)),
        m.compared.oursOnGpu,
        m.compared.published?.fitsOn ?? null,
        m.compared.agrees,
      ]),
    },
    wallclock: {
      title: "§ 04 Training wallclock per cell (reported)",
      columns: ["cell", "seconds", "kind"],
      rows: view.cells.wallclock.map((w) => [w.cell, w.figure.value, kind(w.figure)]),
    },
    "gsm8k-reported": {
      title: "§ 04 GSM8K-CoT strict (reported), percent",
      columns: ["cell", "id", "percent"],
      rows: view.cells.gsm8k.flatMap((c) => c.points.map((p) => [c.cell, p.id, p.value])),
    },
    retention: {
      title: "§ 04 Retention (reported), percent",
      columns: ["benchmark", "base", "cell", "score", "delta_pp", "flagged"],
      rows: view.cells.retention.flatMap((r) => r.cells.map((c) => [r.benchmark, r.base.value, c.cell, c.score.value, c.delta.value, c.flagged])),
    },
    runs: {
      title: `§ 04 Training runs of experiment ${runs?.experiment ?? "(none)"} (memory in GiB = 2^30 bytes)`,
      columns: [
        "cell",
        "run",
        "status",
        "model",
        "k",
        "n",
        "routing_mode",
        "top_k",
        "seq",
        "batch",
        "lr",
        "seed",
        "final_loss",
        "tokens_per_second",
        "wallclock_seconds",
        "peak_gib_measured",
        "peak_gib_estimated",
        "mfu_percent",
      ],
      rows: (runs?.cells ?? []).map((c) => [
        c.cell,
        c.runId,
        c.status,
        c.params.model,
        c.trainable,
        c.kept,
        c.params.routingMode,
        c.params.topK,
        c.shape?.seq ?? null,
        c.shape?.batch ?? null,
        c.params.lr,
        c.params.seed,
        val(c.finalLoss),
        val(c.tokensPerSecond),
        val(c.wallclock),
        val(c.peakGiB),
        val(c.estimatedGiB),
        val(c.mfu),
      ]),
    },
    loss: {
      title: `§ 04 Training loss by step, experiment ${runs?.experiment ?? "(none)"} (measured)`,
      columns: ["cell", "run", "step", "loss", "steps_per_point"],
      rows: (runs?.cells ?? []).flatMap((c) => c.loss.map((p) => [c.cell, c.runId, p.step, p.loss, c.stepsPerPoint])),
    },
    "gsm8k-measured": {
      title: "§ 04 GSM8K-CoT strict by step (measured), percent",
      columns: ["cell", "run", "step", "percent"],
      rows: (view.evals?.gsm8k ?? []).flatMap((c) => c.points.map((p) => [c.cell, c.runId, p.step, p.figure.value])),
    },
    "retention-measured": {
      title: "§ 04 Retention (measured), percent",
      columns: ["benchmark", "base", "cell", "run", "step", "score", "delta_pp", "flagged"],
      rows: (view.evals?.retention ?? []).flatMap((r) =>
        r.cells.map((c) => [r.benchmark, val(r.base), c.cell, c.runId, c.step, c.score.value, val(c.delta), c.flagged]),
      ),
    },
  };
  return out;
}

/** One cycle's drill-down: every hotkey it looked at, committed and/or accepted, or why not. */
export function cycleDataset(d: CycleDetail): Dataset {
  return {
    title: `§ 03 Cycle ${d.cycle} (blocks ${d.firstBlock}–${d.lastBlock}, finalized ${d.finalizedHash}): hotkeys`,
    columns: ["uid", "hotkey", "commit_block", "commit_phase", "submission_block", "committed", "accepted", "rejection"],
    rows: d.miners.map((m) => [m.uid, m.hotkey, m.commitBlock, m.commitPhase, m.submissionBlock, m.committed, m.accepted, m.rejection]),
  };
}

/** RFC 4180 CSV: fields with a comma, quote or line break are quoted, quotes doubled; CRLF line ends. */
export function toCsv(d: Dataset): string {
  const field = (v: Dataset["rows"][number][number]) => {
    const s = v === null ? "" : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [d.columns, ...d.rows].map((r) => r.map(field).join(",")).join("\r\n") + "\r\n";
}
