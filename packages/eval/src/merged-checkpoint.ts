// Eval during training: merge a run's trained experts into the base model, then evaluate the full model with
// natural routing over all experts (the trainer's worker does both).
import { rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { launchWorker } from "@subnet-review/trainer";
import { z } from "zod";
import { describeZodError } from "./errors.ts";
import { type EvalProgress, type EvalResult, runEval } from "./run-eval.ts";
import { taskNameSchema } from "./tasks/registry.ts";
import { createWorkerBackend } from "./worker-backend.ts";

export const evaluateMergedOptionsSchema = z.object({
  baseModelDir: z.string().min(1, "baseModelDir must name the base checkpoint directory"),
  /** A complete adapter or training-checkpoint directory of the trainer (trained_experts.safetensors + expert_cfg.json). */
  adapterDir: z.string().min(1, "adapterDir must name an adapter directory"),
  /** Holds merged/ (removed afterwards unless keepMerged) and samples/<task>.jsonl (kept: a rerun resumes from it). */
  workDir: z.string().min(1, "workDir must name a directory"),
  tasks: z.array(taskNameSchema).min(1, "tasks must name at least one task"),
  limit: z.number().int().min(1).optional(),
  /** Written into every sample and result: e.g. "<run id>@step-200". Default: the adapter directory's name. */
  label: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  python: z.string().min(1).optional(),
  device: z.enum(["cpu", "cuda"]).default("cuda"),
  dtype: z.enum(["fp32", "bf16"]).optional(),
  batchSize: z.number().int().min(1).optional(),
  keepMerged: z.boolean().default(false),
});
export type EvaluateMergedOptions = z.input<typeof evaluateMergedOptionsSchema> & { onProgress?: (p: EvalProgress) => void };

export interface MergedEvaluation {
  mergedDir: string;
  /** The worker's merge counts: tensors replaced from the adapter and copied from the base. */
  merge: { replaced: number; copied: number };
  results: EvalResult[];
}

/**
 * Merges `adapterDir` into `baseModelDir` (workDir/merged, written atomically by the worker) and runs each task on
 * the merged model through the PyTorch worker backend. Samples go to workDir/samples/<task>.jsonl, so an interrupted
 * evaluation resumes where it stopped.
 */
export async function evaluateMergedCheckpoint(input: EvaluateMergedOptions): Promise<MergedEvaluation> {
  const parsed = evaluateMergedOptionsSchema.safeParse(input);
  if (!parsed.success) throw new Error(`evaluateMergedCheckpoint: ${describeZodError(parsed.error)}`);
  const o = parsed.data;
  const mergedDir = join(o.workDir, "merged");
  await rm(mergedDir, { recursive: true, force: true }); // a merge left from an interrupted call may be of another adapter
  const run = launchWorker(
    { command: "merge", base_dir: o.baseModelDir, adapter_dir: o.adapterDir, output_dir: mergedDir },
    o.python === undefined ? {} : { python: o.python },
  );
  const { done } = await run.result;
  if (done.command !== "merge") throw new Error(`worker answered a ${done.command} result to a merge`);
  const label = o.label ?? basename(o.adapterDir);
  const backend = await createWorkerBackend({
    modelDir: mergedDir,
    label,
    device: o.device,
    ...(o.python === undefined ? {} : { python: o.python }),
    ...(o.dtype === undefined ? {} : { dtype: o.dtype }),
    ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }),
  });
  const results: EvalResult[] = [];
  try {
    for (const task of o.tasks) {
      results.push(
        await runEval({
          task,
          backend,
          samplesPath: join(o.workDir, "samples", `${task}.jsonl`),
          ...(o.limit === undefined ? {} : { limit: o.limit }),
          ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }),
          ...(input.onProgress === undefined ? {} : { onProgress: input.onProgress }),
        }),
      );
    }
  } finally {
    await backend.close();
    if (!o.keepMerged) await rm(mergedDir, { recursive: true, force: true });
  }
  return { mergedDir, merge: { replaced: done.result.replaced, copied: done.result.copied }, results };
}
