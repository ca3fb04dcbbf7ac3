import type { ModelConfig } from "./config.ts";
import { InputError } from "./errors.ts";
import { figure, type Figure, type Unit } from "./figure.ts";
import { groupedNumber } from "./digits.ts";

/** Integer in formula text: 2048, 10,944, 102,400. */
export function n(v: number): string {
  return Math.abs(v) >= 10_000 ? groupedNumber(v) : String(v);
}

/** A config.json field as a computed figure ("config.json: n_routed_experts"). */
export function configFigure(config: ModelConfig, name: string, unit: Unit = "count"): Figure {
  const f = config.fields[name];
  if (!f) throw new Error(`core bug: config field ${name} was not read`);
  const v = f.value;
  const value = typeof v === "number" ? v : typeof v === "boolean" ? (v ? 1 : 0) : v === null ? 0 : v.length;
  const shown = Array.isArray(v) ? `[${v.join(", ")}]` : String(v);
  return figure({
    id: `config.${name}`,
    label: typeof v === "boolean" ? `${name} (1 = true)` : v === null ? `${name} (null)` : Array.isArray(v) ? `${name} (count)` : name,
    value,
    unit,
    formula: f.defaulted ? `transformers default, not in config.json: ${name} = ${shown}` : `config.json: ${name}${typeof v === "number" ? "" : ` = ${shown}`}`,
    kind: "computed",
  });
}

/** One named weight tensor group of a layer, for formula text. */
interface Part {
  name: string;
  shape: number[];
  params: number;
}

function part(name: string, ...shape: number[]): Part {
  return { name, shape, params: shape.reduce((a, b) => a * b, 1) };
}

/** Attention weights of one decoder layer (incl. its internal norms and biases), per transformers. */
export function attentionParts(c: ModelConfig): Part[] {
  const a = c.attention;
  const h = c.hiddenSize;
  const parts: Part[] = [];
  if (a.kind === "mla") {
    const qk = a.qkHeadDim;
    const kvLora = a.kvLoraRank!;
    const rope = a.qkRopeHeadDim!;
    if (a.qLoraRank === null) {
      parts.push(part("q_proj", a.numHeads * qk, h));
    } else {
      parts.push(part("q_a_proj", a.qLoraRank, h));
      if (a.qkvBias) parts.push(part("q_a_proj.bias", a.qLoraRank));
      parts.push(part("q_a_layernorm", a.qLoraRank));
      parts.push(part("q_b_proj", a.numHeads * qk, a.qLoraRank));
    }
    parts.push(part("kv_a_proj_with_mqa", kvLora + rope, h));
    if (a.qkvBias) parts.push(part("kv_a_proj_with_mqa.bias", kvLora + rope));
    parts.push(part("kv_a_layernorm", kvLora));
    parts.push(part("kv_b_proj", a.numHeads * (a.qkNopeHeadDim! + a.vHeadDim), kvLora));
    parts.push(part("o_proj", h, a.numHeads * a.vHeadDim));
    if (a.oBias) parts.push(part("o_proj.bias", h));
    return parts;
  }
  const qW = a.numHeads * a.qkHeadDim;
  const kW = a.numKvHeads * a.qkHeadDim;
  const vW = a.numKvHeads * a.vHeadDim;
  parts.push(part("q_proj", qW, h), part("k_proj", kW, h), part("v_proj", vW, h));
  if (a.qkvBias) parts.push(part("q/k/v biases", qW + kW + vW));
  parts.push(part("o_proj", h, a.numHeads * a.vHeadDim));
  if (a.oBias) parts.push(part("o_proj.bias", h));
  if (a.qkNorm === "per_head") parts.push(part("q_norm", a.qkHeadDim), part("k_norm", a.qkHeadDim));
  if (a.qkNorm === "full") parts.push(part("q_norm", qW), part("k_norm", kW));
  return parts;
}

function partsText(parts: Part[]): string {
  return parts.map((p) => `${p.name} [${p.shape.map(String).join(", ")}]`).join(" + ");
}

export type CensusKey =
  | "total"
  | "embeddings"
  | "lmHead"
  | "attention"
  | "denseFfn"
  | "routerGates"
  | "norms"
  | "sharedExperts"
  | "routedExperts"
  | "perExpert"
  | "moeLayers"
  | "routedExpertsPerLayer"
  | "expertsPerToken"
  | "activePerToken"
  | "backbone";

/**
 * Exact parameter counts by part. Grouping follows module names: attention includes its own
 * projections' biases and internal norms (q_a_layernorm, kv_a_layernorm, q_norm, k_norm); norms are
 * the per-layer input/post-attention RMSNorms plus the final norm; routerGates are the MoE router
 * weights plus DeepSeek-V3's e_score_correction_bias and Qwen2-MoE's shared_expert_gate.
 */
export interface ParameterCensus {
  modelType: ModelConfig["modelType"];
  family: ModelConfig["family"];
  total: number;
  embeddings: number;
  /** 0 when tie_word_embeddings. */
  lmHead: number;
  attention: number;
  denseFfn: number;
  routerGates: number;
  norms: number;
  sharedExperts: number;
  routedExperts: number;
  /** One routed expert (gate + up + down). 0 for dense models. */
  perExpert: number;
  moeLayers: number;
  denseLayers: number;
  /** Routed experts in each MoE layer (n_routed_experts / num_experts / num_local_experts). */
  routedExpertsPerLayer: number;
  /** Routed experts chosen per token (num_experts_per_tok). */
  expertsPerToken: number;
  /** Router parameters that belong to one routed expert in one MoE layer: its gate row [hidden] (+ its
   *  e_score_correction_bias entry on DeepSeek-V3). A router restricted to K experts holds only K rows. */
  routerPerExpert: number;
  /** Parameters a token passes through: total − routed experts + top-k experts × MoE layers (embeddings included). */
  activePerToken: number;
  /** total − routedExperts − sharedExperts. */
  backbone: number;
  /** Tensors in the checkpoint that the model does not hold and that are not counted (DeepSeek-V3 MTP layers). */
  excludedNote: string | null;
  config: ModelConfig;
  /** Provenance figures, one per numeric field above. */
  figures: Record<CensusKey, Figure>;
}

/** Count parameters of a normalized config exactly as the transformers model classes hold them. */
export function countParameters(config: ModelConfig): ParameterCensus {
  const c = config;
  const h = c.hiddenSize;
  const L = c.numLayers;
  const moe = c.moe;
  const moeLayers = c.moeLayerIndices.length;
  const denseLayers = L - moeLayers;

  const embeddings = c.vocabSize * h;
  const lmHead = c.tieWordEmbeddings ? 0 : c.vocabSize * h;
  const attnParts = attentionParts(c);
  const attnPerLayer = attnParts.reduce((s, p) => s + p.params, 0);
  const attention = attnPerLayer * L;
  const I = c.denseIntermediate ?? 0;
  const densePerLayer = 3 * h * I + (c.mlpBias ? 2 * I + h : 0);
  const denseFfn = denseLayers * densePerLayer;
  const perExpert = moe ? 3 * h * moe.expertIntermediate : 0;
  const E = moe?.numExperts ?? 0;
  const routedExperts = moeLayers * E * perExpert;
  const sharedPerLayer = moe ? 3 * h * moe.sharedIntermediate : 0;
  const sharedExperts = moeLayers * sharedPerLayer;
  const gatePerLayer = moe ? E * h + (moe.scoreCorrectionBias ? E : 0) + (moe.sharedExpertGate ? h : 0) : 0;
  const routerGates = moeLayers * gatePerLayer;
  const norms = 2 * h * L + h;
  const total = embeddings + lmHead + attention + denseFfn + routerGates + norms + sharedExperts + routedExperts;
  if (!Number.isSafeInteger(total) || total > 1e15)
    throw new InputError("config", `describes ${total.toExponential(2)} parameters; at most 10^15 are supported (check the sizes)`);
  const topK = moe?.topK ?? 0;
  const activePerToken = total - routedExperts + moeLayers * topK * perExpert;
  const backbone = total - routedExperts - sharedExperts;

  // ---- provenance ----
  const cf = (name: string) => configFigure(c, name);
  const has = (name: string) => name in c.fields;
  const P = (id: CensusKey, label: string, value: number, formula: string, inputs: Record<string, Figure> = {}, unit: Unit = "params"): Figure =>
    figure({ id: `params.${id}`, label, value, unit, formula, kind: "computed", inputs });

  const fVocab = cf("vocab_size");
  const fHidden = cf("hidden_size");
  const fLayers = cf("num_hidden_layers");
  const fTie = cf("tie_word_embeddings");

  const fEmb = P("embeddings", "Embeddings (embed_tokens)", embeddings, `vocab_size ${n(c.vocabSize)} × hidden_size ${n(h)}`, {
    vocab_size: fVocab,
    hidden_size: fHidden,
  });
  const fHead = P(
    "lmHead",
    "Output head (lm_head)",
    lmHead,
    c.tieWordEmbeddings
      ? "0: tie_word_embeddings is true, lm_head shares embed_tokens"
      : `vocab_size ${n(c.vocabSize)} × hidden_size ${n(h)} (tie_word_embeddings false)`,
    { vocab_size: fVocab, hidden_size: fHidden, tie_word_embeddings: fTie },
  );
  const attnInputs: Record<string, Figure> = { num_hidden_layers: fLayers, hidden_size: fHidden };
  for (const k of [
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "q_lora_rank",
    "kv_lora_rank",
    "qk_nope_head_dim",
    "qk_rope_head_dim",
    "v_head_dim",
    "attention_bias",
    "qkv_bias",
  ])
    if (has(k)) attnInputs[k] = cf(k);
  const fAttn = P("attention", "Attention", attention, `${L} layers × (${partsText(attnParts)})`, attnInputs);

  let moeLayersFormula: string;
  const moeInputs: Record<string, Figure> = { num_hidden_layers: fLayers };
  if (!moe) moeLayersFormula = "0: dense model, no expert layers";
  else if (c.family === "deepseek") {
    const fk = c.fields.first_k_dense_replace!.value as number;
    const freq = c.fields.moe_layer_freq!.value as number;
    moeLayersFormula =
      freq === 1
        ? `num_hidden_layers ${L} − first_k_dense_replace ${fk}`
        : `layers i ≥ first_k_dense_replace ${fk} with i mod moe_layer_freq ${freq} = 0, of num_hidden_layers ${L}`;
    moeInputs.first_k_dense_replace = cf("first_k_dense_replace");
    moeInputs.moe_layer_freq = cf("moe_layer_freq");
  } else if (c.family === "qwen2_moe" || c.family === "qwen3_moe") {
    const step = c.fields.decoder_sparse_step!.value as number;
    const only = c.fields.mlp_only_layers!.value as number[];
    moeLayersFormula =
      step === 1 && only.length === 0
        ? `every layer: num_hidden_layers ${L} (decoder_sparse_step 1, no mlp_only_layers)`
        : `layers i with (i + 1) mod decoder_sparse_step ${step} = 0, not in mlp_only_layers [${only.join(", ")}], of ${L}`;
    moeInputs.decoder_sparse_step = cf("decoder_sparse_step");
    moeInputs.mlp_only_layers = cf("mlp_only_layers");
  } else moeLayersFormula = `every layer: num_hidden_layers ${L}`;
  const fMoeLayers = P("moeLayers", "MoE layers", moeLayers, moeLayersFormula, moeInputs, "count");

  const expertsField = c.family === "deepseek" ? "n_routed_experts" : c.family === "mixtral" ? "num_local_experts" : "num_experts";
  const widthField = c.family === "mixtral" || c.family === "olmoe" ? "intermediate_size" : "moe_intermediate_size";
  const fE = moe ? cf(expertsField) : P("routedExpertsPerLayer", "Routed experts per layer", 0, "0: dense model", {}, "count");
  const fRoutedPerLayer = moe
    ? P("routedExpertsPerLayer", "Routed experts per MoE layer", E, `config.json: ${expertsField}`, { [expertsField]: fE }, "count")
    : fE;
  const fTopK = moe
    ? P("expertsPerToken", "Routed experts per token", topK, "config.json: num_experts_per_tok", { num_experts_per_tok: cf("num_experts_per_tok") }, "count")
    : P("expertsPerToken", "Routed experts per token", 0, "0: dense model", {}, "count");
  const fPer = moe
    ? P("perExpert", "One routed expert", perExpert, `3 matrices (gate, up, down) × hidden_size ${n(h)} × ${widthField} ${n(moe.expertIntermediate)}`, {
        hidden_size: fHidden,
        [widthField]: cf(widthField),
      })
    : P("perExpert", "One routed expert", 0, "0: dense model");
  const fRouted = P(
    "routedExperts",
    moe ? `Routed experts (${E} × ${moeLayers} MoE layers)` : "Routed experts",
    routedExperts,
    moe ? `${expertsField}=${E} × ${moeLayers} MoE layers × per-expert params` : "0: dense model",
    { [expertsField]: fRoutedPerLayer, moeLayers: fMoeLayers, perExpert: fPer },
  );

  let sharedFormula = "0: no shared experts";
  const sharedInputs: Record<string, Figure> = { moeLayers: fMoeLayers };
  if (moe && c.family === "deepseek" && moe.sharedCount > 0) {
    sharedFormula = `n_shared=${moe.sharedCount} × ${moeLayers} MoE layers × per-expert params`;
    sharedInputs.n_shared_experts = cf("n_shared_experts");
    sharedInputs.perExpert = fPer;
  } else if (moe && c.family === "qwen2_moe") {
    sharedFormula = `3 × hidden_size ${n(h)} × shared_expert_intermediate_size ${n(moe.sharedIntermediate)} × ${moeLayers} MoE layers`;
    sharedInputs.shared_expert_intermediate_size = cf("shared_expert_intermediate_size");
    sharedInputs.hidden_size = fHidden;
  }
  const fShared = P(
    "sharedExperts",
    moe && moe.sharedCount > 0 ? `Shared experts (${moe.sharedCount} per MoE layer × ${moeLayers})` : "Shared experts",
    sharedExperts,
    sharedFormula,
    sharedInputs,
  );

  const gateTerms: string[] = [];
  if (moe) {
    gateTerms.push(`router [${E}, ${h}]`);
    if (moe.scoreCorrectionBias) gateTerms.push(`e_score_correction_bias [${E}]`);
    if (moe.sharedExpertGate) gateTerms.push(`shared_expert_gate [1, ${h}]`);
  }
  const fGates = P("routerGates", "Router gates", routerGates, moe ? `${moeLayers} MoE layers × (${gateTerms.join(" + ")})` : "0: dense model", {
    moeLayers: fMoeLayers,
    [expertsField]: fRoutedPerLayer,
    hidden_size: fHidden,
  });
  const fDense = P(
    "denseFfn",
    "Dense MLP layers",
    denseFfn,
    denseLayers === 0
      ? "0: every layer is a MoE layer"
      : `${denseLayers} dense layer${denseLayers === 1 ? "" : "s"} × 3 × hidden_size ${n(h)} × intermediate_size ${n(I)}${c.mlpBias ? " + biases" : ""}`,
    has("intermediate_size") && denseLayers > 0
      ? { hidden_size: fHidden, intermediate_size: cf("intermediate_size"), moeLayers: fMoeLayers }
      : { moeLayers: fMoeLayers },
  );
  const fNorms = P("norms", "Layer norms", norms, `2 RMSNorms × hidden_size ${n(h)} × ${L} layers + final norm ${n(h)}`, {
    hidden_size: fHidden,
    num_hidden_layers: fLayers,
  });
  const mtpNote =
    c.mtpLayers > 0 ? `; the ${c.mtpLayers} multi-token-prediction layer(s) (num_nextn_predict_layers) are not part of the model and not counted` : "";
  const fTotal = P(
    "total",
    "Total parameters",
    total,
    `embeddings + lm_head + attention + dense MLP + router gates + norms + shared experts + routed experts${mtpNote}`,
    { embeddings: fEmb, lmHead: fHead, attention: fAttn, denseFfn: fDense, routerGates: fGates, norms: fNorms, sharedExperts: fShared, routedExperts: fRouted },
  );
  const fActive = P(
    "activePerToken",
    "Activated per token",
    activePerToken,
    moe ? `total − routed experts + num_experts_per_tok ${topK} × ${moeLayers} MoE layers × per-expert params` : "total: dense model, every weight is used",
    moe ? { total: fTotal, routedExperts: fRouted, expertsPerToken: fTopK, moeLayers: fMoeLayers, perExpert: fPer } : { total: fTotal },
  );
  const fBackbone = P("backbone", "Backbone (everything but experts)", backbone, "total − routed experts − shared experts", {
    total: fTotal,
    routedExperts: fRouted,
    sharedExperts: fShared,
  });

  return {
    modelType: c.modelType,
    family: c.family,
    total,
    embeddings,
    lmHead,
    attention,
    denseFfn,
    routerGates,
    norms,
    sharedExperts,
    routedExperts,
    perExpert,
    moeLayers,
    denseLayers,
    routedExpertsPerLayer: E,
    expertsPerToken: topK,
    routerPerExpert: moe ? h + (moe.scoreCorrectionBias ? 1 : 0) : 0,
    activePerToken,
    backbone,
    excludedNote: c.mtpLayers > 0 ? `${c.mtpLayers} multi-token-prediction layer(s) not counted` : null,
    config: c,
    figures: {
      total: fTotal,
      embeddings: fEmb,
      lmHead: fHead,
      attention: fAttn,
      denseFfn: fDense,
      routerGates: fGates,
      norms: fNorms,
      sharedExperts: fShared,
      routedExperts: fRouted,
      perExpert: fPer,
      moeLayers: fMoeLayers,
      routedExpertsPerLayer: fRoutedPerLayer,
      expertsPerToken: fTopK,
      activePerToken: fActive,
      backbone: fBackbone,
    },
  };
}
