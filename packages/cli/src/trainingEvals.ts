import { appendFileSync, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import {
  createWorkerBackend,
  evalProgressLine,
  evaluateMergedCheckpoint,
  runEval,
  taskNames,
  type EvalResult,
} from "@subnet-review/eval";
import type { WorkerMessage } from "@subnet-review/trainer";
import { z } from "zod";
import type { ApiClient } from "./apiClient.ts";
import { numberFlag, parseFlags, UsageError } from "./args.ts";
import { evalRecordRows, recordEvalRows } from "./evalRecords.ts";

export const trainingEvalUsage = `      [--eval-every N [--eval-tasks gsm8k_cot,mmlu,arc_challenge,hellaswag] [--eval-limit L] [--eval-data-dir DIR]]
                                                evaluate the base model (step 0), every N steps and the final adapter,
                                                merged into the full model with natural routing`;

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
  const flags = parseFlags(mine, { "eval-every": { type: "string" }, "eval-tasks": { type: "string" }, "eval-limit": { type: "string" }, "eval-data-dir": { type: "string" } }, evalFlagsSchema);
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

interface Scored {
  runId: string | null;
  step: number;
  result: EvalResult;
}

/**
 * Eval during training: the base model once (step 0 of every run), then each checkpoint at a multiple of `every`
 * and the final adapter, each merged into the full model and evaluated with natural routing. Evals queue one after
 * another beside the training (they never stop it); results are appended to <run>/evals.jsonl as they finish and
 * recorded through the API when the runs exist there.
 */
export class TrainingEvals {
  private queue: Promise<void> = Promise.resolve();
  private readonly scored: Scored[] = [];
  private readonly failures: string[] = [];
  private readonly runs = new Set<string>();

  constructor(
    private readonly flags: TrainingEvalFlags,
    private readonly opts: { modelDir: string; tokenizerDir: string; device: "cpu" | "cuda"; python?: string | undefined; workDir: string },
  ) {}

  private enqueue(what: string, work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((err: unknown) => {
      this.failures.push(`${what}: ${(err as Error).message}`);
      process.stderr.write(`eval ${what} failed: ${(err as Error).message}\n`);
    });
  }

  private get common() {
    return {
      ...(this.flags["eval-limit"] ? { limit: this.flags["eval-limit"] } : {}),
      ...(this.flags["eval-data-dir"] ? { dataDir: this.flags["eval-data-dir"] } : {}),
      onProgress: (p: Parameters<typeof evalProgressLine>[0]) => process.stderr.write(`${evalProgressLine(p)}\n`),
    };
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
      try {
        for (const task of this.flags["eval-tasks"]) {
          const result = await runEval({ task, backend, samplesPath: join(this.opts.workDir, "base", `${task}.jsonl`), ...this.common });
          this.scored.push({ runId: null, step: 0, result });
        }
      } finally {
        await backend.close();
      }
    });
  }

  private evaluateAdapter(runDir: string, step: number, adapterDir: string): void {
    const runId = basename(runDir);
    this.runs.add(runId);
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
      for (const result of results) {
        this.scored.push({ runId, step, result });
        appendFileSync(join(runDir, "evals.jsonl"), `${JSON.stringify({ step, result })}\n`);
      }
    });
  }

  /** The runner's onMessage hook: checkpoints at multiples of --eval-every, and the final adapter. */
  readonly onMessage = (m: WorkerMessage): void => {
    if (m.type === "checkpoint" && m.step % this.flags["eval-every"] === 0) {
      // <out>/<run id>/checkpoints/step-N
      this.evaluateAdapter(dirname(dirname(m.path)), m.step, m.path);
    } else if (m.type === "done" && m.command === "train") {
      this.evaluateAdapter(dirname(m.result.adapter_dir), m.result.steps, m.result.adapter_dir);
    }
  };

  /** Waits for the queued evals, records them (base rows once per run) and says what failed. */
  async finish(client: ApiClient | null): Promise<{ recorded: number }> {
    await this.queue;
    const rows = this.scored.flatMap((s) =>
      s.runId === null
        ? [...this.runs].flatMap((runId) => evalRecordRows(s.result, { runId, step: 0 }))
        : evalRecordRows(s.result, { runId: s.runId, step: s.step }),
    );
    mkdirSync(this.opts.workDir, { recursive: true });
    if (client && rows.length > 0) await recordEvalRows(client, rows);
    if (this.failures.length > 0) throw new Error(`evals failed: ${this.failures.join("; ")}`);
    return { recorded: client ? rows.length : 0 };
  }
}
