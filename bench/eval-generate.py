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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "packages", "trainer"))

import torch  # noqa: E402

from worker.config import parse_config  # noqa: E402
from worker.fixture import TINY_CONFIG  # noqa: E402
from worker.generate import generate_batch  # noqa: E402
from worker.infer import RopeTable  # noqa: E402
from worker.model import Layout, build_model, random_tensor, tensor_shapes  # noqa: E402
from worker.train import hardware_info, set_experts_impl  # noqa: E402

GIB = 1024**3
TARGET = 2500


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
        with open(os.path.join(ROOT, "packages", "trainer", "worker", "configs", "deepseek-v2-lite.json"), encoding="utf-8") as f:
            raw = json.load(f)
        if not torch.cuda.is_available():
            sys.exit("eval-generate: needs a CUDA GPU (use --smoke on the CPU)")
        device, dtype = torch.device("cuda"), torch.bfloat16
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
    lengths = torch.randint(a.prompt - 50, a.prompt + 51, (a.batch,), generator=g).tolist() if not a.smoke else [a.prompt] * a.batch
    prompts = [torch.randint(0, cfg.vocab_size, (n,), generator=g).tolist() for n in lengths]
    token_bytes = [b"\x00"] * cfg.vocab_size  # no stop sequence can match: every row runs to the limit
    rope = RopeTable(cfg, device)

    def run() -> float:
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = generate_batch(model, rope, prompts, a.new, token_bytes, [], [], prefill_rows=16)
        if device.type == "cuda":
            torch.cuda.synchronize()
        assert all(len(o.tokens) == a.new for o in out), "every row must generate the full budget"
        return time.perf_counter() - start

    run()  # warm-up: kernels, allocator, rope table
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = [run() for _ in range(a.repeats)]
    # prefill alone (same prompts, one new token) to separate it from decoding
    if device.type == "cuda":
        torch.cuda.synchronize()
    s = time.perf_counter()
    generate_batch(model, rope, prompts, 1, token_bytes, [], [], prefill_rows=16)
    if device.type == "cuda":
        torch.cuda.synchronize()
    prefill_s = time.perf_counter() - s
    best = min(times)
    new_tokens = a.batch * a.new
    result = {
        "bench": "eval-generate",
        "what": "worker/generate.py greedy generation, MLA latent KV cache, natural routing over all experts",
        "config": "smoke (tiny config, CPU)" if a.smoke else "DeepSeek-V2-Lite shapes, random bf16 weights",
        "batch": a.batch,
        "prompt_tokens_mean": sum(lengths) / len(lengths),
        "new_tokens_per_row": a.new,
        "experts_impl": impl,
        "seconds": best,
        "seconds_all": times,
        "new_tokens_per_s": new_tokens / best,
        "prefill_seconds": prefill_s,
        "decode_new_tokens_per_s": new_tokens / max(best - prefill_s, 1e-9),
        "peak_gib": torch.cuda.max_memory_allocated() / GIB if device.type == "cuda" else None,
        "target_new_tokens_per_s": TARGET,
        "meets_target": None if a.smoke else new_tokens / best >= TARGET,
        "hardware": hardware_info(device.type),
    }
    print(json.dumps(result))
    print(f"{result['new_tokens_per_s']:,.0f} new tokens/s (target {TARGET:,}) · prefill {prefill_s:.2f} s · total {best:.2f} s", file=sys.stderr)
    if not a.smoke:
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
