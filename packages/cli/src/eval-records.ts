import type { EvalResult } from "@subnet-review/eval";
import type { ApiClient } from "./api-client.ts";

/** One row per metric of an eval result, as the API's `evals.record` takes them. */
export function evalRecordRows(result: EvalResult, at: { runId: string | null; step: number | null }) {
  return Object.entries(result.metrics).map(([metric, m]) => ({
    model: result.model,
    runId: at.runId,
    step: at.step,
    task: result.task,
    metric,
    value: m.value,
    stderr: m.stderr,
    n: result.n,
    note: result.note ?? null,
    samplesPath: result.samplesPath,
  }));
}

type Row = ReturnType<typeof evalRecordRows>[number];

/** Records rows through the API in batches the router accepts (at most 500 per call, each all-or-nothing). */
export async function recordEvalRows(client: ApiClient, rows: Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) await client.evals.record.mutate({ results: rows.slice(i, i + 500) });
}
