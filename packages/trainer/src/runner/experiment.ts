// An experiment: cells A, B and C on the same data, the same expert assignment and the same seed. The data is
// prepared once and the selection resolved once (the worker's `select` command), then passed explicitly to
// every cell, so the cells differ only in their training-time forward pass.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { InputError, trainedCells } from "@subnet-review/core";
import { DEFAULT_PYTHON } from "../env.ts";
import { launchWorker } from "../worker/launch.ts";
import type { SelectSpecInput } from "../worker/messages.ts";
import { checkRunInputs } from "./preflight.ts";
import type { ExperimentRef } from "./records.ts";
import { prepareRunData, runTraining, type RunContext, type RunResult } from "./runner.ts";
import { checkSelection, type ExpertSelection } from "./selection.ts";
import type { RunSpec } from "./spec.ts";

export interface ExperimentOptions extends Omit<RunContext, "id" | "selection" | "prepared" | "experiment"> {
  name: string;
  description?: string;
}

export interface ExperimentResult {
  dir: string;
  experiment: ExperimentRef;
  /** the explicit assignment every cell trained */
  selection: Extract<ExpertSelection, { method: "explicit" }>;
  runs: RunResult[];
}

/** The selection as the description names it: the subnet group's directory, a file's name, or the flag's text. */
function selectionName(text: string): string {
  if (text.startsWith("subnet:")) return `the subnet's ${basename(dirname(text.slice("subnet:".length)))} shard`;
  return text.includes("/") ? basename(text) : text;
}

export function describeExperiment(spec: RunSpec, K: number): string {
  return (
    `Cells A, B (N=${spec.kept} kept) and C fine-tune the same K=${K} routed experts per layer (${selectionName(spec.trainableExperts)}) ` +
    `of ${basename(spec.model)} on ${basename(spec.data)}: ${spec.steps} steps × ${spec.batch} × ${spec.seq} tokens, seed ${spec.seed}, same data order; ` +
    `A and B route ${spec.routingMode === "subnet" ? "as the subnet's miners do" : "renormalized over their resident experts"}, top-${spec.topK ?? "k of the model"}; ` +
    `only the training-time forward pass differs.`
  );
}

/** Runs A, B and C one after another; a failed cell is recorded and the next still runs. */
export async function runExperiment(base: RunSpec, opts: ExperimentOptions): Promise<ExperimentResult> {
  if (!/^[a-z0-9][a-z0-9._-]{0,99}$/.test(opts.name))
    throw new InputError("--name", "lowercase letters, digits, '.', '_' and '-', at most 100, starting with a letter or digit");
  if (base.kept < 1) throw new InputError("--kept", "an experiment runs cell B, which needs --kept N >= 1 frozen resident experts per layer");
  const python = opts.python ?? DEFAULT_PYTHON;
  const checked = await checkRunInputs({ ...base, cell: "B" }, python);
  checkSelection(checked.selection, checked.config, "A", 0); // cell A routes only to the listed experts: every MoE layer needs some
  const dir = resolve(opts.outDir, `experiment-${opts.name}-${new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15)}`);
  if (existsSync(dir)) throw new InputError("--out", `${dir} exists`);
  mkdirSync(dir, { recursive: true });
  const prepared = await prepareRunData(base, join(dir, "data"));
  const stderr = opts.stderr ?? process.stderr;

  let selection: Extract<ExpertSelection, { method: "explicit" }>;
  if (checked.selection.method === "explicit") {
    selection = checked.selection;
  } else {
    stderr.write(
      `[experiment ${opts.name}] resolving ${base.trainableExperts} once for all cells (ESFT scores over ${base.scoreTokens.toLocaleString("en-US")} tokens)\n`,
    );
    const spec: SelectSpecInput = {
      command: "select",
      model_dir: base.model,
      data: prepared.dir,
      experts: checked.selection,
      batch_size: base.batch,
      score_tokens: base.scoreTokens,
      dtype: base.dtype,
      device: base.device,
      seed: base.seed,
    };
    const outcome = await launchWorker(spec, { python }).result;
    if (outcome.done.command !== "select") throw new Error(`worker answered ${outcome.done.command} to select`);
    selection = { method: "explicit", experts: outcome.done.result.experts };
  }
  // ESFT's expert-config format, so the assignment can be reused with --trainable-experts PATH
  writeFileSync(join(dir, "expert_cfg.json"), `${JSON.stringify({ experts: selection.experts }, null, 2)}\n`);
  const counts = Object.values(selection.experts).map((ids) => ids.length);
  const K = Math.round(counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length));
  const experiment: ExperimentRef = { name: opts.name, description: opts.description ?? describeExperiment(base, K) };

  const runs: RunResult[] = [];
  for (const cell of trainedCells) {
    if (opts.signal?.aborted) break;
    runs.push(await runTraining({ ...base, cell }, { ...opts, python, outDir: dir, selection, prepared, experiment }));
  }
  return { dir, experiment, selection, runs };
}
