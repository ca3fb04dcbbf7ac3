// `pnpm review merge`: a trained adapter merged into its base checkpoint (the worker writes it atomically).
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { InputError } from "@subnet-review/core";
import { launchWorker } from "../worker/launch.ts";
import { readCheckpointConfig } from "./preflight.ts";

export interface MergeResult {
  outputDir: string;
  replaced: number;
  copied: number;
  files: number;
}

export async function mergeAdapter(opts: { base: string; adapter: string; out: string; python?: string }): Promise<MergeResult> {
  const base = resolve(opts.base);
  const adapter = resolve(opts.adapter);
  const out = resolve(opts.out);
  readCheckpointConfig(base, "--base");
  if (!existsSync(join(adapter, "complete")) || !existsSync(join(adapter, "trained_experts.safetensors"))) {
    throw new InputError(
      "--adapter",
      `${adapter} is not a complete adapter (trained_experts.safetensors, expert_cfg.json and the "complete" marker a finished run writes in runs/<ID>/adapter)`,
    );
  }
  if (out === base) throw new InputError("--out", "must differ from --base (the base is read while the merge is written)");
  if (existsSync(out) && readdirSync(out).length) throw new InputError("--out", `${out} exists and is not empty`);
  const outcome = await launchWorker({ command: "merge", base_dir: base, adapter_dir: adapter, output_dir: out }, opts.python ? { python: opts.python } : {})
    .result;
  if (outcome.done.command !== "merge") throw new Error(`worker answered ${outcome.done.command} to merge`);
  const r = outcome.done.result;
  return { outputDir: r.output_dir, replaced: r.replaced, copied: r.copied, files: r.files };
}
