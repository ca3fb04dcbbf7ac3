"""Training throughput and memory of cells A/B/C at DeepSeek-V2-Lite shapes (random bf16 weights).

Run on the GPU machine from the repository root:
    python3 bench/trainer/train_bench.py            # writes bench/results/trainer-h100.json
    /usr/bin/python3 bench/trainer/train_bench.py --smoke   # tiny config on the CPU: checks the script runs
Prints one JSON line per cell and a summary against the targets (A >= 26,000 tok/s; B, C >= 0.9 x A;
A's peak <= 24 GiB). Figures are medians over the timed steps after warm-up.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "packages", "trainer"))

import torch  # noqa: E402

from worker.config import ModelConfig, parse_config  # noqa: E402
from worker.fixture import TINY_CONFIG  # noqa: E402
from worker.model import Layout, build_model, expert_name, lm_loss, random_tensor, tensor_shapes  # noqa: E402
from worker.train import AdamW, set_experts_impl  # noqa: E402

GIB = 1024**3


def random_state(cfg: ModelConfig, resident: Dict[int, List[int]], device: torch.device, dtype: torch.dtype) -> Dict[str, torch.Tensor]:
    """Random weights for resident tensors on `device`; parked experts are uninitialised CPU memory,
    which restricted routing never reads (they stand in for the CPU-resident parked experts)."""
    gen = torch.Generator(device=device).manual_seed(0)
    parked = {expert_name(layer, e, part) for layer in cfg.moe_layers for e in range(cfg.n_routed_experts) if e not in resident[layer] for part in ("gate_proj", "up_proj", "down_proj")}
    state = {}
    for name, shape in tensor_shapes(cfg).items():
        state[name] = torch.empty(shape, dtype=dtype) if name in parked else random_tensor(name, shape, gen, dtype, device.type)
    return state


def active_params(cfg: ModelConfig) -> int:
    """Parameters one token touches in a forward pass (embedding lookup excluded)."""
    shapes = tensor_shapes(cfg)
    total = sum(torch.Size(s).numel() for s in shapes.values())
    expert = 3 * cfg.hidden_size * cfg.moe_intermediate_size
    routed_total = len(cfg.moe_layers) * cfg.n_routed_experts * expert
    routed_active = len(cfg.moe_layers) * cfg.num_experts_per_tok * expert
    return total - routed_total + routed_active - cfg.vocab_size * cfg.hidden_size


def top_kernels(run: Callable[[], Any], device: torch.device, rows: int = 12) -> List[Dict[str, Any]]:
    """torch.profiler's kernels (CUDA) or operators (CPU) of one call of `run`, by self time, largest first."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        run()
        if device.type == "cuda":
            torch.cuda.synchronize()

    def self_us(e: Any) -> float:
        if device.type != "cuda":
            return float(e.self_cpu_time_total)
        return float(getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0.0))

    events = [e for e in prof.key_averages() if self_us(e) > 0]
    total = sum(self_us(e) for e in events) or 1.0
    events.sort(key=self_us, reverse=True)
    return [{"name": e.key[:120], "calls": int(e.count), "self_ms": round(self_us(e) / 1000, 3), "share": round(self_us(e) / total, 4)} for e in events[:rows]]


def bench_cell(cfg: ModelConfig, cell: str, args: argparse.Namespace, device: torch.device, dtype: torch.dtype,
               routing: str = "subnet", profile_below: Optional[float] = None) -> Dict[str, Any]:
    """One cell's training step at args' shape; routing: the restricted cells' mode (routing.py). With
    profile_below, a cell slower than that many tokens/s gets a torch.profiler table of one more step."""
    k, n_kept, e = args.k, args.kept, cfg.n_routed_experts
    trainable = {layer: list(range(k)) for layer in cfg.moe_layers}
    if cell == "A":
        kept, restricted = {layer: [] for layer in cfg.moe_layers}, True
    elif cell == "B":
        kept, restricted = {layer: list(range(k, k + n_kept)) for layer in cfg.moe_layers}, True
    else:
        kept, restricted = {layer: list(range(k, e)) for layer in cfg.moe_layers}, False
    resident = {layer: trainable[layer] + kept[layer] for layer in cfg.moe_layers}
    state = random_state(cfg, resident, device, dtype)
    model = build_model(cfg, state, Layout(trainable, kept, restricted), device, dtype)
    del state  # build_model stacked the experts; the per-expert originals can go
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    model.activation_checkpointing = not args.no_activation_checkpointing
    impl = set_experts_impl(model, args.experts_impl, device, dtype)
    if restricted:  # cell C routes naturally: the mode does not apply
        for moe in model.moe_layers():
            moe.routing_mode = routing
    params = [p for p in model.parameters() if p.requires_grad]
    opt = AdamW(params, (0.9, 0.95), 0.1, torch.bfloat16 if args.optimizer_state_dtype == "bf16" else torch.float32, torch.Generator(device=device).manual_seed(1))
    gen = torch.Generator(device=device).manual_seed(2)
    ids = torch.randint(0, cfg.vocab_size, (args.batch, args.seq), generator=gen, device=device)
    mask = torch.ones_like(ids, dtype=torch.uint8)
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times: List[float] = []
    trainable_share: List[float] = []

    def train_step() -> torch.Tensor:
        loss, _ = lm_loss(model, ids, mask, args.ce_chunk)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step(1e-5)
        for p in params:
            p.grad = None
        return loss

    for step in range(args.warmup + args.steps):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        loss = train_step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step >= args.warmup:
            times.append(time.perf_counter() - t0)
        hits = sum(int(m.experts.last_counts[m.experts.trainable_ids].sum()) for m in model.moe_layers() if m.experts.last_counts is not None)
        trainable_share.append(hits / (ids.numel() * cfg.num_experts_per_tok * len(cfg.moe_layers)))
    step_s = statistics.median(times)
    tokens_per_s = ids.numel() / step_s
    # model FLOPs per token (no recomputation counted): forward 2 x active params + attention scores,
    # backward activation gradients the same again, plus weight gradients of the routed trainable experts
    attn = 2 * 2 * cfg.num_attention_heads * (cfg.qk_head_dim + cfg.v_head_dim) * (args.seq / 2) * cfg.num_hidden_layers
    fwd = 2 * active_params(cfg) + attn
    wgrad = 2 * 3 * cfg.hidden_size * cfg.moe_intermediate_size * cfg.num_experts_per_tok * len(cfg.moe_layers) * statistics.mean(trainable_share)
    flops_per_token = 2 * fwd + wgrad
    peak = torch.cuda.max_memory_allocated() / GIB if device.type == "cuda" else None
    result = {
        "cell": cell,
        "routing": routing if cell in ("A", "B") else "natural",
        "top_k": cfg.num_experts_per_tok,
        "experts_impl": impl,
        "tokens_per_s": round(tokens_per_s, 1),
        "step_time_s": round(step_s, 4),
        "peak_gib": None if peak is None else round(peak, 2),
        "gflop_per_token": round(flops_per_token / 1e9, 2),
        "mfu": round(tokens_per_s * flops_per_token / (args.peak_tflops * 1e12), 4),
        "trainable_routing_share": round(statistics.mean(trainable_share), 3),
        "resident_params": sum(p.numel() for p in model.parameters()) + sum(b.numel() for m in model.moe_layers() for b in (m.experts.kept_gate, m.experts.kept_up, m.experts.kept_down) if b is not None),
        "trainable_params": sum(p.numel() for p in params),
        "final_loss": round(float(loss), 4),
    }
    if profile_below is not None and tokens_per_s < profile_below:
        result["top_kernels"] = top_kernels(train_step, device)
    del model, opt, params
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return result


def setup(argv: Optional[List[str]] = None) -> Tuple[argparse.Namespace, ModelConfig, torch.device, torch.dtype]:
    """The bench's arguments, model config, device and dtype (bench/gpu/check builds its cells from these)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=os.path.join(ROOT, "packages/trainer/worker/configs/deepseek-v2-lite.json"))
    p.add_argument("--cells", default="A,B,C")
    p.add_argument("--routing", default="subnet", choices=["subnet", "renormalized"], help="restricted routing of cells A and B")
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--kept", type=int, default=16)
    p.add_argument("--seq", type=int, default=2048)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--ce-chunk", type=int, default=4096)
    p.add_argument("--experts-impl", default="auto", choices=["auto", "grouped_mm", "segments"])
    p.add_argument("--optimizer-state-dtype", default="bf16", choices=["bf16", "fp32"])
    p.add_argument("--no-activation-checkpointing", action="store_true")
    p.add_argument("--peak-tflops", type=float, default=989.0, help="dense bf16 peak for MFU (H100 SXM and H200: 989)")
    p.add_argument("--out", default=os.path.join(ROOT, "bench/results/trainer-h100.json"))
    p.add_argument("--smoke", action="store_true", help="tiny config on the CPU in fp32; writes no results file")
    args = p.parse_args(argv)
    if args.smoke:
        args.k, args.kept, args.seq, args.batch, args.warmup, args.steps, args.ce_chunk = 2, 2, 64, 2, 1, 2, 32
        return args, parse_config(dict(TINY_CONFIG)), torch.device("cpu"), torch.float32
    if not torch.cuda.is_available():
        sys.exit("train_bench: no CUDA GPU (use --smoke for a CPU check of the script)")
    with open(args.config, "r", encoding="utf-8") as f:
        cfg = parse_config(json.load(f))
    return args, cfg, torch.device("cuda"), torch.bfloat16


def main() -> None:
    args, cfg, device, dtype = setup()
    results = []
    for cell in args.cells.split(","):
        r = bench_cell(cfg, cell.strip(), args, device, dtype, args.routing)
        print(json.dumps(r), flush=True)
        results.append(r)
    by = {r["cell"]: r for r in results}
    checks = {}
    if "A" in by:
        checks["A_tokens_per_s>=26000"] = by["A"]["tokens_per_s"] >= 26000
        if by["A"]["peak_gib"] is not None:
            checks["A_peak_gib<=24"] = by["A"]["peak_gib"] <= 24
        for c in ("B", "C"):
            if c in by:
                checks[f"{c}_tokens_per_s>=0.9xA"] = by[c]["tokens_per_s"] >= 0.9 * by["A"]["tokens_per_s"]
    summary = {
        "bench": "trainer",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu (smoke)",
        "torch": torch.__version__,
        "grouped_mm_available": hasattr(torch, "_grouped_mm"),
        "setup": {"seq_len": args.seq, "sequences_per_step": args.batch, "k": args.k, "kept": args.kept,
                  "activation_checkpointing": not args.no_activation_checkpointing, "dtype": str(dtype).replace("torch.", ""),
                  "optimizer_state_dtype": args.optimizer_state_dtype, "ce_chunk_tokens": args.ce_chunk,
                  "timed_steps": args.steps, "warmup_steps": args.warmup, "peak_tflops_for_mfu": args.peak_tflops},
        "cells": results,
        "targets_met": checks,
    }
    print(json.dumps({"targets_met": checks}), flush=True)
    if not args.smoke:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        tmp = args.out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
        os.replace(tmp, args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
