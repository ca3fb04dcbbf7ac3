import * as z from "zod";
import { InputError, describeValue, parseOrThrow } from "./errors.ts";
import { boolField, intField } from "./validate.ts";
import { groupedNumber } from "./digits.ts";

/** model_type values of Hugging Face config.json that core can count. */
export const supportedModelTypes = ["deepseek_v2", "deepseek_v3", "qwen2_moe", "qwen3_moe", "mixtral", "olmoe", "llama", "mistral", "qwen2", "qwen3"] as const;
export type SupportedModelType = (typeof supportedModelTypes)[number];

export type ModelFamily = "deepseek" | "qwen2_moe" | "qwen3_moe" | "mixtral" | "olmoe" | "dense";

/** Upper bounds that reject absurd sizes (real models sit far below every one of them). */
export const configLimits = {
  vocab: 16_777_216,
  hidden: 262_144,
  intermediate: 4_194_304,
  layers: 4_096,
  heads: 65_536,
  headDim: 65_536,
  experts: 65_536,
  loraRank: 262_144,
  sharedExperts: 1_024,
  mtpLayers: 64,
} as const;

export type ConfigValue = number | boolean | null | number[];

export interface ConfigField {
  value: ConfigValue;
  /** true when config.json lacked the field and transformers' config-class default was used. */
  defaulted: boolean;
}

export interface AttentionShape {
  /** "mla": DeepSeek multi-head latent attention; "gqa": q/k/v/o projections (MHA when kv heads = heads). */
  kind: "mla" | "gqa";
  numHeads: number;
  numKvHeads: number;
  /** Width of one query/key head (MLA: qk_nope_head_dim + qk_rope_head_dim). */
  qkHeadDim: number;
  /** Width of one value head. */
  vHeadDim: number;
  /** MLA only: q_lora_rank (null = plain q_proj), kv_lora_rank, qk_nope/qk_rope head dims. */
  qLoraRank: number | null;
  kvLoraRank: number | null;
  qkNopeHeadDim: number | null;
  qkRopeHeadDim: number | null;
  /** Bias on q/k/v projections (MLA: on q_a_proj and kv_a_proj_with_mqa). */
  qkvBias: boolean;
  /** Bias on o_proj. */
  oBias: boolean;
  /** Q/K RMSNorm: none, per head (Qwen3: [head_dim]), or over the full projection width (OLMoE). */
  qkNorm: "none" | "per_head" | "full";
}

export interface MoeShape {
  numExperts: number;
  topK: number;
  /** Width of one routed expert (moe_intermediate_size; Mixtral/OLMoE: intermediate_size). */
  expertIntermediate: number;
  /** Shared experts per MoE layer as the config counts them (DeepSeek n_shared_experts; Qwen2-MoE: 1). */
  sharedCount: number;
  /** Total width of the shared-expert MLP (DeepSeek: n_shared × moe_intermediate_size). */
  sharedIntermediate: number;
  /** Qwen2-MoE: sigmoid gate on the shared expert, weight [1, hidden]. */
  sharedExpertGate: boolean;
  /** DeepSeek-V3: e_score_correction_bias [n_routed_experts] on the router. */
  scoreCorrectionBias: boolean;
}

/** A config.json normalized into the shapes that determine parameter counts. Plain data (JSON-safe). */
export interface ModelConfig {
  modelType: SupportedModelType;
  family: ModelFamily;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  tieWordEmbeddings: boolean;
  attention: AttentionShape;
  /** Width of the dense MLP (null when no layer is dense). */
  denseIntermediate: number | null;
  mlpBias: boolean;
  moe: MoeShape | null;
  /** Indices of decoder layers whose MLP is a MoE block. */
  moeLayerIndices: number[];
  /** DeepSeek-V3 multi-token-prediction layers present in the checkpoint but not in the model (not counted). */
  mtpLayers: number;
  /** The config.json fields read (and defaults applied), for provenance figures. */
  fields: Record<string, ConfigField>;
}

const L = configLimits;
const vocab = () => intField(1, L.vocab, "vocabulary size");
const hidden = () => intField(1, L.hidden, "model width");
const inter = (what: string) => intField(1, L.intermediate, what);
const layers = () => intField(1, L.layers, "decoder layers");
const heads = () => intField(1, L.heads, "attention heads");
const headDim = () => intField(1, L.headDim, "width of one head");
const experts = () => intField(1, L.experts, "routed experts per MoE layer");
const topk = () => intField(1, L.experts, "experts chosen per token");
const flag = () => boolField().optional();
const layerList = () =>
  z.array(intField(0, L.layers - 1, "a decoder layer index"), {
    error: (iss: { input?: unknown }) => `must be an array of layer indices; got ${describeValue(iss.input)}`,
  });

const deepseekSchema = z.looseObject({
  vocab_size: vocab(),
  hidden_size: hidden(),
  intermediate_size: inter("dense MLP width").optional(),
  moe_intermediate_size: inter("width of one routed expert"),
  num_hidden_layers: layers(),
  num_attention_heads: heads(),
  n_routed_experts: experts(),
  n_shared_experts: intField(0, L.sharedExperts, "shared experts per MoE layer").nullish(),
  num_experts_per_tok: topk(),
  first_k_dense_replace: intField(0, L.layers, "leading dense layers").optional(),
  moe_layer_freq: intField(1, L.layers, "a MoE layer every this many layers").optional(),
  kv_lora_rank: intField(1, L.loraRank, "compressed KV width"),
  q_lora_rank: intField(1, L.loraRank, "compressed query width, or null when queries are not compressed").nullable(),
  qk_nope_head_dim: headDim(),
  qk_rope_head_dim: headDim(),
  v_head_dim: headDim(),
  attention_bias: flag(),
  tie_word_embeddings: flag(),
  num_nextn_predict_layers: intField(0, L.mtpLayers, "multi-token-prediction layers").nullish(),
});

const qwenMoeSchema = z.looseObject({
  vocab_size: vocab(),
  hidden_size: hidden(),
  intermediate_size: inter("dense MLP width").optional(),
  moe_intermediate_size: inter("width of one routed expert"),
  num_hidden_layers: layers(),
  num_attention_heads: heads(),
  num_key_value_heads: heads().nullish(),
  head_dim: headDim().nullish(),
  num_experts: experts(),
  num_experts_per_tok: topk(),
  decoder_sparse_step: intField(1, L.layers, "a MoE layer every this many layers").optional(),
  mlp_only_layers: layerList().optional(),
  tie_word_embeddings: flag(),
  // qwen2_moe
  shared_expert_intermediate_size: intField(0, L.intermediate, "shared expert width, 0 for none").optional(),
  qkv_bias: flag(),
  // qwen3_moe
  attention_bias: flag(),
});

const mixtralSchema = z.looseObject({
  vocab_size: vocab(),
  hidden_size: hidden(),
  intermediate_size: inter("width of one expert"),
  num_hidden_layers: layers(),
  num_attention_heads: heads(),
  num_key_value_heads: heads(),
  head_dim: headDim().nullish(),
  num_local_experts: experts(),
  num_experts_per_tok: topk(),
  tie_word_embeddings: flag(),
});

const olmoeSchema = z.looseObject({
  vocab_size: vocab(),
  hidden_size: hidden(),
  intermediate_size: inter("width of one expert"),
  num_hidden_layers: layers(),
  num_attention_heads: heads(),
  num_key_value_heads: heads().nullish(),
  num_experts: experts(),
  num_experts_per_tok: topk(),
  attention_bias: flag(),
  tie_word_embeddings: flag(),
});

const denseSchema = z.looseObject({
  vocab_size: vocab(),
  hidden_size: hidden(),
  intermediate_size: inter("MLP width"),
  num_hidden_layers: layers(),
  num_attention_heads: heads(),
  num_key_value_heads: heads().nullish(),
  head_dim: headDim().nullish(),
  attention_bias: flag(),
  mlp_bias: flag(),
  tie_word_embeddings: flag(),
});

class FieldLog {
  readonly fields: Record<string, ConfigField> = {};
  take<T extends ConfigValue>(name: string, value: T | null | undefined, fallback?: T): T {
    if (value === undefined || (value === null && fallback !== undefined)) {
      if (fallback === undefined) throw new InputError(`config.${name}`, "required");
      this.fields[name] = { value: fallback, defaulted: true };
      return fallback;
    }
    this.fields[name] = { value: value as T, defaulted: false };
    return value as T;
  }
}

function checkTopK(topK: number, numExperts: number, expertsField: string) {
  if (topK > numExperts) throw new InputError("config.num_experts_per_tok", `must be at most ${expertsField} (${numExperts}); got ${topK}`);
}

function checkGqa(numHeads: number, numKv: number) {
  if (numKv > numHeads || numHeads % numKv !== 0)
    throw new InputError("config.num_key_value_heads", `must divide num_attention_heads (${numHeads}); got ${numKv}`);
}

function derivedHeadDim(log: FieldLog, given: number | null | undefined, hiddenSize: number, numHeads: number, classDefault?: number): number {
  if (given != null) return log.take("head_dim", given);
  if (classDefault !== undefined) return log.take("head_dim", undefined, classDefault);
  if (hiddenSize % numHeads !== 0)
    throw new InputError("config.num_attention_heads", `must divide hidden_size (${hiddenSize}) when head_dim is not given; got ${numHeads}`);
  return log.take("head_dim", undefined, hiddenSize / numHeads);
}

function requireDenseWidth(width: number | undefined, denseLayers: number, log: FieldLog): number | null {
  if (denseLayers === 0) {
    if (width !== undefined) log.take("intermediate_size", width);
    return null;
  }
  if (width === undefined)
    throw new InputError(
      "config.intermediate_size",
      `required: an integer from 1 to ${groupedNumber(L.intermediate)} (width of the ${denseLayers} dense MLP layer(s))`,
    );
  return log.take("intermediate_size", width);
}

function gqa(numHeads: number, numKvHeads: number, hd: number, qkvBias: boolean, oBias: boolean, qkNorm: AttentionShape["qkNorm"]): AttentionShape {
  return {
    kind: "gqa",
    numHeads,
    numKvHeads,
    qkHeadDim: hd,
    vHeadDim: hd,
    qLoraRank: null,
    kvLoraRank: null,
    qkNopeHeadDim: null,
    qkRopeHeadDim: null,
    qkvBias,
    oBias,
    qkNorm,
  };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function parseDeepseek(raw: unknown, modelType: "deepseek_v2" | "deepseek_v3"): ModelConfig {
  const c = parseOrThrow(deepseekSchema, raw, "config");
  const log = new FieldLog();
  const numLayers = log.take("num_hidden_layers", c.num_hidden_layers);
  const firstDense = log.take("first_k_dense_replace", c.first_k_dense_replace, 0);
  const freq = log.take("moe_layer_freq", c.moe_layer_freq, 1);
  if (firstDense > numLayers) throw new InputError("config.first_k_dense_replace", `must be at most num_hidden_layers (${numLayers}); got ${firstDense}`);
  // transformers (DeepseekV2DecoderLayer): MoE when layer_idx >= first_k_dense_replace and layer_idx % moe_layer_freq == 0.
  const moeLayerIndices = range(numLayers).filter((i) => i >= firstDense && i % freq === 0);
  const numExperts = log.take("n_routed_experts", c.n_routed_experts);
  const topK = log.take("num_experts_per_tok", c.num_experts_per_tok);
  checkTopK(topK, numExperts, "n_routed_experts");
  const expertWidth = log.take("moe_intermediate_size", c.moe_intermediate_size);
  const nShared = log.take("n_shared_experts", c.n_shared_experts, 0);
  const numHeads = log.take("num_attention_heads", c.num_attention_heads);
  const nope = log.take("qk_nope_head_dim", c.qk_nope_head_dim);
  const rope = log.take("qk_rope_head_dim", c.qk_rope_head_dim);
  const vDim = log.take("v_head_dim", c.v_head_dim);
  const bias = log.take("attention_bias", c.attention_bias, false);
  const mtp = log.take("num_nextn_predict_layers", c.num_nextn_predict_layers, 0);
  return {
    modelType,
    family: "deepseek",
    vocabSize: log.take("vocab_size", c.vocab_size),
    hiddenSize: log.take("hidden_size", c.hidden_size),
    numLayers,
    tieWordEmbeddings: log.take("tie_word_embeddings", c.tie_word_embeddings, false),
    attention: {
      kind: "mla",
      numHeads,
      numKvHeads: numHeads,
      qkHeadDim: nope + rope,
      vHeadDim: vDim,
      qLoraRank: log.take("q_lora_rank", c.q_lora_rank),
      kvLoraRank: log.take("kv_lora_rank", c.kv_lora_rank),
      qkNopeHeadDim: nope,
      qkRopeHeadDim: rope,
      qkvBias: bias,
      oBias: bias,
      qkNorm: "none",
    },
    denseIntermediate: requireDenseWidth(c.intermediate_size, numLayers - moeLayerIndices.length, log),
    mlpBias: false,
    moe: {
      numExperts,
      topK,
      expertIntermediate: expertWidth,
      sharedCount: nShared,
      sharedIntermediate: nShared * expertWidth,
      sharedExpertGate: false,
      scoreCorrectionBias: modelType === "deepseek_v3",
    },
    moeLayerIndices,
    mtpLayers: mtp,
    fields: log.fields,
  };
}

function parseQwenMoe(raw: unknown, modelType: "qwen2_moe" | "qwen3_moe"): ModelConfig {
  const c = parseOrThrow(qwenMoeSchema, raw, "config");
  const log = new FieldLog();
  const numLayers = log.take("num_hidden_layers", c.num_hidden_layers);
  const step = log.take("decoder_sparse_step", c.decoder_sparse_step, 1);
  const mlpOnly = log.take("mlp_only_layers", c.mlp_only_layers, []);
  const bad = mlpOnly.find((i) => i >= numLayers);
  if (bad !== undefined) throw new InputError("config.mlp_only_layers", `layer indices must be below num_hidden_layers (${numLayers}); got ${bad}`);
  // transformers: MoE when layer_idx not in mlp_only_layers and (layer_idx + 1) % decoder_sparse_step == 0.
  const moeLayerIndices = range(numLayers).filter((i) => !mlpOnly.includes(i) && (i + 1) % step === 0);
  const numExperts = log.take("num_experts", c.num_experts);
  const topK = log.take("num_experts_per_tok", c.num_experts_per_tok);
  checkTopK(topK, numExperts, "num_experts");
  const hiddenSize = log.take("hidden_size", c.hidden_size);
  const numHeads = log.take("num_attention_heads", c.num_attention_heads);
  const numKv = log.take("num_key_value_heads", c.num_key_value_heads, numHeads);
  checkGqa(numHeads, numKv);
  const expertWidth = log.take("moe_intermediate_size", c.moe_intermediate_size);
  let attention: AttentionShape;
  let moe: MoeShape;
  if (modelType === "qwen2_moe") {
    if (c.shared_expert_intermediate_size === undefined)
      throw new InputError(
        "config.shared_expert_intermediate_size",
        `required: an integer from 0 to ${groupedNumber(L.intermediate)} (shared expert width, 0 for none)`,
      );
    const sharedWidth = log.take("shared_expert_intermediate_size", c.shared_expert_intermediate_size);
    const hd = derivedHeadDim(log, c.head_dim, hiddenSize, numHeads);
    attention = gqa(numHeads, numKv, hd, log.take("qkv_bias", c.qkv_bias, true), false, "none");
    moe = {
      numExperts,
      topK,
      expertIntermediate: expertWidth,
      sharedCount: sharedWidth > 0 ? 1 : 0,
      sharedIntermediate: sharedWidth,
      sharedExpertGate: true,
      scoreCorrectionBias: false,
    };
  } else {
    const hd = derivedHeadDim(log, c.head_dim, hiddenSize, numHeads, 128);
    const bias = log.take("attention_bias", c.attention_bias, false);
    attention = gqa(numHeads, numKv, hd, bias, bias, "per_head");
    moe = {
      numExperts,
      topK,
      expertIntermediate: expertWidth,
      sharedCount: 0,
      sharedIntermediate: 0,
      sharedExpertGate: false,
      scoreCorrectionBias: false,
    };
  }
  return {
    modelType,
    family: modelType,
    vocabSize: log.take("vocab_size", c.vocab_size),
    hiddenSize,
    numLayers,
    tieWordEmbeddings: log.take("tie_word_embeddings", c.tie_word_embeddings, false),
    attention,
    denseIntermediate: requireDenseWidth(c.intermediate_size, numLayers - moeLayerIndices.length, log),
    mlpBias: false,
    moe,
    moeLayerIndices,
    mtpLayers: 0,
    fields: log.fields,
  };
}

/** Mixtral and OLMoE: routed experts only (no shared expert, no score bias), every layer MoE. */
function routedOnlyMoe(numExperts: number, topK: number, expertIntermediate: number): MoeShape {
  return { numExperts, topK, expertIntermediate, sharedCount: 0, sharedIntermediate: 0, sharedExpertGate: false, scoreCorrectionBias: false };
}

function parseMixtral(raw: unknown): ModelConfig {
  const c = parseOrThrow(mixtralSchema, raw, "config");
  const log = new FieldLog();
  const numLayers = log.take("num_hidden_layers", c.num_hidden_layers);
  const hiddenSize = log.take("hidden_size", c.hidden_size);
  const numHeads = log.take("num_attention_heads", c.num_attention_heads);
  const numKv = log.take("num_key_value_heads", c.num_key_value_heads);
  checkGqa(numHeads, numKv);
  const numExperts = log.take("num_local_experts", c.num_local_experts);
  const topK = log.take("num_experts_per_tok", c.num_experts_per_tok);
  checkTopK(topK, numExperts, "num_local_experts");
  return {
    modelType: "mixtral",
    family: "mixtral",
    vocabSize: log.take("vocab_size", c.vocab_size),
    hiddenSize,
    numLayers,
    tieWordEmbeddings: log.take("tie_word_embeddings", c.tie_word_embeddings, false),
    attention: gqa(numHeads, numKv, derivedHeadDim(log, c.head_dim, hiddenSize, numHeads), false, false, "none"),
    denseIntermediate: null,
    mlpBias: false,
    moe: routedOnlyMoe(numExperts, topK, log.take("intermediate_size", c.intermediate_size)),
    moeLayerIndices: range(numLayers),
    mtpLayers: 0,
    fields: log.fields,
  };
}

function parseOlmoe(raw: unknown): ModelConfig {
  const c = parseOrThrow(olmoeSchema, raw, "config");
  const log = new FieldLog();
  const numLayers = log.take("num_hidden_layers", c.num_hidden_layers);
  const hiddenSize = log.take("hidden_size", c.hidden_size);
  const numHeads = log.take("num_attention_heads", c.num_attention_heads);
  const numKv = log.take("num_key_value_heads", c.num_key_value_heads, numHeads);
  checkGqa(numHeads, numKv);
  if (hiddenSize % numHeads !== 0) throw new InputError("config.num_attention_heads", `must divide hidden_size (${hiddenSize}); got ${numHeads}`);
  const numExperts = log.take("num_experts", c.num_experts);
  const topK = log.take("num_experts_per_tok", c.num_experts_per_tok);
  checkTopK(topK, numExperts, "num_experts");
  const bias = log.take("attention_bias", c.attention_bias, false);
  return {
    modelType: "olmoe",
    family: "olmoe",
    vocabSize: log.take("vocab_size", c.vocab_size),
    hiddenSize,
    numLayers,
    tieWordEmbeddings: log.take("tie_word_embeddings", c.tie_word_embeddings, false),
    attention: gqa(numHeads, numKv, hiddenSize / numHeads, bias, bias, "full"),
    denseIntermediate: null,
    mlpBias: false,
    moe: routedOnlyMoe(numExperts, topK, log.take("intermediate_size", c.intermediate_size)),
    moeLayerIndices: range(numLayers),
    mtpLayers: 0,
    fields: log.fields,
  };
}

function parseDense(raw: unknown, modelType: "llama" | "mistral" | "qwen2" | "qwen3"): ModelConfig {
  const c = parseOrThrow(denseSchema, raw, "config");
  const log = new FieldLog();
  const numLayers = log.take("num_hidden_layers", c.num_hidden_layers);
  const hiddenSize = log.take("hidden_size", c.hidden_size);
  const numHeads = log.take("num_attention_heads", c.num_attention_heads);
  // LlamaConfig falls back to num_attention_heads; Mistral/Qwen2/Qwen3 config classes default to other
  // numbers, so for them the field must be given.
  if (modelType !== "llama" && c.num_key_value_heads == null)
    throw new InputError("config.num_key_value_heads", `required for ${modelType}: an integer dividing num_attention_heads (${numHeads})`);
  const numKv = log.take("num_key_value_heads", c.num_key_value_heads, numHeads);
  checkGqa(numHeads, numKv);
  const hd = derivedHeadDim(log, c.head_dim, hiddenSize, numHeads, modelType === "qwen3" ? 128 : undefined);
  let attention: AttentionShape;
  let mlpBias = false;
  if (modelType === "llama") {
    const bias = log.take("attention_bias", c.attention_bias, false);
    attention = gqa(numHeads, numKv, hd, bias, bias, "none");
    mlpBias = log.take("mlp_bias", c.mlp_bias, false);
  } else if (modelType === "mistral") {
    attention = gqa(numHeads, numKv, hd, false, false, "none");
  } else if (modelType === "qwen2") {
    attention = gqa(numHeads, numKv, hd, true, false, "none");
  } else {
    const bias = log.take("attention_bias", c.attention_bias, false);
    attention = gqa(numHeads, numKv, hd, bias, bias, "per_head");
  }
  return {
    modelType,
    family: "dense",
    vocabSize: log.take("vocab_size", c.vocab_size),
    hiddenSize,
    numLayers,
    tieWordEmbeddings: log.take("tie_word_embeddings", c.tie_word_embeddings, false),
    attention,
    denseIntermediate: log.take("intermediate_size", c.intermediate_size),
    mlpBias,
    moe: null,
    moeLayerIndices: [],
    mtpLayers: 0,
    fields: log.fields,
  };
}

/**
 * Validate an already-parsed Hugging Face config.json and normalize it. Throws InputError
 * (field "config.<name>") for an unsupported model_type, a missing or out-of-range field, or
 * inconsistent fields. Flags missing from config.json take transformers' config-class defaults
 * (recorded in `fields` with defaulted: true); sizes are always required.
 */
export function parseModelConfig(raw: unknown): ModelConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new InputError("config", `must be a parsed config.json object; got ${describeValue(raw)}`);
  const modelType = (raw as Record<string, unknown>).model_type;
  const supported = supportedModelTypes.join(", ");
  if (typeof modelType !== "string") throw new InputError("config.model_type", `required: one of ${supported}; got ${describeValue(modelType)}`);
  switch (modelType) {
    case "deepseek_v2":
    case "deepseek_v3":
      return parseDeepseek(raw, modelType);
    case "qwen2_moe":
    case "qwen3_moe":
      return parseQwenMoe(raw, modelType);
    case "mixtral":
      return parseMixtral(raw);
    case "olmoe":
      return parseOlmoe(raw);
    case "llama":
    case "mistral":
    case "qwen2":
    case "qwen3":
      return parseDense(raw, modelType);
    default:
      throw new InputError("config.model_type", `unsupported model_type ${describeValue(modelType)}; supported: ${supported}`);
  }
}

export function isModelConfig(x: unknown): x is ModelConfig {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as ModelConfig).family === "string" &&
    typeof (x as ModelConfig).attention === "object" &&
    Array.isArray((x as ModelConfig).moeLayerIndices)
  );
}
