import { basename, dirname, join } from "node:path";
import { ProgressWriter } from "@subnet-review/core/node";
import { createWorkerBackend, evalDataDir, evalProgressLine, evaluateMergedCheckpoint, runEval, taskNames, type EvalResult } from "@subnet-review/eval";
import { appendEvalLog, RunUploader, type EvalRecord, type RunRecorder, type UploaderOptions, type WorkerMessage } from "@subnet-review/trainer";
import { z } from "zod";
import { numberFlag, parseFlags, UsageError, type FlagSpecs } from "./args.ts";
import { cliEnv } from "./env.ts";
import { evalRecordRows } from "./eval-records.ts";

export const trainingEvalUsage = `      [--eval-every N [--eval-tasks gsm8k_cot,mmlu,arc_challenge,hellaswag] [--eval-limit L] [--eval-data-dir DIR]]
    evaluate the base model (step 0), every N steps and the final adapter,
    merged into the full model with natural routing`;

/** The --eval-* flags of train and experiment, as parsed and as their help shows them. */
export const trainingEvalFlags = {
  "eval-every": { type: "string", value: "N", help: "evaluate the base model (step 0), every N steps and the final adapter, merged with natural routing" },
  "eval-tasks": { type: "string", value: "TASKS", help: `comma-separated: ${taskNames.join(", ")} (default gsm8k_cot)` },
  "eval-limit": { type: "string", value: "L", help: "documents per task (default all)" },
  "eval-data-dir": { type: "string", value: "DIR", help: "where the data sets are (default ../shared/data beside the repository)" },
} satisfies FlagSpecs;

const evalFlagsSchema = z.object({
  "eval-every": numberFlag.pipe(z.number().int("must be a whole number of steps").min(1, "must be at least 1 step")),
  "eval-tasks": z
    .string()
    .default("gsm8k_cot")
    .transform((s) => s.split(",").map((t) => t.trim()))
    .pipe(z.array(z.enum(taskNames, { error: `each task must be one of ${taskNames.join(", ")}` })).min(1)),
  "eval-limit": numberFlag.pipe(z.number().int().min(1, "must be at least 1 document")).optional(),
  "eval-data-dir": z.string().min(1).optional(),
});
export type TrainingEvalFlags = z.output<typeof evalFlagsSchema>;

/** Takes the --eval-* flags out of a train/experiment command line; the rest goes to the runner's own parser. */
export function splitEvalFlags(argv: string[]): { rest: string[]; evalFlags: TrainingEvalFlags | null } {
  const mine: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--eval-")) rest.push(arg);
    else if (arg.includes("=")) mine.push(arg);
    else mine.push(arg, argv[++i] ?? "");
  }
  if (mine.length === 0) return { rest, evalFlags: null };
  const flags = parseFlags(mine, trainingEvalFlags, evalFlagsSchema);
  return { rest, evalFlags: flags };
}

/** Checkpoints are where evals happen: --checkpoint-every defaults to --eval-every and must divide it. */
export function checkpointEveryFor(evalEvery: number, checkpointEvery: number): number {
  if (checkpointEvery === 0) return evalEvery;
  if (evalEvery % checkpointEvery !== 0) {
    throw new UsageError(`--eval-every: must be a multiple of --checkpoint-every (${checkpointEvery}): evals run on saved checkpoints`);
  }
  return checkpointEvery;
}

/** What finish() reports: eval rows the API acknowledged, and those it has not taken yet (still in evals.jsonl). */
export interface EvalsFinished {
  recorded: number;
  unsent: Array<{ runDir: string; rows: number }>;
}

/**
 * Eval during training: the base model once (step 0 of every run), then each checkpoint at a multiple of `every`
 * and the final adapter, each merged into the full model and evaluated with natural routing. Evals queue one after
 * another beside the training (they never stop it). Each result is appended to its run's evals.jsonl first (the base
 * model's to every run's), then sent to the API as it comes with the same backlog and retries as the steps; whatever
 * the API has not taken when the command ends, `train --resume` sends from evals.jsonl.
 */
export class TrainingEvals {
  private queue: Promise<void> = Promise.resolve();
  private readonly failures: string[] = [];
  /** run id -> its directory and eval uploader, in the order the runs started */
  private readonly runs = new Map<string, { dir: string; uploader: RunUploader | null }>();
  private base: EvalResult[] | null = null;
  private readonly baseLogged = new Set<string>();

  constructor(
    private readonly flags: TrainingEvalFlags,
    private readonly opts: {
      modelDir: string;
      tokenizerDir: string;
      device: "cpu" | "cuda";
      python?: string | undefined;
      workDir: string;
      /** where results go as they come; null: evals.jsonl only */
      recorder: RunRecorder | null;
      uploader?: UploaderOptions;
    },
  ) {}

  private enqueue(what: string, work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((err: unknown) => {
      this.failures.push(`${what}: ${(err as Error).message}`);
      process.stderr.write(`eval ${what} failed: ${(err as Error).message}\n`);
    });
  }

  /** a progress writer per evaluation run */
  private get common() {
    const progress = new ProgressWriter(process.stderr);
    return {
      ...(this.flags["eval-limit"] ? { limit: this.flags["eval-limit"] } : {}),
      dataDir: this.flags["eval-data-dir"] ?? evalDataDir(cliEnv()),
      onProgress: (p: Parameters<typeof evalProgressLine>[0]) => progress.update(evalProgressLine(p), p.done === p.total),
    };
  }

  /** On disk first, then to the API (the run itself is created by the runner's uploader; rows wait for it). */
  private record(runId: string, step: number, result: EvalResult): void {
    const run = this.runs.get(runId)!;
    const rows: EvalRecord[] = evalRecordRows(result, { runId, step }).map((r) => ({ ...r, runId, step }));
    appendEvalLog(run.dir, { step, rows, result });
    run.uploader?.addEvals(rows);
  }

  /** The base model's results go into every run's log once, whichever comes first: the results or the run. */
  private recordBase(runId: string): void {
    if (this.base === null || this.baseLogged.has(runId)) return;
    this.baseLogged.add(runId);
    for (const result of this.base) this.record(runId, 0, result);
  }

  private knowRun(runDir: string): string {
    const runId = basename(runDir);
    if (!this.runs.has(runId)) {
      const uploader = this.opts.recorder ? new RunUploader(this.opts.recorder, runId, { ...this.opts.uploader, runCreatedElsewhere: true }) : null;
      this.runs.set(runId, { dir: runDir, uploader });
      this.recordBase(runId);
    }
    return runId;
  }

  /** Step 0: the base model, evaluated once and recorded for every run of this command. */
  evaluateBase(): void {
    this.enqueue("base model (step 0)", async () => {
      const backend = await createWorkerBackend({
        modelDir: this.opts.modelDir,
        tokenizerDir: this.opts.tokenizerDir,
        label: `${basename(this.opts.modelDir)}@step-0`,
        device: this.opts.device,
        ...(this.opts.python ? { python: this.opts.python } : {}),
      });
      const results: EvalResult[] = [];
      try {
        for (const task of this.flags["eval-tasks"]) {
          results.push(await runEval({ task, backend, samplesPath: join(this.opts.workDir, "base", `${task}.jsonl`), ...this.common }));
        }
      } finally {
        await backend.close();
      }
      this.base = results;
      for (const runId of this.runs.keys()) this.recordBase(runId);
    });
  }

  private evaluateAdapter(runDir: string, step: number, adapterDir: string): void {
    const runId = this.knowRun(runDir);
    this.enqueue(`${runId} step ${step}`, async () => {
      const { results } = await evaluateMergedCheckpoint({
        baseModelDir: this.opts.modelDir,
        adapterDir,
        workDir: join(runDir, "evals", `step-${step}`),
        tasks: this.flags["eval-tasks"],
        label: `${runId}@step-${step}`,
        device: this.opts.device,
        ...(this.opts.python ? { python: this.opts.python } : {}),
        ...this.common,
      });
      for (const result of results) this.record(runId, step, result);
    });
  }

  /** The runner's onMessage hook: each run as it starts, checkpoints at multiples of --eval-every, the final adapter. */
  readonly onMessage = (m: WorkerMessage, _worker: unknown, runDir: string): void => {
    this.knowRun(runDir);
    if (m.type === "checkpoint" && m.step % this.flags["eval-every"] === 0) {
      // <out>/<run id>/checkpoints/step-N
      this.evaluateAdapter(dirname(dirname(m.path)), m.step, m.path);
    } else if (m.type === "done" && m.command === "train") {
      this.evaluateAdapter(dirname(m.result.adapter_dir), m.result.steps, m.result.adapter_dir);
    }
  };

  /** Waits for the queued evals and for the API to take their rows (up to `drainMs`), and says what failed. */
  async finish(drainMs = 60_000): Promise<EvalsFinished> {
    await this.queue;
    const deadline = Date.now() + drainMs;
    let recorded = 0;
    const unsent: EvalsFinished["unsent"] = [];
    for (const { dir, uploader } of this.runs.values()) {
      if (!uploader) continue;
      await uploader.drain(Math.max(0, deadline - Date.now()));
      uploader.close();
      recorded += uploader.sentEvals;
      if (uploader.evalBacklog > 0) unsent.push({ runDir: dir, rows: uploader.evalBacklog });
    }
    if (this.failures.length > 0) throw new Error(`evals failed: ${this.failures.join("; ")}`);
    return { recorded, unsent };
  }
}
