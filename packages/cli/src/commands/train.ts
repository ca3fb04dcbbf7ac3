import { basename, join } from "node:path";
import {
  resumeRun,
  runFlagsSchema,
  runSpecFromFlags,
  runTraining,
  type EvalRecord,
  type RunCreate,
  type RunFinish,
  type RunFlags,
  type RunRecorder,
  type RunResult,
  type RunSpec,
  type StepRecord,
} from "@subnet-review/trainer";
import { taskNameSchema } from "@subnet-review/eval";
import { z } from "zod";
import { createApiClient } from "../api-client.ts";
import { checkpointEveryFor, splitEvalFlags, TrainingEvals, trainingEvalFlags, trainingEvalUsage, type TrainingEvalFlags } from "../training-evals.ts";
import { parseFlags, userPath, type CommandHelp, type FlagSpecs } from "../args.ts";
import { workerPython } from "../env.ts";
import { formatTable } from "../table.ts";

const trainRunUsage = `pnpm review train --model DIR --data FILE --cell A|B|C --trainable-experts SEL --steps S [--kept N]
      [--routing subnet|renormalized --top-k K]
      [--batch 4 --seq 2048 --lr 1e-5 --device cuda|cpu --dtype bf16|fp32 --no-checkpointing --checkpoint-every N
       --seed 0 --python PATH --out runs --tokenizer DIR --peak-tflops T] [--api URL --token T [--experiment NAME]]
    train one cell; SEL: top-k:K | esft-gate:P | esft-token:P |
    subnet:expert_assignment.json (the subnet's shard) | expert_cfg.json;
    --routing (cells A and B; default subnet): the subnet's restricted router
    (softmax over all experts, the allowed ones' probabilities unrenormalised)
    or the softmax renormalised over the resident experts; cell C routes naturally;
    --top-k: experts per token in training (default the model's
    num_experts_per_tok; the subnet's miners train with partial_topk = 1,
    its full model uses full_topk = 2); clamped where a layer has fewer resident experts;
    --experiment attaches the run to a review's experiment (section 04)
${trainingEvalUsage}`;

/** Flags shared by train and experiment: parsed by node:util, shown by --help. */
export const runFlagOptions = {
  model: { type: "string", value: "DIR", help: "a local Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.json)" },
  data: { type: "string", value: "FILE", help: "an SFT JSONL file (question/answer, prompt/response or chat messages)" },
  tokenizer: { type: "string", value: "DIR", help: "the tokenizer's directory (default: --model)" },
  "trainable-experts": { type: "string", value: "SEL", help: "top-k:K | esft-gate:P | esft-token:P | subnet:expert_assignment.json | an ESFT expert_cfg.json" },
  kept: { type: "string", value: "N", help: "frozen routed experts kept resident per layer (cell B)" },
  routing: { type: "string", value: "subnet|renormalized", help: "the router of cells A and B (default subnet)" },
  "top-k": { type: "string", value: "K", help: "experts per token in training (default the model's num_experts_per_tok)" },
  steps: { type: "string", value: "S", help: "optimizer steps" },
  batch: { type: "string", value: "B", help: "sequences per step (default 4)" },
  seq: { type: "string", value: "T", help: "tokens per sequence (default 2048)" },
  lr: { type: "string", value: "LR", help: "AdamW learning rate" },
  "weight-decay": { type: "string", value: "WD", help: "AdamW weight decay, 0 to 1" },
  device: { type: "string", value: "cuda|cpu", help: "where the worker trains (default cuda)" },
  dtype: { type: "string", value: "bf16|fp32", help: "weights and compute (default bf16 on cuda, fp32 on cpu)" },
  "optimizer-state": { type: "string", value: "bf16|fp32", help: "AdamW's moments (default: --dtype)" },
  "no-checkpointing": { type: "boolean", help: "no activation checkpointing (faster, more memory)" },
  "checkpoint-every": { type: "string", value: "N", help: "steps between resumable checkpoints; 0: only the final adapter" },
  "score-tokens": { type: "string", value: "T", help: "tokens scored to pick experts for top-k and ESFT selections" },
  seed: { type: "string", value: "N", help: "data order and stochastic rounding" },
  python: { type: "string", value: "PATH", help: "the Python with torch that runs the worker (default TRAINER_PYTHON or /usr/bin/python3)" },
  out: { type: "string", value: "DIR", help: "where runs are written (default runs)" },
  "peak-tflops": { type: "string", value: "T", help: "the GPU's dense bf16 peak for MFU, if not in the built-in table" },
  api: { type: "string", value: "URL", help: "the API's base URL: steps and results are sent as they come" },
  token: { type: "string", value: "T", help: "an API write token (pnpm review token create)" },
} as const satisfies FlagSpecs;

const trainRunFlags = {
  ...runFlagOptions,
  cell: { type: "string", value: "A|B|C", help: "A in-place ESFT, B frozen-kept, C ESFT-classic" },
  experiment: { type: "string", value: "NAME", help: "attach the run to this experiment (with --api)" },
} as const satisfies FlagSpecs;

const trainResumeFlags = {
  resume: { type: "string", value: "RUN_DIR", help: "the run's directory (runs/<id>)" },
  api: runFlagOptions.api,
  token: runFlagOptions.token,
  python: runFlagOptions.python,
} as const satisfies FlagSpecs;

export const trainHelp: CommandHelp[] = [
  { usage: trainRunUsage, flags: { ...trainRunFlags, ...trainingEvalFlags } },
  {
    usage: `pnpm review train --resume RUN_DIR [--api URL --token T] [--python PATH]
    continue a run from its last checkpoint, or send its backlog to the API`,
    flags: trainResumeFlags,
  },
];

// A hung API must not hold a finished run forever: each call gives up after this and is retried.
const CALL_TIMEOUT_MS = 15_000;

/** The runner's RunRecorder over the API's runs router (protected writes, Bearer token). */
export function apiRecorder(url: string, token: string): RunRecorder {
  const api = createApiClient({ url, token });
  const opts = () => ({ signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
  return {
    async create(run: RunCreate) {
      await api.runs.create.mutate(run, opts());
    },
    async appendSteps(runId: string, steps: StepRecord[]) {
      await api.runs.appendSteps.mutate({ runId, steps }, opts());
    },
    async finish(runId: string, end: RunFinish) {
      await api.runs.finish.mutate({ runId, ...end }, opts());
    },
    async recordEvals(rows: EvalRecord[]) {
      // rows read back from evals.jsonl: the task name is checked here, at the boundary
      await api.evals.record.mutate({ results: rows.map((r) => ({ ...r, task: taskNameSchema.parse(r.task) })) }, opts());
    },
  };
}

/** SIGINT / SIGTERM stop the worker; the run is recorded as failed with its metrics. */
export function stopSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const stop = (sig: NodeJS.Signals) => controller.abort(sig);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    },
  };
}

const GiB = 2 ** 30;

export function runRows(results: RunResult[]): string {
  return formatTable(
    ["cell", "run", "status", "steps", "final loss", "tokens/s", "peak GiB", "MFU", "wallclock s", "api"],
    results.map((r) => [
      r.cell,
      r.id,
      r.status,
      String(r.steps.length),
      r.finalLoss?.toFixed(4) ?? r.steps.at(-1)?.loss.toFixed(4) ?? "-",
      r.summary.tokensPerSecond === null ? "-" : Math.round(r.summary.tokensPerSecond).toLocaleString("en-US"),
      r.summary.peakMemoryBytes === null ? "-" : (r.summary.peakMemoryBytes / GiB).toFixed(1),
      r.summary.mfu === null ? "-" : `${(r.summary.mfu * 100).toFixed(1)}%`,
      r.wallclockSeconds.toFixed(1),
      r.synced ? "sent" : `${r.backlog} steps queued`,
    ]),
  );
}

/** Eval during training for a run spec: checkpoints where evals happen, and the base model queued first. */
export function trainingEvals(
  flags: TrainingEvalFlags,
  spec: RunSpec,
  outDir: string,
  python: string | undefined,
  recorder: RunRecorder | null,
): TrainingEvals {
  spec.checkpointEvery = checkpointEveryFor(flags["eval-every"], spec.checkpointEvery);
  const evals = new TrainingEvals(flags, {
    modelDir: spec.model,
    tokenizerDir: spec.tokenizer,
    device: spec.device,
    python,
    // shared by every run from this checkpoint: a later run resumes the base model's samples instead of redoing them
    workDir: join(outDir, "base-evals", basename(spec.model)),
    recorder,
  });
  evals.evaluateBase();
  return evals;
}

/** What train and experiment derive from their flags alike: the spec, the worker's Python, the API recorder, evals. */
export function runSetup(flags: RunFlags, evalFlags: TrainingEvalFlags | null) {
  const spec = runSpecFromFlags(flags, userPath);
  const python = workerPython(flags.python);
  const recorder = flags.api && flags.token ? apiRecorder(flags.api, flags.token) : null;
  const evals = evalFlags ? trainingEvals(evalFlags, spec, userPath(flags.out), python, recorder) : null;
  return { spec, python, recorder, evals };
}

export async function finishEvals(evals: TrainingEvals, api: string | undefined): Promise<void> {
  const { recorded, unsent } = await evals.finish();
  process.stderr.write(api ? `recorded ${recorded} eval metrics at ${api}\n` : "evals kept in each run's evals.jsonl (no --api)\n");
  if (unsent.length > 0) {
    const resume = unsent.map((u) => `${u.rows} in ${u.runDir}/evals.jsonl: \`pnpm review train --resume ${u.runDir} --api URL --token T\``).join("; ");
    throw new Error(`the API has not taken every eval metric yet: ${resume} sends them`);
  }
}

export async function trainCommand(argv: string[]): Promise<void> {
  const stop = stopSignal();
  try {
    let result: RunResult;
    if (argv.includes("--resume")) {
      const flags = parseFlags(
        argv,
        trainResumeFlags,
        z.object({
          resume: z.string().min(1),
          api: z.url({ error: "must be the API's base URL" }).optional(),
          token: z.string().min(1).optional(),
          python: z.string().min(1).optional(),
        }),
      );
      result = await resumeRun(userPath(flags.resume), {
        recorder: flags.api && flags.token ? apiRecorder(flags.api, flags.token) : null,
        python: workerPython(flags.python),
        signal: stop.signal,
      });
    } else {
      const { rest, evalFlags } = splitEvalFlags(argv);
      const flags = parseFlags(rest, trainRunFlags, runFlagsSchema);
      const { spec, python, recorder, evals } = runSetup(flags, evalFlags);
      result = await runTraining(spec, {
        outDir: userPath(flags.out),
        experiment: flags.experiment
          ? { name: flags.experiment, description: `Training runs attached with \`pnpm review train --experiment ${flags.experiment}\`.` }
          : null,
        recorder,
        python,
        signal: stop.signal,
        ...(evals ? { onMessage: evals.onMessage } : {}),
      });
      if (evals) await finishEvals(evals, flags.api);
    }
    console.log(runRows([result]));
    if (result.status === "failed") throw new Error(`run ${result.id} failed: ${result.error}; its metrics are in ${result.dir}/metrics.jsonl`);
    if (!result.synced)
      throw new Error(`run ${result.id} completed, but the API has not taken everything yet: \`pnpm review train --resume ${result.dir} --api URL --token T\``);
  } finally {
    stop.dispose();
  }
}
