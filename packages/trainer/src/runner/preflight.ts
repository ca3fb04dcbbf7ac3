// Everything that can be checked before the worker starts (and before any GPU work): files, the model's
// family and shapes, the expert selection against them. Each failure is an InputError naming the flag.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { InputError, parseModelConfig, type ModelConfig } from "@subnet-review/core";
import { checkSelection, parseTrainableExperts, type ExpertSelection } from "./selection.ts";
import type { RunSpec } from "./spec.ts";

export interface CheckedInputs {
  /** config.json as read */
  rawConfig: Record<string, unknown>;
  config: ModelConfig;
  selection: ExpertSelection;
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** config.json of a DeepSeek-V2-family checkpoint directory with its safetensors. */
export function readCheckpointConfig(dir: string, flag: string): { raw: Record<string, unknown>; config: ModelConfig } {
  if (!isDir(dir)) throw new InputError(flag, `${dir} is not a directory (a local Hugging Face checkpoint)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  } catch (err) {
    throw new InputError(flag, `${join(dir, "config.json")} ${err instanceof SyntaxError ? `is not valid JSON (${err.message})` : "cannot be read"}`);
  }
  let config: ModelConfig;
  try {
    config = parseModelConfig(raw);
  } catch (err) {
    throw new InputError(flag, `config.json: ${(err as Error).message}`);
  }
  if (config.modelType !== "deepseek_v2") {
    throw new InputError(
      flag,
      `config.json: model_type is ${JSON.stringify(config.modelType)}; the trainer runs the DeepSeek-V2 family (model_type "deepseek_v2")`,
    );
  }
  if (!readdirSync(dir).some((f) => f.endsWith(".safetensors"))) throw new InputError(flag, `${dir} holds no *.safetensors weights`);
  return { raw: raw as Record<string, unknown>, config };
}

export async function checkRunInputs(spec: RunSpec, python: string): Promise<CheckedInputs> {
  const { raw, config } = readCheckpointConfig(spec.model, "--model");
  const tokenizerFlag = spec.tokenizer === spec.model ? "--model" : "--tokenizer";
  if (!existsSync(join(spec.tokenizer, "tokenizer.json"))) {
    throw new InputError(
      tokenizerFlag,
      `${spec.tokenizer} has no tokenizer.json (the data is tokenized with the checkpoint's own tokenizer; --tokenizer DIR names another)`,
    );
  }
  if (!existsSync(spec.data) || !statSync(spec.data).isFile()) throw new InputError("--data", `${spec.data} is not a readable file (an SFT JSONL file)`);
  if (python.includes("/") && !existsSync(python))
    throw new InputError("--python", `${python} does not exist (the worker's Python with torch; default /usr/bin/python3)`);
  const selection = await parseTrainableExperts(spec.trainableExperts);
  checkSelection(selection, config, spec.cell, spec.kept);
  const experts = config.moe?.numExperts ?? 0;
  if (spec.topK !== null && spec.topK > experts) throw new InputError("--top-k", `${spec.topK} exceeds the model's ${experts} routed experts per layer`);
  return { rawConfig: raw, config, selection };
}
