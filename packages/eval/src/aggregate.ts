import type { SampleRecord } from "./samples-log.ts";
import { mean, meanStderr, pooledSampleStderr } from "./stats.ts";

export interface MetricValue {
  value: number;
  /** Standard error of the mean; null where it is undefined (fewer than 2 samples). */
  stderr: number | null;
}

export interface SubjectMetrics {
  n: number;
  metrics: Record<string, MetricValue>;
}

export interface AggregateMetrics {
  n: number;
  metrics: Record<string, MetricValue>;
  /** mmlu: per subject. */
  subjects?: Record<string, SubjectMetrics>;
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function metricOf(records: readonly SampleRecord[], metric: string): { scores: number[]; value: MetricValue } {
  const scores = records.map((r) => {
    const c = r.correct[metric];
    if (c === undefined) throw new Error(`sample ${r.task}#${r.docIndex} has no "${metric}" score`);
    return c ? 1 : 0;
  });
  return { scores, value: { value: mean(scores), stderr: finiteOrNull(meanStderr(scores)) } };
}

/**
 * Metric means and standard errors as the harness reports them. With subjects (mmlu), the headline is the
 * micro-average over all questions and its stderr the harness's pooled stderr over subjects.
 */
export function aggregateSamples(metrics: readonly string[], records: readonly SampleRecord[]): AggregateMetrics {
  if (records.length === 0) throw new Error("no samples to aggregate");
  const bySubject = new Map<string, SampleRecord[]>();
  for (const r of records) {
    if (r.subject === undefined) continue;
    const list = bySubject.get(r.subject) ?? [];
    list.push(r);
    bySubject.set(r.subject, list);
  }
  const out: AggregateMetrics = { n: records.length, metrics: {} };
  if (bySubject.size === 0) {
    for (const m of metrics) out.metrics[m] = metricOf(records, m).value;
    return out;
  }
  if (bySubject.size > 0 && records.some((r) => r.subject === undefined)) {
    throw new Error("samples mix records with and without a subject");
  }
  const subjects: Record<string, SubjectMetrics> = {};
  for (const [subject, list] of [...bySubject].sort(([a], [b]) => a.localeCompare(b))) {
    const ms: Record<string, MetricValue> = {};
    for (const m of metrics) ms[m] = metricOf(list, m).value;
    subjects[subject] = { n: list.length, metrics: ms };
  }
  for (const m of metrics) {
    const { value } = metricOf(records, m);
    const entries = Object.values(subjects);
    const stderrs = entries.map((s) => s.metrics[m]!.stderr);
    const pooled = stderrs.every((s): s is number => s !== null)
      ? finiteOrNull(
          pooledSampleStderr(
            stderrs,
            entries.map((s) => s.n),
          ),
        )
      : null;
    out.metrics[m] = { value: value.value, stderr: pooled };
  }
  out.subjects = subjects;
  return out;
}
