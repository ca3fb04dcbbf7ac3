"""Logits parity against transformers' DeepseekV2ForCausalLM on the same weights (GPU machine).

    cd packages/trainer && python3 -m worker.parity [--model-dir DIR] [--device cuda] [--lite-layers N]

Without --model-dir it writes two random DeepSeek-V2-shaped checkpoints (with and without q_lora) and
compares both; --lite-layers N adds a random checkpoint with DeepSeek-V2-Lite's shapes cut to N decoder layers.
transformers loads the checkpoint through its own loader (which packs the experts into gate_up_proj /
down_proj); we load the original tensor names. Relative error = ||ours - theirs|| / ||theirs|| over the logits;
the limits are 1e-2 for bf16 and 1e-4 for fp32. Prints one JSON line per comparison; exit status 1 when any
limit is exceeded.

The yarn trap: deepseek-ai's modeling_deepseek.py multiplies the softmax scale by mscale(factor,
mscale_all_dim)^2; some transformers versions of DeepSeek-V2 leave that out. With yarn in the config each
comparison also reports the error with our scale set to plain qk_head_dim^-0.5, and says which one matches.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from typing import Any, Dict, List, Optional

import torch

from .config import load_config, yarn_mscale
from .fixture import TINY_CONFIG, write_random_checkpoint
from .model import Layout, build_model
from .safetensors_io import load_checkpoint, save_file

LIMITS = {"bfloat16": 1e-2, "float32": 1e-4}

PARITY_CONFIG: Dict[str, Any] = {
    **TINY_CONFIG,
    "vocab_size": 512, "hidden_size": 256, "intermediate_size": 512, "moe_intermediate_size": 128,
    "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 4, "n_shared_experts": 2,
    "n_routed_experts": 16, "num_experts_per_tok": 4, "kv_lora_rank": 64, "qk_rope_head_dim": 32,
    "qk_nope_head_dim": 64, "v_head_dim": 64, "max_position_embeddings": 4096,
    "rope_scaling": {"type": "yarn", "factor": 8, "mscale": 0.707, "mscale_all_dim": 0.707, "original_max_position_embeddings": 512, "beta_fast": 32, "beta_slow": 1},
}


def sharpen_gates(model_dir: str) -> None:
    """Random N(0, 0.02) gates give near-uniform router probabilities, where bf16 rounding alone flips
    top-k choices; scaled-up gates give clear margins, so the comparison measures the model, not ties."""
    path = f"{model_dir}/model.safetensors"
    tensors = load_checkpoint(model_dir)
    for name in tensors:
        if name.endswith("mlp.gate.weight"):
            tensors[name] = tensors[name] * 50
    save_file(tensors, path, {"format": "pt"})


def lite_config(layers: int) -> Dict[str, Any]:
    """DeepSeek-V2-Lite's config (configs/deepseek-v2-lite.json) with only its first `layers` decoder layers."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs", "deepseek-v2-lite.json"), encoding="utf-8") as f:
        raw = json.load(f)
    return {**raw, "num_hidden_layers": layers}


def random_checkpoints(lite_layers: Optional[int]) -> List[str]:
    """Random checkpoints with sharpened gates: PARITY_CONFIG without and with q_lora (fp32), and V2-Lite's
    shapes (bf16, half the bytes to write and read) if asked."""
    configs = [({**PARITY_CONFIG, "q_lora_rank": q_lora}, torch.float32) for q_lora in (None, 96)]
    if lite_layers:
        configs.append((lite_config(lite_layers), torch.bfloat16))
    dirs = []
    for raw, dtype in configs:
        d = tempfile.mkdtemp(prefix="parity-")
        write_random_checkpoint(d, raw, seed=7, dtype=dtype)
        sharpen_gates(d)
        dirs.append(d)
    return dirs


def compare(model_dir: str, device: str, dtype: torch.dtype, seq: int) -> Dict[str, Any]:
    from transformers import DeepseekV2ForCausalLM  # only on the GPU machine

    cfg = load_config(model_dir)
    theirs = DeepseekV2ForCausalLM.from_pretrained(model_dir, dtype=dtype).to(device).eval()
    ours = build_model(cfg, load_checkpoint(model_dir), Layout.all_frozen(cfg), torch.device(device), dtype).eval()
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, cfg.vocab_size, (2, seq), generator=gen).to(device)
    with torch.no_grad():
        ref = theirs(input_ids=ids).logits.float()
        got = ours.logits(ids).float()
    del theirs
    rel = float((got - ref).norm() / ref.norm())
    name = str(dtype).replace("torch.", "")
    out = {"model_dir": model_dir, "layers": cfg.num_hidden_layers, "hidden_size": cfg.hidden_size, "n_routed_experts": cfg.n_routed_experts,
           "q_lora_rank": cfg.q_lora_rank, "dtype": name, "seq": seq, "relative_error": rel,
           "max_abs_error": float((got - ref).abs().max()), "limit": LIMITS[name], "ok": rel < LIMITS[name]}
    y = cfg.rope_scaling
    if y is not None and y.mscale_all_dim:
        m2 = yarn_mscale(y.factor, y.mscale_all_dim) ** 2
        for layer in ours.model.layers:
            layer.self_attn.scale = cfg.qk_head_dim**-0.5
        with torch.no_grad():
            plain = ours.logits(ids).float()
        rel_plain = float((plain - ref).norm() / ref.norm())
        out["yarn_mscale2"] = m2
        out["relative_error_without_mscale2"] = rel_plain
        out["transformers_attention_scale"] = (
            "includes mscale^2 (as deepseek-ai's modeling_deepseek.py)" if rel <= rel_plain else
            "omits mscale^2 (deepseek-ai's modeling_deepseek.py applies it; ours follows deepseek-ai)")
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", action="append", help="checkpoint directory (repeatable); default: random ones")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--dtypes", default="float32,bfloat16")
    p.add_argument("--lite-layers", type=int, default=0, help="also compare DeepSeek-V2-Lite's shapes cut to N layers")
    a = p.parse_args()
    dirs: List[str] = a.model_dir or random_checkpoints(a.lite_layers or None)
    ok = True
    for d in dirs:
        for name in a.dtypes.split(","):
            r = compare(d, a.device, getattr(torch, name), a.seq)
            ok = ok and r["ok"]
            print(json.dumps(r), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
