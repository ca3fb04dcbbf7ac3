"""Greedy generation speed of the eval worker at DeepSeek-V2-Lite shapes (random bf16 weights).

What the eval worker runs (worker/generate.py: MLA latent KV cache, grouped-GEMM experts, natural routing):
~900-token prompts (850-950, random ids), 256 new tokens each with no stop sequence, batch 64.
Run on the GPU machine from the repository root:
    python3 bench/eval-generate.py            # writes bench/results/eval-generate-h100.json
    /usr/bin/python3 bench/eval-generate.py --smoke   # tiny config on the CPU: checks the script runs
Target: >= 2,500 new tokens/s (transformers' generate: 250-330; reading the weights once per decode step
bounds it near 10,000).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Dict, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "packages", "trainer"))

import torch  # noqa: E402

from worker.config import parse_config  # noqa: E402
from worker.fixture import TINY_CONFIG  # noqa: E402
from worker.generate import generate_batch  # noqa: E402
from worker.infer import RopeTable  # noqa: E402
from worker.model import Layout, build_model, random_tensor, tensor_shapes  # noqa: E402
from worker.train import hardware_info, set_experts_impl  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "bench", "trainer"))
from train_bench import top_kernels  # noqa: E402

GIB = 1024**3
TARGET = 2500


def lite_config() -> Dict[str, Any]:
    with open(os.path.join(ROOT, "packages", "trainer", "worker", "configs", "deepseek-v2-lite.json"), encoding="utf-8") as f:
        return json.load(f)


def measure(raw: Dict[str, Any], device: torch.device, dtype: torch.dtype, batch: int, prompt: int, new: int, repeats: int,
            profile_below: Optional[float] = None) -> Dict[str, Any]:
    """Greedy generation of `batch` rows (prompt +-50 random tokens each, `new` tokens) with random weights; with
    profile_below, a run slower than that many new tokens/s gets a torch.profiler table of one more run."""
    cfg = parse_config(raw)
    gen = torch.Generator(device=device).manual_seed(0)
    t0 = time.perf_counter()
    state = {name: random_tensor(name, shape, gen, dtype, device.type) for name, shape in tensor_shapes(cfg).items()}
    model = build_model(cfg, state, Layout.all_frozen(cfg), device, dtype)
    del state
    model.eval()
    impl = set_experts_impl(model, "auto", device, dtype)
    if device.type == "cuda":
        torch.cuda.empty_cache()
    print(f"model built in {time.perf_counter() - t0:.1f} s · experts {impl}", file=sys.stderr)

    g = torch.Generator().manual_seed(1)
    spread = min(50, prompt - 1)
    lengths = torch.randint(prompt - spread, prompt + spread + 1, (batch,), generator=g).tolist()
    prompts = [torch.randint(0, cfg.vocab_size, (n,), generator=g).tolist() for n in lengths]
    token_bytes = [b"\x00"] * cfg.vocab_size  # no stop sequence can match: every row runs to the limit
    rope = RopeTable(cfg, device)

    def run(n_new: int = new) -> float:
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = generate_batch(model, rope, prompts, n_new, token_bytes, [], [], prefill_rows=16)
        if device.type == "cuda":
            torch.cuda.synchronize()
        assert all(len(o.tokens) == n_new for o in out), "every row must generate the full budget"
        return time.perf_counter() - start

    run()  # warm-up: kernels, allocator, rope table
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = [run() for _ in range(repeats)]
    prefill_s = run(1)  # prefill alone (same prompts, one new token) to separate it from decoding
    best = min(times)
    new_tokens = batch * new
    result = {
        "bench": "eval-generate",
        "what": "worker/generate.py greedy generation, MLA latent KV cache, natural routing over all experts",
        "batch": batch,
        "prompt_tokens_mean": sum(lengths) / len(lengths),
        "new_tokens_per_row": new,
        "experts_impl": impl,
        "seconds": best,
        "seconds_all": times,
        "new_tokens_per_s": new_tokens / best,
        "prefill_seconds": prefill_s,
        "decode_new_tokens_per_s": new_tokens / max(best - prefill_s, 1e-9),
        "peak_gib": torch.cuda.max_memory_allocated() / GIB if device.type == "cuda" else None,
        "target_new_tokens_per_s": TARGET,
        "hardware": hardware_info(device.type),
    }
    if profile_below is not None and result["new_tokens_per_s"] < profile_below:
        result["top_kernels"] = top_kernels(lambda: run(min(new, 16)), device)  # the prefill and 16 decode steps
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--smoke", action="store_true", help="tiny config on the CPU (checks the script, measures nothing)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--prompt", type=int, default=900)
    p.add_argument("--new", type=int, default=256)
    p.add_argument("--repeats", type=int, default=2, help="timed runs after one warm-up; the best is reported")
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "eval-generate-h100.json"))
    a = p.parse_args()
    if a.smoke:
        raw, device, dtype = dict(TINY_CONFIG), torch.device("cpu"), torch.float32
        a.batch, a.prompt, a.new, a.repeats = 4, 40, 8, 1
    else:
        if not torch.cuda.is_available():
            sys.exit("eval-generate: needs a CUDA GPU (use --smoke on the CPU)")
        raw, device, dtype = lite_config(), torch.device("cuda"), torch.bfloat16
    result = measure(raw, device, dtype, a.batch, a.prompt, a.new, a.repeats)
    result["config"] = "smoke (tiny config, CPU)" if a.smoke else "DeepSeek-V2-Lite shapes, random bf16 weights"
    result["meets_target"] = None if a.smoke else result["new_tokens_per_s"] >= TARGET
    print(json.dumps(result))
    print(f"{result['new_tokens_per_s']:,.0f} new tokens/s (target {TARGET:,}) · prefill {result['prefill_seconds']:.2f} s · total {result['seconds']:.2f} s", file=sys.stderr)
    if not a.smoke:
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
