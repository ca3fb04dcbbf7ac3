import { describe, expect, it } from "vitest";
import {
  InputError,
  countParameters,
  estimateMemory,
  estimateThroughput,
  modelSizeFigures,
  parseModelConfig,
  shardSizes,
  supportedModelTypes,
  trainingFlopsPerToken,
} from "../src/index.ts";
import { fixture } from "./fixtures.ts";

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error("expected an InputError");
}

const liteRaw = () => fixture("DeepSeek-V2-Lite");
const lite = countParameters(parseModelConfig(liteRaw()));

describe("bad configs", () => {
  it("unknown model_type lists the supported ones", () => {
    const e = inputError(() => parseModelConfig({ ...liteRaw(), model_type: "gpt2" }));
    expect(e.field).toBe("config.model_type");
    for (const t of supportedModelTypes) expect(e.message).toContain(t);
    expect(e.name).toBe("InputError");
  });
  it("missing or non-string model_type, non-object config", () => {
    const raw = liteRaw();
    delete raw.model_type;
    expect(inputError(() => parseModelConfig(raw)).field).toBe("config.model_type");
    expect(inputError(() => parseModelConfig(null)).field).toBe("config");
    expect(inputError(() => parseModelConfig("{}")).field).toBe("config");
    expect(inputError(() => parseModelConfig([])).field).toBe("config");
  });
  it("missing fields", () => {
    for (const name of ["n_routed_experts", "hidden_size", "moe_intermediate_size", "kv_lora_rank", "q_lora_rank", "vocab_size"]) {
      const raw = liteRaw();
      delete raw[name];
      const e = inputError(() => parseModelConfig(raw));
      expect(e.field).toBe(`config.${name}`);
      expect(e.detail).toMatch(/^required/);
    }
    const qwen = fixture("Qwen1.5-MoE-A2.7B");
    delete qwen.shared_expert_intermediate_size;
    expect(inputError(() => parseModelConfig(qwen)).field).toBe("config.shared_expert_intermediate_size");
    const mistral = fixture("Mistral-7B-v0.1");
    delete mistral.num_key_value_heads;
    expect(inputError(() => parseModelConfig(mistral)).field).toBe("config.num_key_value_heads");
  });
  it("dense layers need intermediate_size", () => {
    const raw = liteRaw();
    delete raw.intermediate_size; // layer 0 is dense
    expect(inputError(() => parseModelConfig(raw)).field).toBe("config.intermediate_size");
    raw.first_k_dense_replace = 0; // now every layer is MoE: not needed
    expect(countParameters(parseModelConfig(raw)).denseLayers).toBe(0);
  });
  it("negative, non-integer and wrongly typed counts", () => {
    const cases: [string, unknown][] = [
      ["num_hidden_layers", -1],
      ["n_routed_experts", 63.5],
      ["hidden_size", "2048"],
      ["n_shared_experts", -2],
      ["num_attention_heads", 0],
      ["tie_word_embeddings", "no"],
      ["first_k_dense_replace", 1.5],
    ];
    for (const [name, value] of cases) {
      const e = inputError(() => parseModelConfig({ ...liteRaw(), [name]: value }));
      expect(e.field).toBe(`config.${name}`);
      expect(e.detail).toMatch(/must be/);
    }
  });
  it("absurd sizes", () => {
    const e = inputError(() => parseModelConfig({ ...liteRaw(), hidden_size: 1e9 }));
    expect(e.field).toBe("config.hidden_size");
    expect(e.message).toContain("262,144");
    expect(inputError(() => parseModelConfig({ ...liteRaw(), vocab_size: 1e12 })).field).toBe("config.vocab_size");
    expect(inputError(() => parseModelConfig({ ...liteRaw(), num_hidden_layers: 1e6 })).field).toBe("config.num_hidden_layers");
    const huge = { ...liteRaw(), hidden_size: 262_144, moe_intermediate_size: 4_194_304, n_routed_experts: 65_536, num_hidden_layers: 4096 };
    const e2 = inputError(() => countParameters(parseModelConfig(huge)));
    expect(e2.field).toBe("config");
    expect(e2.message).toMatch(/10\^15/);
  });
  it("inconsistent fields", () => {
    expect(inputError(() => parseModelConfig({ ...liteRaw(), num_experts_per_tok: 65 })).field).toBe("config.num_experts_per_tok");
    expect(inputError(() => parseModelConfig({ ...fixture("Mixtral-8x7B-v0.1"), num_key_value_heads: 7 })).field).toBe("config.num_key_value_heads");
    expect(inputError(() => parseModelConfig({ ...fixture("Qwen3-30B-A3B"), mlp_only_layers: [48] })).field).toBe("config.mlp_only_layers");
    expect(inputError(() => parseModelConfig({ ...fixture("Qwen3-30B-A3B"), mlp_only_layers: [1.5] })).field).toBe("config.mlp_only_layers.0");
    expect(inputError(() => parseModelConfig({ ...liteRaw(), first_k_dense_replace: 28 })).field).toBe("config.first_k_dense_replace");
    expect(inputError(() => parseModelConfig({ ...fixture("Meta-Llama-3-8B"), hidden_size: 4095 })).field).toBe("config.num_attention_heads");
  });
});

describe("bad shard and memory options", () => {
  it("K + N above the experts per layer", () => {
    const e = inputError(() => shardSizes(lite, { trainable: 8, kept: 60 }));
    expect(e.field).toBe("kept");
    expect(e.message).toContain("at most 64");
    expect(inputError(() => shardSizes(lite, { trainable: 65, kept: 0 })).field).toBe("trainable");
  });
  it("negative, non-integer or missing K / N", () => {
    expect(inputError(() => shardSizes(lite, { trainable: -1, kept: 0 })).field).toBe("trainable");
    expect(inputError(() => shardSizes(lite, { trainable: 2.5, kept: 0 })).field).toBe("trainable");
    expect(inputError(() => shardSizes(lite, { trainable: 8, kept: Number.NaN })).field).toBe("kept");
    expect(inputError(() => shardSizes(lite, { kept: 0 } as never)).field).toBe("trainable");
    expect(inputError(() => modelSizeFigures(lite, { trainable: 8, kept: -16 })).field).toBe("kept");
  });
  it("dense models take K = N = 0 only", () => {
    const llama = countParameters(parseModelConfig(fixture("Meta-Llama-3-8B")));
    expect(inputError(() => shardSizes(llama, { trainable: 8, kept: 0 })).field).toBe("trainable");
    const m = estimateMemory(llama, { trainable: 0, kept: 0 });
    expect(m.full.statesGB).toBeCloseTo((8_030_261_248 * 8) / 1e9, 9);
    expect(m.A.trainable).toBe(0);
  });
  it("micro-batch 0, bad sequence lengths and byte counts, unknown GPUs", () => {
    const base = { trainable: 8, kept: 16 };
    expect(inputError(() => estimateMemory(lite, { ...base, microBatch: 0 })).field).toBe("microBatch");
    expect(inputError(() => estimateMemory(lite, { ...base, seqLen: 1.5 })).field).toBe("seqLen");
    expect(inputError(() => estimateMemory(lite, { ...base, seqLen: 1e9 })).field).toBe("seqLen");
    expect(inputError(() => estimateMemory(lite, { ...base, bytesPerWeight: 0 })).field).toBe("bytesPerWeight");
    expect(inputError(() => estimateMemory(lite, { ...base, bytesPerOptimizerState: -4 })).field).toBe("bytesPerOptimizerState");
    expect(inputError(() => estimateMemory(lite, { ...base, checkpointing: "yes" as never })).field).toBe("checkpointing");
    const g = inputError(() => estimateMemory(lite, { ...base, gpu: "tpu v5" }));
    expect(g.field).toBe("gpu");
    expect(g.message).toContain("H100 80GB");
    expect(inputError(() => estimateMemory(lite, { ...base, gpu: "A100" })).message).toMatch(/ambiguous/);
  });
});

describe("bad throughput and FLOP inputs", () => {
  const ok = { gpuTokensPerSecond: 7500, multiplier: 3, cycleBlocks: 524, windowHours: 365.2 };
  it("zero, negative, non-integer and missing values", () => {
    expect(inputError(() => estimateThroughput({ ...ok, gpuTokensPerSecond: 0 })).field).toBe("gpuTokensPerSecond");
    expect(inputError(() => estimateThroughput({ ...ok, multiplier: -3 })).field).toBe("multiplier");
    expect(inputError(() => estimateThroughput({ ...ok, cycleBlocks: 524.5 })).field).toBe("cycleBlocks");
    expect(inputError(() => estimateThroughput({ ...ok, windowHours: Number.POSITIVE_INFINITY })).field).toBe("windowHours");
    expect(inputError(() => estimateThroughput({ ...ok, blockSeconds: 0 })).field).toBe("blockSeconds");
    const { multiplier: _, ...missing } = ok;
    const e = inputError(() => estimateThroughput(missing as never));
    expect(e.field).toBe("multiplier");
    expect(e.detail).toMatch(/^required/);
    expect(inputError(() => estimateThroughput({ ...ok, gpuTokensPerSecond: "7500" as never })).field).toBe("gpuTokensPerSecond");
    expect(inputError(() => estimateThroughput({ ...ok, gpuTokensPerSecond: { value: 1 } as never })).field).toMatch(/^gpuTokensPerSecond\./);
  });
  it("unknown cell", () => {
    expect(inputError(() => trainingFlopsPerToken(lite, { cell: "D" as never, trainable: 8 })).field).toBe("cell");
    expect(inputError(() => trainingFlopsPerToken(lite, { cell: "B", trainable: 8, kept: 57 })).field).toBe("kept");
  });
});
