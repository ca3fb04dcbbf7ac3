"""Writes a DeepSeek-V2-shaped checkpoint with random weights (tests, benchmarks, parity).

Usage: python -m worker.fixture OUT_DIR [--q-lora RANK] [--shards N] [--seed S] [--config PATH] [--vocab-size V]
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, Dict, List, Optional

import torch

from .config import parse_config
from .model import random_tensor, tensor_shapes
from .safetensors_io import save_file

TINY_CONFIG: Dict[str, Any] = {
    "architectures": ["DeepseekV2ForCausalLM"],
    "model_type": "deepseek_v2",
    "vocab_size": 64,
    "hidden_size": 64,
    "intermediate_size": 128,
    "moe_intermediate_size": 32,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "n_shared_experts": 1,
    "n_routed_experts": 8,
    "num_experts_per_tok": 2,
    "first_k_dense_replace": 1,
    "moe_layer_freq": 1,
    "kv_lora_rank": 16,
    "q_lora_rank": None,
    "qk_rope_head_dim": 8,
    "qk_nope_head_dim": 16,
    "v_head_dim": 16,
    "tie_word_embeddings": False,
    "topk_method": "greedy",
    "n_group": 1,
    "topk_group": 1,
    "norm_topk_prob": False,
    "scoring_func": "softmax",
    "routed_scaling_factor": 1.0,
    "aux_loss_alpha": 0.001,
    "seq_aux": True,
    "hidden_act": "silu",
    "rms_norm_eps": 1e-06,
    "max_position_embeddings": 2048,
    "rope_theta": 10000,
    "rope_scaling": {"type": "yarn", "factor": 4, "mscale": 0.707, "mscale_all_dim": 0.707, "original_max_position_embeddings": 512, "beta_fast": 32, "beta_slow": 1},
    "bos_token_id": 0,
    "eos_token_id": 1,
    "torch_dtype": "float32",
}


def write_random_checkpoint(out_dir: str, config: Optional[Dict[str, Any]] = None, shards: int = 1, seed: int = 0, dtype: torch.dtype = torch.float32) -> Dict[str, Any]:
    """Writes config.json + model.safetensors (shards == 1) or shards + model.safetensors.index.json."""
    raw = dict(TINY_CONFIG if config is None else config)
    cfg = parse_config(raw)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(raw, f, indent=2)
    gen = torch.Generator().manual_seed(seed)
    names = sorted(tensor_shapes(cfg).items())
    tensors = {name: random_tensor(name, shape, gen, dtype) for name, shape in names}
    if shards == 1:
        save_file(tensors, os.path.join(out_dir, "model.safetensors"), {"format": "pt"})
        return raw
    groups: List[List[str]] = [[] for _ in range(shards)]
    for i, (name, _) in enumerate(names):
        groups[i * shards // len(names)].append(name)
    weight_map: Dict[str, str] = {}
    for s, group in enumerate(groups):
        fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        save_file({n: tensors[n] for n in group}, os.path.join(out_dir, fname), {"format": "pt"})
        weight_map.update({n: fname for n in group})
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w", encoding="utf-8") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    return raw


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out_dir")
    p.add_argument("--q-lora", type=int, default=None)
    p.add_argument("--shards", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--config", default=None, help="config.json to use instead of the tiny one")
    p.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    p.add_argument("--vocab-size", type=int, default=None, help="e.g. 514 to pair the tiny model with fixtures/tiny-tokenizer")
    a = p.parse_args()
    raw = dict(TINY_CONFIG)
    if a.config:
        with open(a.config, "r", encoding="utf-8") as f:
            raw = json.load(f)
    if a.q_lora:
        raw["q_lora_rank"] = a.q_lora
    if a.vocab_size:
        raw["vocab_size"] = a.vocab_size
    raw["torch_dtype"] = a.dtype
    write_random_checkpoint(a.out_dir, raw, a.shards, a.seed, getattr(torch, a.dtype))


if __name__ == "__main__":
    main()
