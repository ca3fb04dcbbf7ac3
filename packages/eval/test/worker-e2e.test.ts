import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WorkerEvalBackend, createWorkerBackend, evaluateMergedCheckpoint, loglikelihoodRequest, readSampleLog, runEval } from "../src/index.ts";
import { python, runPython, writeTinyAdapter, writeTinyEvalModel } from "./tiny-model.ts";

const ARC = [
  {
    id: "a1",
    question: {
      stem: "Which is heavier?",
      choices: [
        { text: "rock", label: "A" },
        { text: "a feather", label: "B" },
      ],
    },
    answerKey: "A",
  },
  {
    id: "a2",
    question: {
      stem: "What melts ice?",
      choices: [
        { text: "heat", label: "1" },
        { text: "cold", label: "2" },
        { text: "dark", label: "3" },
      ],
    },
    answerKey: "1",
  },
  {
    id: "a3",
    question: {
      stem: "Is the sun a star?",
      choices: [
        { text: "yes", label: "A" },
        { text: "no", label: "B" },
      ],
    },
    answerKey: "A",
  },
];
const GSM = [
  { question: "Tom has 3 apples and buys 2 more. How many apples does he have?", answer: "3 + 2 = <<3+2=5>>5\n#### 5" },
  { question: "A box holds 4 pens. How many pens are in 2 boxes?", answer: "2 * 4 = <<2*4=8>>8\n#### 8" },
  { question: "Sam had 10 cards and gave away 4. How many are left?", answer: "10 - 4 = <<10-4=6>>6\n#### 6" },
];

let work = "";
let modelDir = "";
let dataDir = "";
let backend: WorkerEvalBackend;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "eval-worker-"));
  modelDir = join(work, "tiny-model");
  writeTinyEvalModel(modelDir);
  dataDir = join(work, "data");
  mkdirSync(join(dataDir, "arc"), { recursive: true });
  mkdirSync(join(dataDir, "gsm8k"), { recursive: true });
  writeFileSync(join(dataDir, "arc", "ARC-Challenge-Test.jsonl"), ARC.map((l) => JSON.stringify(l)).join("\n") + "\n");
  writeFileSync(join(dataDir, "gsm8k", "test.jsonl"), GSM.map((l) => JSON.stringify(l)).join("\n") + "\n");
  backend = await createWorkerBackend({ modelDir, device: "cpu", batchSize: 4, python });
}, 120_000);
afterAll(async () => {
  await backend?.close();
});

/** log P(continuation tokens) by model.py's own full forward over the same ids, in a separate Python process. */
function referenceLoglikelihood(tokens: number[], continuation: number): number {
  const out = runPython(`
import torch
from worker.config import load_config
from worker.model import Layout, build_model
from worker.safetensors_io import load_checkpoint
d = ${JSON.stringify(modelDir)}
cfg = load_config(d)
m = build_model(cfg, load_checkpoint(d), Layout.all_frozen(cfg), torch.device("cpu"), torch.float32)
ids = ${JSON.stringify(tokens)}
with torch.no_grad():
    lp = torch.log_softmax(m.logits(torch.tensor([ids]))[0], dim=-1)
print(sum(float(lp[i - 1, ids[i]]) for i in range(len(ids) - ${continuation}, len(ids))))
`);
  return Number(out.trim());
}

describe("PyTorch worker backend (tiny model, CPU)", () => {
  it("reports the model it loaded, with the latent KV cache", () => {
    expect(backend.model).toMatchObject({ vocab_size: 514, device: "cpu", dtype: "fp32", kv_cache: "mla_latent", experts_impl: "segments" });
    expect(backend.label).toBe("tiny-model");
  });

  it("scores a continuation as model.py's full forward does, on the joint encoding", async () => {
    const req = loglikelihoodRequest("Question: Which is heavier?\nAnswer:", "rock");
    const [res] = await backend.loglikelihood([req]);
    const ctx = backend.tokenizer.encode(req.context);
    const whole = backend.tokenizer.encode(req.context + req.continuation);
    expect(whole[0]).toBe(512); // BOS, as the tokenizer config asks
    expect(res!.logprob).toBeCloseTo(referenceLoglikelihood(whole, whole.length - ctx.length), 4);
  }, 60_000);

  it("runs arc_challenge end to end and resumes from its samples file", async () => {
    const samplesPath = join(work, "arc.jsonl");
    const first = await runEval({ task: "arc_challenge", backend, samplesPath, dataDir, limit: 2 });
    expect(first.n).toBe(2);
    const second = await runEval({ task: "arc_challenge", backend, samplesPath, dataDir });
    expect(second.resumed).toBe(2);
    expect(second.n).toBe(3);
    const samples = await readSampleLog(samplesPath);
    expect(samples).toHaveLength(3);
    for (const s of samples) {
      if (s.kind !== "choice") throw new Error("expected choice samples");
      expect(s.loglikelihoods).toHaveLength(s.choices.length);
      const acc = s.loglikelihoods.indexOf(Math.max(...s.loglikelihoods)) === s.gold;
      expect(s.correct.acc).toBe(acc);
    }
    expect(second.metrics.acc!.value).toBeCloseTo(samples.filter((s) => s.correct.acc).length / 3, 10);
  }, 120_000);

  it("generates gsm8k_cot answers (greedy, 256 new tokens at most) and scores them", async () => {
    const samplesPath = join(work, "gsm.jsonl");
    const progress: number[] = [];
    const res = await runEval({ task: "gsm8k_cot", backend, samplesPath, dataDir, limit: 2, onProgress: (p) => progress.push(p.done) });
    expect(res.n).toBe(2);
    expect(progress.at(-1)).toBe(2);
    const samples = await readSampleLog(samplesPath);
    for (const s of samples) {
      if (s.kind !== "generate") throw new Error("expected generation samples");
      expect(s.output.includes("Q:")).toBe(false);
      expect(s.prompt.endsWith(`Q: ${GSM[s.docIndex]!.question}\nA:`)).toBe(true);
    }
  }, 300_000);

  it("generates what greedy decoding by model.py's full forward gives, token for token", async () => {
    const context = "Q: What is 2 + 2?\nA:";
    const [text] = await backend.generate([{ context, stop: [], maxTokens: 12 }]);
    const ids = backend.tokenizer.encode(context);
    const ref = runPython(`
import torch
from worker.config import load_config
from worker.model import Layout, build_model
from worker.safetensors_io import load_checkpoint
d = ${JSON.stringify(modelDir)}
cfg = load_config(d)
m = build_model(cfg, load_checkpoint(d), Layout.all_frozen(cfg), torch.device("cpu"), torch.float32)
seq = ${JSON.stringify(ids)}
with torch.no_grad():
    for _ in range(12):
        nxt = int(m.logits(torch.tensor([seq]))[0, -1].argmax())
        if nxt == 513:
            break
        seq.append(nxt)
print(seq[${ids.length}:])
`);
    const tokens = JSON.parse(ref.trim()) as number[];
    expect(text).toBe(backend.tokenizer.decode(tokens, { skipSpecialTokens: true }));
  }, 60_000);

  it("names the field of a bad option and the file of a missing checkpoint", async () => {
    await expect(createWorkerBackend({ modelDir: "", device: "cpu" })).rejects.toThrow(/modelDir/);
    await expect(createWorkerBackend({ modelDir, device: "tpu" as "cpu" })).rejects.toThrow(/device must be 'cpu' or 'cuda'/);
    const empty = join(work, "no-model");
    mkdirSync(empty);
    writeFileSync(join(empty, "tokenizer.json"), "{}");
    await expect(createWorkerBackend({ modelDir: empty, tokenizerDir: modelDir, device: "cpu" })).rejects.toThrow(/config\.json not found/);
  }, 60_000);
});

describe("evaluateMergedCheckpoint", () => {
  it("merges an adapter into the base and evaluates the merged model with natural routing", async () => {
    const adapterDir = join(work, "adapter");
    writeTinyAdapter(modelDir, adapterDir, 3);
    const out = await evaluateMergedCheckpoint({
      baseModelDir: modelDir,
      adapterDir,
      workDir: join(work, "merged-eval"),
      tasks: ["arc_challenge"],
      dataDir,
      label: "run-x@step-5",
      device: "cpu",
      limit: 3,
      python,
    });
    expect(out.merge.replaced).toBe(9); // 3 experts x gate/up/down
    const [arc] = out.results;
    expect(arc!.model).toBe("run-x@step-5");
    const base = await readSampleLog(join(work, "arc.jsonl"));
    const merged = await readSampleLog(join(work, "merged-eval", "samples", "arc_challenge.jsonl"));
    // scaled experts change the model: the merged loglikelihoods differ from the base's
    const lls = (xs: typeof base) => xs.flatMap((s) => (s.kind === "choice" ? s.loglikelihoods : []));
    expect(lls(merged)).toHaveLength(lls(base).length);
    expect(lls(merged)).not.toEqual(lls(base));
  }, 180_000);
});
