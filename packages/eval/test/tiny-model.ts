// A tiny DeepSeek-V2-shaped checkpoint (random weights, the worker's own fixture module) whose vocabulary is the
// trainer's tiny fixture tokenizer, with that tokenizer copied beside it; and an adapter of trained experts for it.
import { execFileSync } from "node:child_process";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { TRAINER_ROOT } from "@subnet-review/trainer";
import { evalDataDir, evalEnvSchema } from "../src/env.ts";

export const python = process.env.TRAINER_PYTHON ?? "/usr/bin/python3";
/** The data sets the tests read: EVAL_DATA_DIR / SHARED_DIR as the CLI resolves them, else ../shared/data. */
export const testDataDir = evalDataDir(evalEnvSchema.parse(process.env));
export const TINY_TOKENIZER_DIR = join(TRAINER_ROOT, "fixtures", "tiny-tokenizer");

export function runPython(code: string): string {
  return execFileSync(python, ["-c", code], { cwd: TRAINER_ROOT, encoding: "utf8" });
}

/** Writes the checkpoint into `dir`: vocabulary 514 = the tiny tokenizer's 512 + BOS 512 + EOS 513. */
export function writeTinyEvalModel(dir: string, seed = 1): void {
  runPython(`
from worker.fixture import TINY_CONFIG, write_random_checkpoint
raw = dict(TINY_CONFIG, vocab_size=514, bos_token_id=512, eos_token_id=513)
write_random_checkpoint(${JSON.stringify(dir)}, raw, seed=${seed})
`);
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(TINY_TOKENIZER_DIR, f), join(dir, f));
}

/** An adapter (the trainer's format) holding experts 0, 1 of layer 1 and 3 of layer 2, scaled by `scale`. */
export function writeTinyAdapter(modelDir: string, out: string, scale: number): void {
  runPython(`
import torch
from worker.checkpoint import save_adapter
from worker.config import load_config
from worker.model import Layout, build_model
from worker.safetensors_io import load_checkpoint
d = ${JSON.stringify(modelDir)}
cfg = load_config(d)
m = build_model(cfg, load_checkpoint(d), Layout({1: [0, 1], 2: [3]}, {}, restricted=False), torch.device("cpu"), torch.float32)
with torch.no_grad():
    for p in m.parameters():
        if p.requires_grad:
            p.mul_(${scale})
save_adapter(${JSON.stringify(out)}, m, {"step": "5", "cell": "C"})
`);
}
