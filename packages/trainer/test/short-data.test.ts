import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEEPSEEK_V2_CHAT_TEMPLATE,
  TRAINER_ROOT,
  keepRowsWithTargets,
  loadTokenizer,
  packExamples,
  prepareSftData,
  readSftExamples,
  renderExample,
  runFlagsSchema,
  runSpecFromFlags,
  runTraining,
  seededShuffle,
  tokenizeExample,
} from "../src/index.ts";

// The shape that used to stop every cell at step 155 ("batch has no target token with loss mask 1"): 16 GSM8K
// rows, batch 2, seq 128, 400 steps. Long questions fill whole 128-token rows with prompt text; two such rows
// drawn together made a batch without loss.

const python = process.env.TRAINER_PYTHON ?? "/usr/bin/python3";
const tokenizerDir = join(TRAINER_ROOT, "fixtures/tiny-tokenizer");
const gsm8k = join(process.env.SHARED_DIR || fileURLToPath(new URL("../../../../shared", import.meta.url)), "data/gsm8k/train.jsonl");
const STEPS = 400;
const BATCH = 2;
const SEQ = 128;
const SEED = 0;
let dir = "";
let data = "";
let model = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "short-data-"));
  data = join(dir, "gsm8k-16.jsonl");
  writeFileSync(data, `${readFileSync(gsm8k, "utf8").split("\n").slice(0, 16).join("\n")}\n`);
  // the worker's own tiny DeepSeek-V2-shaped checkpoint (random weights), with the tiny tokenizer
  model = join(dir, "model");
  execFileSync(python, ["-m", "worker.fixture", model, "--shards", "1", "--vocab-size", "514"], { cwd: TRAINER_ROOT });
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(tokenizerDir, f), join(model, f));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The worker's own batch order (worker/data.py batch_indices) for steps 0..steps-1 over `rows` rows. */
function workerBatches(rows: number, steps: number): number[][] {
  const code = `import json; from worker.data import batch_indices; print(json.dumps([batch_indices(s, ${BATCH}, ${rows}, ${SEED}) for s in range(${steps})]))`;
  return JSON.parse(execFileSync(python, ["-c", code], { cwd: TRAINER_ROOT, encoding: "utf8" })) as number[][];
}

/** Targets per row of a packed mask (a row's first position is never a target). */
function targetsPerRow(mask: Uint8Array, seqLen: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < mask.length / seqLen; r++) out.push(mask.subarray(r * seqLen, (r + 1) * seqLen).reduce((a, b) => a + b, 0));
  return out;
}

describe("16 GSM8K rows, batch 2, seq 128, 400 steps", () => {
  it("packed as before, a batch of prompt-only rows comes up at step 156; prepared now, none in 400 steps", async () => {
    const tokenizer = await loadTokenizer(tokenizerDir);
    const file = await readSftExamples(data);
    const tokenized = seededShuffle(file.examples, SEED).map((e) => tokenizeExample(tokenizer, renderExample(e.messages, DEEPSEEK_V2_CHAT_TEMPLATE)));
    const raw = packExamples(tokenized, { seqLen: SEQ, padId: tokenizer.eosId! });
    const rawTargets = targetsPerRow(raw.lossMask, SEQ);
    const emptyBefore = workerBatches(raw.sequences, STEPS).flatMap((b, s) => (b.every((r) => rawTargets[r] === 0) ? [s + 1] : []));
    expect(emptyBefore[0]).toBe(156); // the old failure: 155 steps done, the 156th has no target

    const manifest = await prepareSftData({ dataPath: data, tokenizerDir, seqLen: SEQ, outDir: join(dir, "packed"), seed: SEED });
    expect(manifest.droppedRows).toBe(rawTargets.filter((t) => t === 0).length);
    expect(manifest.droppedRows).toBeGreaterThan(0);
    expect(manifest.sequences).toBe(raw.sequences - manifest.droppedRows);
    expect(manifest.targetTokens).toBe(raw.targetTokens);
    const mask = new Uint8Array(readFileSync(join(dir, "packed", "loss_mask.u8")));
    const targets = targetsPerRow(mask, SEQ);
    expect(targets.every((t) => t > 0)).toBe(true);
    // Every step of every epoch (400 steps × 2 rows = 800 rows, about 23 epochs of 35) has targets.
    const batches = workerBatches(manifest.sequences, STEPS);
    expect(batches).toHaveLength(STEPS);
    expect(batches.filter((b) => b.every((r) => targets[r] === 0))).toEqual([]);
  });

  it("keepRowsWithTargets drops prompt-only rows, keeps the rest in order, and drops padding with the last row", () => {
    const packed = packExamples(
      [
        { ids: [1, 2, 3, 4, 5], targets: Uint8Array.from([0, 0, 0, 0, 0]) }, // a prompt that fills row 0 and opens row 1
        { ids: [6, 7, 8], targets: Uint8Array.from([0, 1, 1]) },
        { ids: [9], targets: Uint8Array.from([0]) },
      ],
      { seqLen: 4, padId: 0 },
    );
    expect([...packed.lossMask]).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0]);
    const kept = keepRowsWithTargets(packed);
    expect(kept).toMatchObject({ sequences: 1, droppedRows: 2, paddingTokens: 0, targetTokens: 2 });
    expect([...kept.inputIds]).toEqual([5, 6, 7, 8]);
    expect([...kept.lossMask]).toEqual([0, 0, 1, 1]);
  });

  it("refuses up front, naming --batch, --data and --seq, when fewer sequences with a target remain than one batch", async () => {
    const one = join(dir, "gsm8k-1.jsonl");
    writeFileSync(one, `${readFileSync(data, "utf8").split("\n")[0]}\n`);
    const flags = runFlagsSchema.parse({ model, data: one, cell: "A", "trainable-experts": "top-k:2", steps: "400", batch: "4", seq: "128", device: "cpu" });
    const err = await runTraining(
      runSpecFromFlags(flags, (p) => p),
      { outDir: join(dir, "runs-refused"), python },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ field: "--batch" });
    expect((err as Error).message).toMatch(
      /4 sequences per step, but the data packs into only [1-3] sequences of 128 tokens \(--seq\) with a target from --data/,
    );
  });

  it("trains cell A on the CPU past step 155 without an empty batch", { timeout: 180_000 }, async () => {
    const flags = runFlagsSchema.parse({
      model,
      data,
      cell: "A",
      "trainable-experts": "top-k:2",
      steps: "160",
      batch: String(BATCH),
      seq: String(SEQ),
      device: "cpu",
      lr: "3e-3",
      "score-tokens": "512",
      seed: String(SEED),
    });
    let notes = "";
    const stderr = new Writable({ write: (c: Buffer, _e, cb) => ((notes += c.toString()), cb()) });
    const result = await runTraining(
      runSpecFromFlags(flags, (p) => p),
      { outDir: join(dir, "runs"), python, stderr },
    );
    expect(result.error).toBeNull();
    expect(result.status).toBe("completed");
    expect(result.steps.map((s) => s.step).at(-1)).toBe(160);
    expect(notes).toMatch(/data: 35 sequences of 128 tokens; 2 holding only prompt text \(no target\) dropped/);
  });
});
