import { describe, expect, it } from "vitest";
import { countParameters, parseModelConfig, supportedModelTypes, type ParameterCensus } from "../src/index.ts";
import { fixture, fixtures, type FixtureName } from "./fixtures.ts";

const census = (name: FixtureName): ParameterCensus => countParameters(parseModelConfig(fixture(name)));

describe("DeepSeek-V2-Lite, exact counts from the reference implementation", () => {
  const c = census("DeepSeek-V2-Lite");
  it("matches esft-and-evals.md", () => {
    expect(c.total).toBe(15_706_484_224);
    expect(c.routedExperts).toBe(14_394_851_328);
    expect(c.perExpert).toBe(8_650_752);
    expect(c.sharedExperts).toBe(449_839_104);
    expect(c.backbone).toBe(861_793_792);
    expect(c.embeddings).toBe(209_715_200);
    expect(c.lmHead).toBe(209_715_200);
    expect(c.moeLayers).toBe(26);
    expect(c.denseLayers).toBe(1);
    expect(c.routedExpertsPerLayer).toBe(64);
    expect(c.expertsPerToken).toBe(6);
  });
  it("breaks the backbone into the per-layer shapes of the reference", () => {
    // q_proj [3072, 2048], kv_a_proj_with_mqa [576, 2048], kv_a_layernorm [512], kv_b_proj [4096, 512], o_proj [2048, 2048]
    expect(c.attention).toBe(27 * (3072 * 2048 + 576 * 2048 + 512 + 4096 * 512 + 2048 * 2048));
    expect(c.denseFfn).toBe(3 * 10944 * 2048); // layer 0
    expect(c.routerGates).toBe(26 * 64 * 2048);
    expect(c.norms).toBe(27 * 2 * 2048 + 2048);
    expect(c.embeddings + c.lmHead + c.attention + c.denseFfn + c.routerGates + c.norms).toBe(c.backbone);
  });
  it("counts activated parameters per token", () => {
    expect(c.activePerToken).toBe(c.total - c.routedExperts + 6 * 26 * 8_650_752);
    expect(c.activePerToken - c.embeddings).toBe(2_451_435_008); // the "2.45 B active" of the reference's FLOP floor
  });
});

// Totals as published (model cards / papers), at the rounding they are published at.
const published: Record<FixtureName, { total: number; digits: number; active?: number; activeDigits?: number; exact?: number }> = {
  "DeepSeek-V2-Lite": { total: 15.7, digits: 1, exact: 15_706_484_224 },
  "DeepSeek-V2": { total: 236, digits: 0, active: 21, activeDigits: 0 },
  "DeepSeek-V3": { total: 671, digits: 0, active: 37, activeDigits: 0 },
  "Mixtral-8x7B-v0.1": { total: 46.7, digits: 1, active: 12.9, activeDigits: 1, exact: 46_702_792_704 },
  "Qwen1.5-MoE-A2.7B": { total: 14.3, digits: 1, active: 2.7, activeDigits: 1 },
  "Qwen3-30B-A3B": { total: 30.5, digits: 1, active: 3.3, activeDigits: 1 },
  "OLMoE-1B-7B-0924": { total: 6.9, digits: 1, active: 1.3, activeDigits: 1 },
  "Meta-Llama-3-8B": { total: 8.03, digits: 2, exact: 8_030_261_248 },
  "Mistral-7B-v0.1": { total: 7.24, digits: 2, exact: 7_241_732_096 },
  "Qwen2-0.5B": { total: 0.49, digits: 2, exact: 494_032_768 },
};

describe("each family against its published total", () => {
  for (const [name, p] of Object.entries(published) as [FixtureName, (typeof published)[FixtureName]][]) {
    it(name, () => {
      const c = census(name);
      expect(Number((c.total / 1e9).toFixed(p.digits))).toBe(p.total);
      if (p.exact !== undefined) expect(c.total).toBe(p.exact);
      // Activated counts are published truncated (V3 37.55 -> "37", Qwen3 3.35 -> "3.3") or rounded (Mixtral
      // 12.88 -> "12.9"): within one unit of the published last digit.
      if (p.active !== undefined) expect(Math.abs(c.activePerToken / 1e9 - p.active)).toBeLessThan(10 ** -(p.activeDigits ?? 0));
      // the parts always add up, and backbone is what is not an expert
      expect(c.embeddings + c.lmHead + c.attention + c.denseFfn + c.routerGates + c.norms + c.sharedExperts + c.routedExperts).toBe(c.total);
      expect(c.backbone).toBe(c.total - c.routedExperts - c.sharedExperts);
      expect(c.routedExperts).toBe(c.moeLayers * c.routedExpertsPerLayer * c.perExpert);
      expect(Number.isSafeInteger(c.total)).toBe(true);
    });
  }
  it("DeepSeek's activated counts (V2-Lite 2.4 B, V2 21 B, V3 37 B) leave out the input embeddings", () => {
    const lite = census("DeepSeek-V2-Lite");
    expect(Number((lite.activePerToken / 1e9).toFixed(2))).toBe(2.66); // with embeddings
    expect(Math.abs((lite.activePerToken - lite.embeddings) / 1e9 - 2.4)).toBeLessThan(0.1);
    const v2 = census("DeepSeek-V2");
    expect(Math.abs((v2.activePerToken - v2.embeddings) / 1e9 - 21)).toBeLessThan(1);
    const v3 = census("DeepSeek-V3");
    expect(Math.abs((v3.activePerToken - v3.embeddings) / 1e9 - 37)).toBeLessThan(1);
  });
  it("covers every supported model_type", () => {
    const covered = new Set(Object.values(fixtures).map((f) => f.model_type));
    for (const t of supportedModelTypes) if (t !== "qwen3") expect(covered.has(t)).toBe(true);
  });
});

describe("family details", () => {
  it("DeepSeek-V3: q_lora path, e_score_correction_bias counted, MTP layer not counted", () => {
    const c = census("DeepSeek-V3");
    expect(c.total).toBe(671_026_419_200);
    expect(c.moeLayers).toBe(58);
    expect(c.routerGates).toBe(58 * (256 * 7168 + 256));
    const perLayerAttn = 1536 * 7168 + 1536 + 128 * 192 * 1536 + 576 * 7168 + 512 + 128 * 256 * 512 + 7168 * 128 * 128;
    expect(c.attention).toBe(61 * perLayerAttn);
    expect(c.excludedNote).toMatch(/multi-token-prediction/);
    const noMtp = fixture("DeepSeek-V3");
    noMtp.num_nextn_predict_layers = 0;
    expect(countParameters(parseModelConfig(noMtp)).total).toBe(c.total);
  });
  it("DeepSeek-V2 (236 B): 160 experts, q_lora_rank 1536, no score bias", () => {
    const c = census("DeepSeek-V2");
    expect(c.routerGates).toBe(59 * 160 * 5120);
    expect(c.sharedExperts).toBe(59 * 2 * 3 * 5120 * 1536);
  });
  it("DeepSeek: moe_layer_freq 2 makes every other layer MoE from first_k_dense_replace", () => {
    const raw = fixture("DeepSeek-V2-Lite");
    raw.moe_layer_freq = 2;
    const c = countParameters(parseModelConfig(raw));
    expect(c.moeLayers).toBe(13); // layers 2, 4, ..., 26
    expect(c.denseLayers).toBe(14);
  });
  it("Qwen2-MoE: shared expert and its sigmoid gate, qkv bias, decoder_sparse_step and mlp_only_layers", () => {
    const c = census("Qwen1.5-MoE-A2.7B");
    expect(c.sharedExperts).toBe(24 * 3 * 2048 * 5632);
    expect(c.routerGates).toBe(24 * (60 * 2048 + 2048));
    expect(c.attention).toBe(24 * (4 * 2048 * 2048 + 3 * 2048));
    const raw = fixture("Qwen1.5-MoE-A2.7B");
    raw.decoder_sparse_step = 2;
    raw.mlp_only_layers = [1];
    const d = countParameters(parseModelConfig(raw));
    expect(d.moeLayers).toBe(11); // layers 3, 5, ..., 23
    expect(d.denseFfn).toBe(13 * 3 * 2048 * 5632);
    raw.qkv_bias = false;
    expect(countParameters(parseModelConfig(raw)).attention).toBe(24 * 4 * 2048 * 2048);
  });
  it("Qwen3-MoE: head_dim 128 with 32 heads, per-head q/k norms, no bias", () => {
    const c = census("Qwen3-30B-A3B");
    expect(c.attention).toBe(48 * (4096 * 2048 + 2 * 512 * 2048 + 2048 * 4096 + 2 * 128));
    expect(c.sharedExperts).toBe(0);
  });
  it("OLMoE: q_norm and k_norm over the full projection widths", () => {
    const c = census("OLMoE-1B-7B-0924");
    expect(c.attention).toBe(16 * (4 * 2048 * 2048 + 2048 + 2048));
  });
  it("Mixtral: w1/w2/w3 experts of intermediate_size", () => {
    const c = census("Mixtral-8x7B-v0.1");
    expect(c.perExpert).toBe(3 * 4096 * 14336);
    expect(c.routerGates).toBe(32 * 8 * 4096);
  });
  it("respects tie_word_embeddings", () => {
    const tied = census("Qwen2-0.5B");
    expect(tied.lmHead).toBe(0);
    expect(tied.figures.lmHead.formula).toMatch(/tie_word_embeddings is true/);
    const raw = fixture("Qwen2-0.5B");
    raw.tie_word_embeddings = false;
    expect(countParameters(parseModelConfig(raw)).total).toBe(tied.total + 151936 * 896);
    const llama = fixture("Meta-Llama-3-8B");
    llama.tie_word_embeddings = true;
    expect(countParameters(parseModelConfig(llama)).total).toBe(8_030_261_248 - 128256 * 4096);
  });
  it("dense models have no experts and a backbone equal to the total", () => {
    const c = census("Meta-Llama-3-8B");
    expect(c.routedExperts + c.sharedExperts + c.routerGates + c.moeLayers).toBe(0);
    expect(c.activePerToken).toBe(c.total);
  });
  it("qwen3 dense: per-head q/k norms", () => {
    const raw = {
      model_type: "qwen3",
      vocab_size: 151936,
      hidden_size: 1024,
      intermediate_size: 3072,
      num_hidden_layers: 28,
      num_attention_heads: 16,
      num_key_value_heads: 8,
      head_dim: 128,
      tie_word_embeddings: true,
    };
    const c = countParameters(parseModelConfig(raw));
    expect(c.total).toBe(596_049_920); // Qwen3-0.6B
  });
});

describe("provenance", () => {
  it("every census figure has a unit, a formula in words, and config fields as computed input figures", () => {
    const c = census("DeepSeek-V2-Lite");
    for (const f of Object.values(c.figures)) {
      expect(f.formula.length).toBeGreaterThan(3);
      expect(f.kind).toBe("computed");
    }
    expect(c.figures.routedExperts.formula).toBe("n_routed_experts=64 × 26 MoE layers × per-expert params");
    expect(c.figures.sharedExperts.formula).toBe("n_shared=2 × 26 MoE layers × per-expert params");
    expect(c.figures.perExpert.inputs.moe_intermediate_size!.formula).toBe("config.json: moe_intermediate_size");
    expect(c.figures.total.inputs.routedExperts!.value).toBe(c.routedExperts);
    expect(c.figures.moeLayers.formula).toBe("num_hidden_layers 27 − first_k_dense_replace 1");
  });
  it("marks config-class defaults used for fields missing from config.json", () => {
    const raw = fixture("OLMoE-1B-7B-0924");
    delete raw.tie_word_embeddings;
    const c = countParameters(parseModelConfig(raw));
    expect(c.figures.lmHead.inputs.tie_word_embeddings!.formula).toMatch(/^transformers default, not in config.json/);
  });
});
