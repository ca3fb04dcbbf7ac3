// Runs one training cell end to end: check inputs, prepare the data, launch the worker, write every message to
// runs/<ID>/metrics.jsonl, stream records to the API, show progress, and record how the run ended.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { InputError, type TrainedCell } from "@subnet-review/core";
import { ProgressWriter } from "@subnet-review/core/node";
import { SftDataError } from "../data/examples.ts";
import { prepareSftData } from "../data/prepare.ts";
import { NoTargetsError } from "../data/pack.ts";
import type { PackedManifest } from "../data/packed-format.ts";
import { DEFAULT_PYTHON } from "../env.ts";
import { TRAINER_ROOT, WorkerFailure, launchWorker, type WorkerRun } from "../worker/launch.ts";
import type { StepMessage, TrainSpecInput, WorkerMessage } from "../worker/messages.ts";
import { readEvalLog } from "./eval-log.ts";
import { METRICS_FILE, MetricsLog, readMetricsLog, type MetricsLine, type RunEnd } from "./metrics-log.ts";
import { checkRunInputs } from "./preflight.ts";
import { progressLine } from "./progress.ts";
import type { ExperimentRef, RunCreate, RunFinish, RunRecorder, StepRecord } from "./records.ts";
import { gitCommit, newRunId, readRunFile, writeRunFile, type RunFile } from "./run-file.ts";
import { trainableCount, type ExpertSelection } from "./selection.ts";
import type { RunSpec } from "./spec.ts";
import { summarizeSteps, type RunSummary } from "./summary.ts";
import { RunUploader, type UploaderOptions } from "./uploader.ts";

export interface RunContext {
  /** parent of the run directories (default "runs") */
  outDir: string;
  python?: string;
  /** where records go as they come; null: metrics.jsonl only */
  recorder?: RunRecorder | null;
  experiment?: ExperimentRef | null;
  id?: string;
  /** an explicit assignment resolved once for every cell of an experiment (else the spec's selection) */
  selection?: ExpertSelection;
  /** a packed dataset directory prepared once for every cell of an experiment */
  prepared?: { dir: string; manifest: PackedManifest };
  /** progress and notes (default process.stderr) */
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  /** aborting stops the worker; the run is recorded as failed */
  signal?: AbortSignal;
  /** every worker message, after it is on disk, with the run's directory (tests use it to kill the worker at a chosen step) */
  onMessage?: (message: WorkerMessage, worker: WorkerRun, runDir: string) => void;
  /** how long to keep retrying the API after the worker ends (default 60 s) */
  drainMs?: number;
  uploader?: UploaderOptions;
}

export interface RunResult {
  id: string;
  cell: TrainedCell;
  dir: string;
  status: "completed" | "failed";
  error: string | null;
  /** the worker's failure, when there was one */
  failure: WorkerFailure | null;
  steps: StepMessage[];
  finalLoss: number | null;
  wallclockSeconds: number;
  summary: RunSummary;
  adapterDir: string | null;
  /** whether the API acknowledged everything (true when there is no API) */
  synced: boolean;
  backlog: number;
}

/** The records a metrics log holds: hello's hardware, ready's experts, the last value of each step, the last end. */
export function recordsFromLog(lines: MetricsLine[]) {
  let hardware: Record<string, unknown> | null = null;
  let ready: Extract<WorkerMessage, { type: "ready" }>["run"] | null = null;
  const steps = new Map<number, StepMessage>();
  let end: RunEnd | null = null;
  for (const m of lines) {
    if (m.type === "hello") hardware = m.hardware;
    else if (m.type === "ready") ready = m.run;
    else if (m.type === "step") steps.set(m.step, m);
    else if (m.type === "run_end") end = m;
  }
  return { hardware, ready, steps: [...steps.values()].sort((a, b) => a.step - b.step), end };
}

export function stepRecord(s: StepMessage): StepRecord {
  return {
    step: s.step,
    loss: s.loss,
    gradNorm: s.grad_norm,
    lr: s.lr,
    tokens: s.tokens,
    tokensPerSecond: s.tokens_per_s,
    stepSeconds: s.step_time_s,
    memAllocatedBytes: s.gpu_mem_allocated_bytes,
    memPeakBytes: s.gpu_mem_peak_bytes,
  };
}

type ReadyRun = ReturnType<typeof recordsFromLog>["ready"];

/** The training forward's routing as the run records it: the worker's (ready) once it has reported, else the spec's. */
export function runRouting(run: RunFile, ready: ReadyRun): Pick<RunCreate, "routingMode" | "topK"> {
  if (ready?.routing) return { routingMode: ready.routing.mode, topK: ready.routing.top_k };
  const configK = run.modelConfig.num_experts_per_tok;
  return { routingMode: run.spec.cell === "C" ? "natural" : run.spec.routingMode, topK: run.spec.topK ?? (typeof configK === "number" ? configK : null) };
}

function runCreate(run: RunFile, hardware: Record<string, unknown> | null, ready: ReadyRun): RunCreate {
  const { spec } = run;
  const explicit = run.selection.method === "explicit" ? run.selection.experts : null;
  const K = ready ? trainableCount(ready.trainable) : explicit ? trainableCount(explicit) : run.selection.method === "top_k" ? run.selection.k : 0;
  const routing = runRouting(run, ready);
  return {
    id: run.id,
    cell: spec.cell,
    trainable: K,
    kept: spec.cell === "B" ? spec.kept : 0,
    ...routing,
    steps: spec.steps,
    // the spec as run: cell C's routing is natural whatever --routing said
    spec: { ...spec, ...routing, selection: run.selection, modelConfig: run.modelConfig, data: run.data },
    experts: ready ? { trainable: ready.trainable, kept: ready.kept } : null,
    hardware,
    gitCommit: run.gitCommit,
    experiment: run.experiment,
    startedAt: run.createdAt,
  };
}

function finishFrom(end: RunEnd): RunFinish {
  return {
    status: end.status,
    error: end.error,
    finishedAt: end.finished_at,
    wallclockSeconds: end.wallclock_s,
    peakMemoryBytes: end.peak_memory_bytes,
    tokensPerSecond: end.tokens_per_s,
    mfu: end.mfu,
  };
}

/** Prepares the SFT data (tokenized with the checkpoint's tokenizer.json); bad lines become an InputError on --data. */
export async function prepareRunData(spec: RunSpec, dir: string): Promise<{ dir: string; manifest: PackedManifest }> {
  try {
    const manifest = await prepareSftData({ dataPath: spec.data, tokenizerDir: spec.tokenizer, seqLen: spec.seq, outDir: dir, seed: spec.seed });
    return { dir, manifest };
  } catch (err) {
    if (err instanceof SftDataError || err instanceof NoTargetsError) throw new InputError("--data", err.message);
    throw new InputError(spec.tokenizer === spec.model ? "--model" : "--tokenizer", `tokenizer: ${(err as Error).message}`);
  }
}

function checkDataFits(spec: RunSpec, manifest: PackedManifest, vocabSize: number): void {
  if (manifest.vocabSize > vocabSize) {
    throw new InputError(
      spec.tokenizer === spec.model ? "--model" : "--tokenizer",
      `the tokenizer has ${manifest.vocabSize} ids but the model's vocab_size is ${vocabSize}`,
    );
  }
  if (manifest.sequences < spec.batch) {
    const dropped = manifest.droppedRows ? ` (${manifest.droppedRows} more held only prompt text and were dropped)` : "";
    throw new InputError(
      "--batch",
      `${spec.batch} sequences per step, but the data packs into only ${manifest.sequences} sequences of ${spec.seq} tokens (--seq) with a target from --data${dropped}; lower --batch, or give more --data or a longer --seq`,
    );
  }
}

/** Starts a new run: everything about the inputs is checked, and the data prepared, before the worker starts. */
export async function runTraining(spec: RunSpec, ctx: RunContext): Promise<RunResult> {
  const python = ctx.python ?? DEFAULT_PYTHON;
  const checked = await checkRunInputs(spec, python);
  const id = ctx.id ?? newRunId(spec.cell);
  const dir = resolve(ctx.outDir, id);
  if (existsSync(dir)) throw new InputError("--out", `${dir} exists; a run directory is never reused (--resume ${dir} continues it)`);
  mkdirSync(dir, { recursive: true });
  let data: { dir: string; manifest: PackedManifest };
  try {
    data = ctx.prepared ?? (await prepareRunData(spec, join(dir, "data")));
    checkDataFits(spec, data.manifest, checked.config.vocabSize);
    if (data.manifest.droppedRows > 0) {
      const m = data.manifest;
      (ctx.stderr ?? process.stderr).write(
        `data: ${m.sequences} sequences of ${m.seqLen} tokens; ${m.droppedRows} holding only prompt text (no target) dropped\n`,
      );
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true }); // nothing half-made is left behind
    throw err;
  }
  const run: RunFile = {
    id,
    createdAt: new Date().toISOString(),
    spec,
    selection: ctx.selection ?? checked.selection,
    experiment: ctx.experiment ?? null,
    gitCommit: gitCommit(TRAINER_ROOT),
    modelConfig: checked.rawConfig,
    data: {
      dir: data.dir,
      sequences: data.manifest.sequences,
      seqLen: data.manifest.seqLen,
      targetTokens: data.manifest.targetTokens,
      sha256: data.manifest.source.sha256,
      lines: data.manifest.source.lines,
    },
  };
  writeRunFile(dir, run);
  return launchRun(run, dir, [], false, { ...ctx, python });
}

/**
 * Continues a run directory: the API first gets everything metrics.jsonl already holds (the backlog of a run whose
 * API was down), then a run that did not complete restarts from its last checkpoint (or from step 0 without one).
 */
export async function resumeRun(dirInput: string, ctx: Omit<RunContext, "outDir" | "id" | "selection" | "prepared" | "experiment">): Promise<RunResult> {
  const dir = resolve(dirInput);
  if (!existsSync(join(dir, "run.json"))) throw new InputError("--resume", `${dir} is not a run directory (no run.json)`);
  const run = readRunFile(dir);
  const lines = readMetricsLog(join(dir, METRICS_FILE));
  const python = ctx.python ?? DEFAULT_PYTHON;
  const past = recordsFromLog(lines);
  if (past.end?.status === "completed") return syncOnly(run, dir, lines, { ...ctx, outDir: "", python });
  return launchRun(run, dir, lines, true, { ...ctx, outDir: "", python });
}

async function syncOnly(run: RunFile, dir: string, lines: MetricsLine[], ctx: RunContext): Promise<RunResult> {
  const past = recordsFromLog(lines);
  const end = past.end!;
  const uploader = ctx.recorder ? new RunUploader(ctx.recorder, run.id, ctx.uploader) : null;
  uploader?.setRun(runCreate(run, past.hardware, past.ready));
  uploader?.addSteps(past.steps.map(stepRecord));
  uploader?.addEvals(readEvalLog(dir));
  uploader?.setEnd(finishFrom(end));
  const synced = uploader ? await uploader.drain(ctx.drainMs ?? 60_000) : true;
  uploader?.close();
  return {
    id: run.id,
    cell: run.spec.cell,
    dir,
    status: end.status,
    error: end.error,
    failure: null,
    steps: past.steps,
    finalLoss: past.steps.at(-1)?.loss ?? null,
    wallclockSeconds: end.wallclock_s,
    summary: { peakMemoryBytes: end.peak_memory_bytes, tokensPerSecond: end.tokens_per_s, mfu: end.mfu },
    adapterDir: existsSync(join(dir, "adapter", "complete")) ? join(dir, "adapter") : null,
    synced,
    backlog: uploader?.backlog ?? 0,
  };
}

async function launchRun(run: RunFile, dir: string, pastLines: MetricsLine[], resume: boolean, ctx: RunContext & { python: string }): Promise<RunResult> {
  const { spec } = run;
  const out = ctx.stderr ?? process.stderr;
  const progress = new ProgressWriter(out);
  const log = new MetricsLog(join(dir, METRICS_FILE));
  const past = recordsFromLog(pastLines);
  const steps = new Map<number, StepMessage>(past.steps.map((s) => [s.step, s]));
  let hardware = past.hardware;
  let ready = past.ready;
  const uploader = ctx.recorder ? new RunUploader(ctx.recorder, run.id, ctx.uploader) : null;
  uploader?.setRun(runCreate(run, hardware, ready));
  if (past.steps.length) uploader?.addSteps(past.steps.map(stepRecord));
  if (resume) uploader?.addEvals(readEvalLog(dir)); // evals of the interrupted run's checkpoints

  const workerSpec: TrainSpecInput = {
    command: "train",
    model_dir: spec.model,
    data: run.data.dir,
    output_dir: dir,
    cell: spec.cell,
    experts: run.selection,
    kept: spec.cell === "B" ? spec.kept : 0,
    steps: spec.steps,
    batch_size: spec.batch,
    score_tokens: spec.scoreTokens,
    lr: spec.lr,
    weight_decay: spec.weightDecay,
    dtype: spec.dtype,
    optimizer_state_dtype: spec.optimizerStateDtype,
    device: spec.device,
    activation_checkpointing: spec.activationCheckpointing,
    checkpoint_every: spec.checkpointEvery,
    resume,
    seed: spec.seed,
    routing: spec.routingMode,
    top_k: spec.topK,
  };
  const label = `[${spec.cell} ${run.id}]`;
  progress.note(`${label} ${resume ? "resuming" : "starting"}: ${spec.steps} steps × ${spec.batch} × ${spec.seq} tokens on ${spec.device}; run dir ${dir}`);
  const started = Date.now();
  let firstStepAt = 0;
  let startStep = 0;
  let worker: WorkerRun | null = null;
  const onAbort = () => worker?.kill("SIGTERM");
  ctx.signal?.addEventListener("abort", onAbort, { once: true });

  worker = launchWorker(workerSpec, {
    python: ctx.python,
    onMessage: (m) => {
      log.append(m); // on disk first; the API and the screen come after
      if (m.type === "hello") {
        hardware = m.hardware;
      } else if (m.type === "ready") {
        ready = m.run;
        startStep = m.run.start_step;
        uploader?.setRun(runCreate(run, hardware, ready));
        const K = trainableCount(m.run.trainable);
        const r = m.run.routing;
        progress.note(
          `${label} ready: ${m.run.experts_impl} experts, ${K} trainable per layer, ${m.run.params.resident.toLocaleString("en-US")} resident params${r ? `, ${r.mode} routing, top-${r.top_k}` : ""}, from step ${m.run.start_step}`,
        );
        const clamped = r ? Object.entries(r.clamped) : [];
        if (r && clamped.length) {
          progress.note(
            `${label} --top-k ${r.top_k} exceeds the resident experts of MoE layer(s) ${clamped.map(([layer, k]) => `${layer} (k = ${k})`).join(", ")}: k is clamped there, so no token reaches a parked expert`,
          );
        }
        firstStepAt = Date.now();
      } else if (m.type === "step") {
        steps.set(m.step, m);
        uploader?.addSteps([stepRecord(m)]);
        progress.update(
          progressLine({
            label,
            step: m,
            startStep,
            totalSteps: spec.steps,
            elapsed: (Date.now() - firstStepAt) / 1000,
            backlog: uploader?.backlog ?? 0,
            apiError: uploader?.lastError ?? null,
          }),
          m.step === spec.steps,
        );
      } else if (m.type === "checkpoint") {
        progress.note(`${label} checkpoint at step ${m.step}: ${m.path}`);
      }
      if (worker) ctx.onMessage?.(m, worker, dir);
    },
  });
  if (ctx.signal?.aborted) worker.kill("SIGTERM");

  let failure: WorkerFailure | null = null;
  let adapterDir: string | null = null;
  let finalLoss: number | null = null;
  try {
    const outcome = await worker.result;
    if (outcome.done.command === "train") {
      adapterDir = outcome.done.result.adapter_dir;
      finalLoss = outcome.done.result.final_loss;
    }
  } catch (err) {
    if (!(err instanceof WorkerFailure)) throw err;
    failure = err;
  } finally {
    ctx.signal?.removeEventListener("abort", onAbort);
  }
  const previous = past.end?.wallclock_s ?? 0;
  const wallclockSeconds = previous + (Date.now() - started) / 1000;
  const allSteps = [...steps.values()].sort((a, b) => a.step - b.step);
  const summary = summarizeSteps(allSteps, {
    cell: spec.cell,
    trainable: ready ? trainableCount(ready.trainable) : 0,
    kept: spec.cell === "B" ? spec.kept : 0,
    seq: spec.seq,
    dtype: spec.dtype,
    device: spec.device,
    deviceName: typeof hardware?.device_name === "string" ? hardware.device_name : "",
    peakTflops: spec.peakTflops,
    modelConfig: run.modelConfig,
  });
  const error = failure ? (ctx.signal?.aborted ? `stopped (${String(ctx.signal.reason ?? "interrupted")}); ${failure.message}` : failure.message) : null;
  const end: RunEnd = {
    type: "run_end",
    status: failure ? "failed" : "completed",
    error,
    finished_at: new Date().toISOString(),
    wallclock_s: wallclockSeconds,
    peak_memory_bytes: summary.peakMemoryBytes,
    tokens_per_s: summary.tokensPerSecond,
    mfu: summary.mfu,
  };
  log.append(end);
  uploader?.setEnd(finishFrom(end));
  progress.note(
    failure ? `${label} failed: ${error}` : `${label} done: ${allSteps.length} steps, final loss ${finalLoss?.toFixed(4) ?? "-"}, adapter ${adapterDir}`,
  );
  let synced = true;
  if (uploader) {
    synced = await uploader.drain(ctx.drainMs ?? 60_000);
    if (!synced) {
      progress.note(
        `${label} the API did not take ${uploader.backlog} steps and the run's end (${uploader.lastError}); they are in ${join(dir, METRICS_FILE)}: \`pnpm review train --resume ${dir} --api URL --token T\` sends them`,
      );
    }
    uploader.close();
  }
  return {
    id: run.id,
    cell: run.spec.cell,
    dir,
    status: end.status,
    error,
    failure,
    steps: allSteps,
    finalLoss,
    wallclockSeconds,
    summary,
    adapterDir,
    synced,
    backlog: uploader?.backlog ?? 0,
  };
}
