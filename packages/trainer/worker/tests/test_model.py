import math
import unittest

import torch
import torch.nn.functional as F

from worker.config import ConfigError, load_config, parse_config
from worker.fixture import TINY_CONFIG
from worker.model import Layout, apply_rope, build_model, expert_name, rope_inv_freq
from worker.safetensors_io import load_checkpoint
from worker.tests.util import tiny_checkpoint

CPU = torch.device("cpu")


def reference_moe_layer(x: torch.Tensor, state: dict, layer: int, cfg) -> torch.Tensor:
    """Token-by-token MoE of the original modeling code, written independently of model.py."""
    p = f"model.layers.{layer}.mlp"
    out = torch.zeros_like(x)
    for t in range(x.shape[0]):
        probs = (x[t] @ state[f"{p}.gate.weight"].T).softmax(-1)
        w, idx = probs.topk(cfg.num_experts_per_tok)
        for weight, e in zip(w.tolist(), idx.tolist()):
            g, u, d = (state[expert_name(layer, e, part)] for part in ("gate_proj", "up_proj", "down_proj"))
            out[t] += weight * (d @ (F.silu(g @ x[t]) * (u @ x[t])))
        sg, su, sd = (state[f"{p}.shared_experts.{part}.weight"] for part in ("gate_proj", "up_proj", "down_proj"))
        out[t] += sd @ (F.silu(sg @ x[t]) * (su @ x[t]))
    return out


class ModelTest(unittest.TestCase):
    def test_moe_layer_matches_token_by_token_reference(self) -> None:
        d = tiny_checkpoint()
        cfg, state = load_config(d), load_checkpoint(d)
        model = build_model(cfg, state, Layout.all_frozen(cfg), CPU, torch.float32)
        x = torch.randn(1, 20, cfg.hidden_size)
        with torch.no_grad():
            ours = model.model.layers[1].mlp(x)[0]
        self.assertTrue(torch.allclose(ours, reference_moe_layer(x[0], state, 1, cfg), atol=1e-5))

    def test_layouts_give_the_same_logits_under_natural_routing(self) -> None:
        d = tiny_checkpoint()
        cfg, state = load_config(d), load_checkpoint(d)
        ids = torch.randint(0, cfg.vocab_size, (2, 12))
        base = build_model(cfg, state, Layout.all_frozen(cfg), CPU, torch.float32)
        split = build_model(cfg, state, Layout({1: [3, 0], 2: [7]}, {1: [1, 2, 4, 5, 6, 7], 2: list(range(7))}, False), CPU, torch.float32)
        with torch.no_grad():
            self.assertTrue(torch.allclose(base.logits(ids), split.logits(ids), atol=1e-5))

    def test_latent_norms_use_the_reference_epsilon(self) -> None:
        # deepseek-ai's modeling_deepseek.py: q_a_layernorm and kv_a_layernorm are DeepseekV2RMSNorm(rank) with the
        # default eps 1e-6; only the decoder and final norms read rms_norm_eps
        cfg = parse_config({**TINY_CONFIG, "q_lora_rank": 24, "rms_norm_eps": 1e-2})
        state = load_checkpoint(tiny_checkpoint(q_lora=24))
        model = build_model(cfg, state, Layout.all_frozen(cfg), CPU, torch.float32)
        attn = model.model.layers[0].self_attn
        self.assertEqual(attn.q_a_layernorm.eps, 1e-6)
        self.assertEqual(attn.kv_a_layernorm.eps, 1e-6)
        self.assertEqual(model.model.layers[0].input_layernorm.eps, 1e-2)
        self.assertEqual(model.model.norm.eps, 1e-2)
        x = torch.randn(3, cfg.kv_lora_rank) * 1e-2  # small activations, where the epsilon matters
        w = attn.kv_a_layernorm.weight
        expected = w * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)
        self.assertTrue(torch.allclose(attn.kv_a_layernorm(x), expected, atol=1e-6))

    def test_sharded_and_q_lora_checkpoints_load_and_run(self) -> None:
        single, sharded = load_checkpoint(tiny_checkpoint()), load_checkpoint(tiny_checkpoint(shards=3))
        self.assertEqual(single.keys(), sharded.keys())
        self.assertTrue(all(torch.equal(single[k], sharded[k]) for k in single))
        d = tiny_checkpoint(q_lora=24)
        cfg = load_config(d)
        model = build_model(cfg, load_checkpoint(d), Layout.all_frozen(cfg), CPU, torch.float32)
        self.assertIn("model.layers.0.self_attn.q_a_proj.weight", dict(model.named_parameters()))
        with torch.no_grad():
            logits = model.logits(torch.randint(0, cfg.vocab_size, (1, 9)))
        self.assertEqual(tuple(logits.shape), (1, 9, cfg.vocab_size))
        self.assertTrue(bool(torch.isfinite(logits).all()))

    def test_causal_attention_does_not_see_the_future(self) -> None:
        d = tiny_checkpoint()
        cfg = load_config(d)
        model = build_model(cfg, load_checkpoint(d), Layout.all_frozen(cfg), CPU, torch.float32)
        ids = torch.randint(0, cfg.vocab_size, (1, 10))
        changed = ids.clone()
        changed[0, 7:] = (changed[0, 7:] + 1) % cfg.vocab_size
        with torch.no_grad():
            a, b = model.logits(ids), model.logits(changed)
        self.assertTrue(torch.allclose(a[0, :7], b[0, :7], atol=1e-6))
        self.assertFalse(torch.allclose(a[0, 7:], b[0, 7:], atol=1e-3))

    def test_yarn_frequencies(self) -> None:
        cfg = parse_config(dict(TINY_CONFIG))
        inv, scale = rope_inv_freq(cfg)
        base = 1.0 / (10000 ** (torch.arange(0, 8, 2).float() / 8))
        # dim 8, original 512 positions: the fastest pair keeps its frequency, the slowest is divided by factor 4
        self.assertAlmostEqual(float(inv[0]), float(base[0]), places=6)
        self.assertAlmostEqual(float(inv[-1]), float(base[-1]) / 4, places=8)
        self.assertAlmostEqual(scale, 1.0)  # mscale == mscale_all_dim
        # rotation preserves the norm of each pair
        x = torch.randn(1, 1, 3, 8)
        cos, sin = torch.ones(3, 4) * math.cos(0.3), torch.ones(3, 4) * math.sin(0.3)
        self.assertTrue(torch.allclose(apply_rope(x, cos, sin).norm(dim=-1), x.norm(dim=-1), atol=1e-6))

    def test_config_outside_the_family_is_refused(self) -> None:
        with self.assertRaisesRegex(ConfigError, "model_type is 'llama'"):
            parse_config({**TINY_CONFIG, "model_type": "llama"})
        with self.assertRaisesRegex(ConfigError, "topk_method 'noaux_tc'"):
            parse_config({**TINY_CONFIG, "topk_method": "noaux_tc"})
        with self.assertRaisesRegex(ConfigError, "'kv_lora_rank' is missing"):
            parse_config({k: v for k, v in TINY_CONFIG.items() if k != "kv_lora_rank"})


if __name__ == "__main__":
    unittest.main()
