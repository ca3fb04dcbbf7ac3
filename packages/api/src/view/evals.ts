// Section 04's measured evals: for the training run of each cell (the runs view's latest per cell), GSM8K-CoT
// strict exact match at every evaluated step, and the retention table (MMLU, ARC-Challenge, HellaSwag: base vs
// each cell at its last evaluated step), as measured Figures beside the published ones.
import { figure, type Figure, type TrainedCell as Cell } from "@subnet-review/core";
import type { Db, EvalResult } from "@subnet-review/db";
import { HELLASWAG_SAMPLE_NOTE } from "@subnet-review/eval/tasks";
import type { RunsView } from "./runs.ts";

export interface EvalCurve {
  cell: Cell;
  runId: string;
  /** strict-match accuracy in percent, one figure per evaluated step, by step */
  points: { step: number; figure: Figure }[];
}

export interface MeasuredRetentionRow {
  benchmark: "mmlu" | "arc_challenge" | "hellaswag";
  label: string;
  /** the benchmark's caveat (HellaSwag: a 1,000-item sample of validation) */
  note: string | null;
  base: Figure | null;
  cells: { cell: Cell; runId: string; step: number; score: Figure; delta: Figure | null; flagged: boolean }[];
}

export interface EvalsView {
  gsm8k: EvalCurve[];
  retention: MeasuredRetentionRow[];
}

const RETENTION = [
  { benchmark: "mmlu", label: "MMLU acc", metric: "acc" },
  { benchmark: "arc_challenge", label: "ARC-Challenge acc", metric: "acc" },
  { benchmark: "hellaswag", label: "HellaSwag acc", metric: "acc" },
] as const;

const TASK_NAMES: Record<string, string> = {
  gsm8k_cot: "GSM8K-CoT (8-shot) exact match, strict-match",
  mmlu: "MMLU (5-shot) acc",
  arc_challenge: "ARC-Challenge acc",
  hellaswag: "HellaSwag acc",
};

/** One stored result as a measured Figure in percent. */
export function evalFigure(r: EvalResult, id: string, label: string): Figure {
  const stderr = r.stderr === null ? "" : ` ± ${(r.stderr * 100).toFixed(2)} pp (standard error)`;
  const note = r.note ?? (r.task === "hellaswag" ? HELLASWAG_SAMPLE_NOTE : null);
  const where = r.runId === null ? r.model : `run ${r.runId}${r.step === null ? "" : `, step ${r.step}`}`;
  return figure({
    id,
    label,
    value: Math.round(r.value * 100 * 1e6) / 1e6,
    unit: "percent",
    formula: `${TASK_NAMES[r.task] ?? r.task} (${r.metric}) as lm-evaluation-harness scores it: mean over ${r.n} items${stderr}; greedy, natural routing over all experts on the merged model${note ? `. ${note}` : ""}`,
    kind: "measured",
    source: `${where}; model ${r.model}${r.samplesPath ? `; samples ${r.samplesPath}` : ""}`,
  });
}

/**
 * Evals of the runs shown in the review. The base of the retention table is the step-0 evaluation of any of those
 * runs (nothing is trained at step 0: the merged model is the base), else a run-less result of `baseModel`.
 */
export async function loadEvalsView(db: Db, runs: RunsView | null, baseModel: string): Promise<EvalsView | null> {
  const cells = runs?.cells ?? [];
  const runIds = cells.map((c) => c.runId);
  const rows = await db.evalResult.findMany({
    where: { OR: [{ runId: { in: runIds } }, { runId: null, model: baseModel }] },
    orderBy: [{ step: "asc" }, { id: "asc" }],
  });
  if (rows.length === 0) return null;
  const of = (runId: string | null, task: string, metric: string) => rows.filter((r) => r.runId === runId && r.task === task && r.metric === metric);

  // The base model is every curve's step 0: a run's own step-0 evaluation, else a run-less one of the base model.
  const baseGsm8k = of(null, "gsm8k_cot", "strict-match").at(-1);
  const gsm8k = cells.flatMap(({ cell, runId }): EvalCurve[] => {
    const points = of(runId, "gsm8k_cot", "strict-match")
      .filter((r) => r.step !== null)
      .map((r) => ({ step: r.step!, figure: evalFigure(r, `evals.gsm8k.${cell}.step${r.step}`, `GSM8K strict, cell ${cell}, step ${r.step}`) }));
    if (points.length && points[0]!.step !== 0 && baseGsm8k)
      points.unshift({ step: 0, figure: evalFigure(baseGsm8k, "evals.gsm8k.base", "GSM8K strict, base model (step 0)") });
    return points.length ? [{ cell, runId, points }] : [];
  });

  const retention = RETENTION.map(({ benchmark, label, metric }): MeasuredRetentionRow => {
    const stepZero = cells.flatMap((c) => of(c.runId, benchmark, metric).filter((r) => r.step === 0));
    const baseRow = stepZero[0] ?? of(null, benchmark, metric).at(-1) ?? null;
    const base = baseRow ? evalFigure(baseRow, `evals.retention.${benchmark}.base`, `${label}, base`) : null;
    const cellRows = cells.flatMap(({ cell, runId }) => {
      const last = of(runId, benchmark, metric)
        .filter((r) => r.step !== null && r.step > 0)
        .at(-1);
      if (!last) return [];
      const score = evalFigure(last, `evals.retention.${benchmark}.${cell}`, `${label}, cell ${cell} (step ${last.step})`);
      const delta = base
        ? figure({
            id: `evals.retention.${benchmark}.${cell}.delta`,
            label: `${label}: cell ${cell} − base`,
            value: Math.round((score.value - base.value) * 1e6) / 1e6,
            unit: "percent",
            formula: "cell score − base score, in percentage points; |delta| > 0.5 pp is flagged",
            kind: "computed",
            inputs: { score, base },
          })
        : null;
      return [{ cell, runId, step: last.step!, score, delta, flagged: delta !== null && Math.abs(delta.value) > 0.5 }];
    });
    return { benchmark, label, note: benchmark === "hellaswag" ? HELLASWAG_SAMPLE_NOTE : null, base, cells: cellRows };
  }).filter((r) => r.base !== null || r.cells.length > 0);

  return { gsm8k, retention };
}
