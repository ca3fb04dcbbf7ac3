import type { EvalBackend } from "./backend.ts";
import { defaultDataDir } from "./env.ts";
import { aggregateSamples, type MetricValue, type SubjectMetrics } from "./aggregate.ts";
import { scoreGsm8kCompletion } from "./gsm8k.ts";
import { scoreMultipleChoice } from "./multiple-choice.ts";
import { loglikelihoodRequest, truncateAtStop } from "./requests.ts";
import { appendSamples, readSampleLog, type SampleRecord } from "./samples-log.ts";
import { type ChoiceItem, type GenerationItem, type TaskName, loadEvalTask, taskNameSchema } from "./tasks/registry.ts";

export interface EvalProgress {
  task: TaskName;
  /** Docs finished, including those read back from the samples file. */
  done: number;
  total: number;
  /** Docs read back from the samples file rather than run now. */
  resumed: number;
  elapsedMs: number;
  /** From this run's pace; null until one batch has finished. */
  etaMs: number | null;
}

export interface EvalResult {
  task: TaskName;
  model: string;
  n: number;
  metrics: Record<string, MetricValue>;
  subjects?: Record<string, SubjectMetrics>;
  note?: string;
  samplesPath: string;
  resumed: number;
  elapsedMs: number;
}

export interface RunEvalOptions {
  task: TaskName;
  backend: EvalBackend;
  /** JSONL of per-sample records: appended as batches finish, read back to resume. */
  samplesPath: string;
  dataDir?: string;
  limit?: number;
  /** mmlu only (5 by default). */
  numFewshot?: number;
  /** Docs per backend call (default 128); its samples are appended when it finishes. */
  batchSize?: number;
  onProgress?: (p: EvalProgress) => void;
}

function generationSample(task: TaskName, model: string, item: GenerationItem, raw: string): SampleRecord {
  const output = truncateAtStop(raw, item.request.stop);
  const score = scoreGsm8kCompletion(output, item.target);
  return {
    kind: "generate",
    task,
    docIndex: item.docIndex,
    model,
    prompt: item.request.context,
    output,
    gold: item.target,
    extracted: { "strict-match": score.strict.extracted, "flexible-extract": score.flexible.extracted },
    correct: { "strict-match": score.strict.correct, "flexible-extract": score.flexible.correct },
  };
}

function choiceSample(task: TaskName, model: string, item: ChoiceItem, lls: number[], greedy: boolean[]): SampleRecord {
  const s = scoreMultipleChoice(lls, item.choices, item.gold);
  return {
    kind: "choice",
    task,
    docIndex: item.docIndex,
    model,
    ...(item.subject === undefined ? {} : { subject: item.subject }),
    prompt: item.context,
    choices: item.choices,
    gold: item.gold,
    loglikelihoods: lls,
    isGreedy: greedy,
    pred: s.pred,
    predNorm: s.predNorm,
    correct: { acc: s.acc === 1, acc_norm: s.accNorm === 1 },
  };
}

async function runBatch(task: TaskName, backend: EvalBackend, batch: readonly (GenerationItem | ChoiceItem)[]): Promise<SampleRecord[]> {
  const gen = batch.filter((i): i is GenerationItem => i.kind === "generate");
  const mc = batch.filter((i): i is ChoiceItem => i.kind === "choice");
  const out: SampleRecord[] = [];
  if (gen.length > 0) {
    const texts = await backend.generate(gen.map((i) => i.request));
    if (texts.length !== gen.length) throw new Error(`backend returned ${texts.length} generations for ${gen.length} requests`);
    gen.forEach((item, k) => out.push(generationSample(task, backend.label, item, texts[k]!)));
  }
  if (mc.length > 0) {
    const requests = mc.flatMap((i) => i.choices.map((c) => loglikelihoodRequest(i.context, c)));
    const results = await backend.loglikelihood(requests);
    if (results.length !== requests.length) {
      throw new Error(`backend returned ${results.length} loglikelihoods for ${requests.length} requests`);
    }
    let at = 0;
    for (const item of mc) {
      const mine = results.slice(at, at + item.choices.length);
      at += item.choices.length;
      out.push(
        choiceSample(
          task,
          backend.label,
          item,
          mine.map((r) => r.logprob),
          mine.map((r) => r.isGreedy),
        ),
      );
    }
  }
  return out;
}

/**
 * Runs one task against a backend, appending each finished batch's samples to `samplesPath`; samples already in
 * that file for the same task (same model label, same prompt) are kept, not redone.
 */
export async function runEval(options: RunEvalOptions): Promise<EvalResult> {
  const task = taskNameSchema.parse(options.task);
  const batchSize = options.batchSize ?? 128;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  const started = Date.now();
  const evalTask = await loadEvalTask(task, {
    dataDir: options.dataDir ?? defaultDataDir,
    ...(options.limit === undefined ? {} : { limit: options.limit }),
    ...(options.numFewshot === undefined ? {} : { numFewshot: options.numFewshot }),
  });
  const model = options.backend.label;
  const wanted = new Map(evalTask.items.map((i) => [i.docIndex, i]));

  const finished = new Map<number, SampleRecord>();
  for (const rec of await readSampleLog(options.samplesPath)) {
    if (rec.task !== task) continue;
    if (rec.model !== model) {
      throw new Error(`${options.samplesPath} holds ${task} samples of model "${rec.model}", not "${model}": use a separate samples file per model`);
    }
    const item = wanted.get(rec.docIndex);
    if (item === undefined) continue;
    const prompt = item.kind === "generate" ? item.request.context : item.context;
    if (rec.prompt !== prompt) {
      throw new Error(`${options.samplesPath}: ${task} doc ${rec.docIndex} was run with a different prompt; use a new samples file`);
    }
    finished.set(rec.docIndex, rec);
  }
  const resumed = finished.size;
  const pending = evalTask.items.filter((i) => !finished.has(i.docIndex));
  const total = evalTask.items.length;
  const report = (etaMs: number | null): void => options.onProgress?.({ task, done: finished.size, total, resumed, elapsedMs: Date.now() - started, etaMs });
  report(pending.length === 0 ? 0 : null);

  const runStarted = Date.now();
  for (let at = 0; at < pending.length; at += batchSize) {
    const records = await runBatch(task, options.backend, pending.slice(at, at + batchSize));
    await appendSamples(options.samplesPath, records);
    for (const r of records) finished.set(r.docIndex, r);
    const doneNow = Math.min(at + batchSize, pending.length);
    report(((Date.now() - runStarted) / doneNow) * (pending.length - doneNow));
  }

  const records = evalTask.items.map((i) => finished.get(i.docIndex)!);
  const agg = aggregateSamples(evalTask.metrics, records);
  return {
    task,
    model,
    n: agg.n,
    metrics: agg.metrics,
    ...(agg.subjects === undefined ? {} : { subjects: agg.subjects }),
    ...(evalTask.note === undefined ? {} : { note: evalTask.note }),
    samplesPath: options.samplesPath,
    resumed,
    elapsedMs: Date.now() - started,
  };
}
