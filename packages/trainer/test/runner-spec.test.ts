import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countParameters, formatDuration, parseModelConfig, trainingFlopsPerToken } from "@subnet-review/core";
import { describe, expect, it } from "vitest";
import { gpuPeakFlops } from "../src/runner/gpu-peak.ts";
import { checkSelection, parseTrainableExperts } from "../src/runner/selection.ts";
import { runFlagsSchema, runSpecFromFlags } from "../src/runner/spec.ts";
import { summarizeSteps } from "../src/runner/summary.ts";
import type { StepMessage } from "../src/worker/messages.ts";

const liteRaw: unknown = JSON.parse(readFileSync(new URL("../../db/seed/deepseek-v2-lite.config.json", import.meta.url), "utf8"));
const lite = parseModelConfig(liteRaw);

describe("--trainable-experts", () => {
  it("reads the three selection forms", async () => {
    await expect(parseTrainableExperts("top-k:8")).resolves.toEqual({ method: "top_k", k: 8, score: "token" });
    await expect(parseTrainableExperts("top-k:8:gate")).resolves.toEqual({ method: "top_k", k: 8, score: "gate" });
    await expect(parseTrainableExperts("esft-gate:0.1")).resolves.toEqual({ method: "esft_gate", top_p: 0.1 });
    await expect(parseTrainableExperts("esft-token:0.2")).resolves.toEqual({ method: "esft_token", top_p: 0.2 });
    const dir = mkdtempSync(join(tmpdir(), "sel-"));
    writeFileSync(join(dir, "cfg.json"), JSON.stringify({ experts: { "1": [0, 5], "2": [63] } }));
    await expect(parseTrainableExperts(join(dir, "cfg.json"))).resolves.toEqual({ method: "explicit", experts: { "1": [0, 5], "2": [63] } });
  });

  it("names the flag and what is allowed for bad selections", async () => {
    await expect(parseTrainableExperts("top-k:0")).rejects.toThrow(/^--trainable-experts: top-k needs K >= 1/);
    await expect(parseTrainableExperts("esft-gate:1.5")).rejects.toThrow(/^--trainable-experts: ESFT top_p must be a number in \(0, 1\]/);
    await expect(parseTrainableExperts("random:3")).rejects.toThrow(/^--trainable-experts: unknown selection "random:3"/);
    await expect(parseTrainableExperts("/nope/cfg.json")).rejects.toThrow(/cannot be read \(ENOENT\)/);
    const dir = mkdtempSync(join(tmpdir(), "sel-"));
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ experts: { layer1: [0] } }));
    await expect(parseTrainableExperts(join(dir, "bad.json"))).rejects.toThrow(/--trainable-experts: .*experts/);
  });

  it("checks K + N, layers and ids against the model before anything runs", () => {
    expect(() => checkSelection({ method: "top_k", k: 8, score: "token" }, lite, "B", 56)).not.toThrow();
    expect(() => checkSelection({ method: "top_k", k: 8, score: "token" }, lite, "B", 57)).toThrow(/K 8 \+ --kept 57 exceeds the model's 64 routed experts/);
    expect(() => checkSelection({ method: "explicit", experts: { "0": [1] } }, lite, "C", 0)).toThrow(/layer 0 is not a MoE layer.*1\.\.26/);
    expect(() => checkSelection({ method: "explicit", experts: { "1": [64] } }, lite, "C", 0)).toThrow(/expert id 64 is out of range 0\.\.63/);
    expect(() => checkSelection({ method: "explicit", experts: { "1": [3] } }, lite, "A", 0)).toThrow(/no expert listed for MoE layer\(s\) 2, 3/);
  });
});

describe("run flags", () => {
  it("validates with zod, naming the flag, and resolves device defaults", () => {
    const ok = runFlagsSchema.parse({ model: "m", data: "d.jsonl", cell: "A", "trainable-experts": "top-k:8", steps: "500", device: "cpu" });
    const spec = runSpecFromFlags(ok, (p) => `/abs/${p}`);
    expect(spec).toMatchObject({
      model: "/abs/m",
      tokenizer: "/abs/m",
      steps: 500,
      batch: 4,
      seq: 2048,
      dtype: "fp32",
      optimizerStateDtype: "fp32",
      activationCheckpointing: true,
      lr: 1e-5,
    });
    expect(runSpecFromFlags(runFlagsSchema.parse({ ...ok, device: "cuda" }), (p) => p).dtype).toBe("bf16");
    const issue = (v: object) => runFlagsSchema.safeParse({ ...ok, ...v }).error?.issues[0];
    expect(issue({ steps: "0" })).toMatchObject({ path: ["steps"], message: "must be at least 1 (optimizer steps)" });
    expect(issue({ steps: "ten" })).toMatchObject({ path: ["steps"], message: "must be a number" });
    expect(issue({ cell: "B" })).toMatchObject({ path: ["kept"] });
    expect(issue({ api: "http://127.0.0.1:4000" })).toMatchObject({ path: ["token"] });
  });
});

describe("summary and progress", () => {
  const step = (n: number, t: number, peak: number | null): StepMessage => ({
    type: "step",
    step: n,
    loss: 1,
    grad_norm: 1,
    lr: 1e-5,
    tokens: 8192,
    target_tokens: 4000,
    tokens_per_s: 8192 / t,
    step_time_s: t,
    gpu_mem_allocated_bytes: peak,
    gpu_mem_peak_bytes: peak,
  });

  it("measures tokens/s after the first step and MFU from core's FLOPs and the GPU's peak", () => {
    const steps = [step(1, 2.0, 30e9), step(2, 0.5, 25e9), step(3, 0.5, 26e9)];
    const ctx = {
      cell: "A" as const,
      trainable: 8,
      kept: 0,
      seq: 2048,
      dtype: "bf16" as const,
      device: "cuda" as const,
      deviceName: "NVIDIA H100 80GB HBM3",
      peakTflops: null,
      modelConfig: liteRaw,
    };
    const s = summarizeSteps(steps, ctx);
    expect(s.tokensPerSecond).toBe(16384);
    expect(s.peakMemoryBytes).toBe(30e9);
    // core's 13.4 GFLOP per token of cell A × 16,384 tokens/s / 989 TFLOP/s (H100 SXM dense bf16)
    const flops = trainingFlopsPerToken(countParameters(lite), { cell: "A", trainable: 8, kept: 0, seqLen: 2048 }).modelFlops;
    expect(flops / 1e9).toBeCloseTo(13.4, 1);
    expect(s.mfu).toBeCloseTo((flops * 16384) / 989e12, 12);
    expect(summarizeSteps(steps, { ...ctx, device: "cpu" }).mfu).toBeNull();
    expect(summarizeSteps(steps, { ...ctx, deviceName: "Some GPU" }).mfu).toBeNull();
    expect(summarizeSteps(steps, { ...ctx, deviceName: "Some GPU", peakTflops: 500 }).mfu).toBeCloseTo((flops * 16384) / 500e12, 12);
  });

  it("knows the datasheet peaks it claims", () => {
    expect(gpuPeakFlops("NVIDIA H100 80GB HBM3", null)?.flops).toBe(989e12);
    expect(gpuPeakFlops("NVIDIA H100 PCIe", null)?.flops).toBe(756e12);
    expect(gpuPeakFlops("NVIDIA H200", null)?.flops).toBe(989e12);
    expect(gpuPeakFlops("cpu", null)).toBeNull();
    expect(formatDuration(3725)).toBe("1h02m");
    expect(formatDuration(75)).toBe("1m15s");
  });
});
