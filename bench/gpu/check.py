"""The GPU check of the trainer and the eval worker: one command, one JSON, at most 8 minutes on one H200.

    bench/gpu/check                 # GPU machine: writes bench/results/gpu-check-<UTC date>.json
    bench/gpu/check --smoke         # CPU, tiny shapes, the same code paths (part of the trainer's tests)

Sections, each in its own process with its own time limit (a crash, an out-of-memory or a hung kernel is
recorded in the JSON and the next section still runs), under one overall budget:
  env         torch, CUDA, torch._grouped_mm, transformers
  dispatch    worker/moe.py: grouped GEMM vs the per-expert loop, forward and backward, with experts that
              receive no token; no host synchronisation in a MoE layer's forward, recompute and backward
  cell        cells A, B (routing subnet and renormalized) and C at DeepSeek-V2-Lite shapes, seq 2048 x 4,
              random weights (bench/trainer/train_bench.py): tokens/s, peak GiB, MFU
  selection   ESFT expert scoring at DeepSeek-V2-Lite shapes (worker/select.py): peak GiB
  generation  eval generation at batch 64 (bench/eval-generate.py): new tokens/s
  parity      logits against transformers' DeepseekV2ForCausalLM (worker/parity.py): small random config in
              fp32 and bf16, DeepSeek-V2-Lite shapes (4 layers) in bf16, with the yarn mscale^2 diagnosis
A section below its target gets a torch.profiler table of its top kernels. Targets: A >= 26,000 tokens/s,
B and C >= 0.9 x A, A <= 24 GiB including selection, parity bf16 < 1e-2 relative, generation >= 2,500 new
tokens/s. Exit status 1 when a section fails or a correctness check (agreement, host sync, parity) does not hold;
a throughput or memory figure below its target is reported, not an error.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "packages", "trainer"))
sys.path.insert(0, os.path.join(ROOT, "bench", "trainer"))

import torch  # noqa: E402

GIB = 1024**3
RESULT_MARK = "CHECK-RESULT "
TARGETS = {"A_tokens_per_s": 26000, "B_C_share_of_A": 0.9, "A_peak_gib_incl_selection": 24, "parity_bf16": 1e-2,
           "generation_new_tokens_per_s": 2500}
AGREE_BF16 = 1e-2  # grouped GEMM vs the loop, both bf16: relative error of outputs and gradients
AGREE_FP32 = 1e-5


# ---- sections (each runs in a child process; returns a JSON-able dict) ----

def _device(smoke: bool) -> Tuple[torch.device, torch.dtype]:
    if smoke:
        return torch.device("cpu"), torch.float32
    if not torch.cuda.is_available():
        raise RuntimeError("no CUDA device (use --smoke on a CPU)")
    return torch.device("cuda"), torch.bfloat16


def section_env(p: Dict[str, Any], smoke: bool) -> Dict[str, Any]:
    from worker.moe import HAS_GROUPED_MM

    out: Dict[str, Any] = {"torch": torch.__version__, "cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available(),
                           "grouped_mm": HAS_GROUPED_MM, "python": sys.version.split()[0]}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        out.update(device=props.name, capability=f"{props.major}.{props.minor}", memory_gib=round(props.total_memory / GIB, 1))
    for mod in ("transformers", "safetensors"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:
            out[mod] = None
    return out


def _dispatch_case(t: int, h: int, i: int, e: int, k: int, n_train: int, empty: List[int], device: torch.device, dtype: torch.dtype, seed: int) -> Tuple[Any, ...]:
    """Random tokens routed top-k over every expert but those in resident slots `empty` (they get no token), a few
    tokens repeating their first expert at weight 0 (as restricted routing fills a slot it cannot use); experts in
    slots [0, n_train) form the trainable stack, the rest the kept one, in a shuffled id order."""
    from worker.moe import ExpertStack

    g = torch.Generator(device="cpu").manual_seed(seed)
    order = torch.randperm(e, generator=g)  # order[s]: the expert id in slot s
    slot = torch.empty(e, dtype=torch.long)
    slot[order] = torch.arange(e)
    scores = torch.rand(t, e, generator=g)
    scores[:, order[torch.tensor(empty)]] = -1.0
    experts = scores.topk(k, dim=-1).indices
    weights = torch.rand(t, k, generator=g)
    experts[::7, -1] = experts[::7, 0]
    weights[::7, -1] = 0.0

    def stack(ids: torch.Tensor, first: int, train: bool) -> Any:
        n = ids.numel()
        parts = [torch.randn(n, i, h, generator=g) * 0.02, torch.randn(n, i, h, generator=g) * 0.02, torch.randn(n, h, i, generator=g) * 0.02]
        return ExpertStack(*[q.to(device=device, dtype=dtype).requires_grad_(train) for q in parts], first=first)

    stacks = [stack(order[:n_train], 0, True), stack(order[n_train:], n_train, False)]
    x = torch.randn(t, h, generator=g).to(device=device, dtype=dtype).requires_grad_(True)
    return x, weights.to(device).requires_grad_(True), experts.to(device), slot.to(device), stacks, empty


def _forward_backward(impl: str, case: Tuple[Any, ...]) -> Dict[str, torch.Tensor]:
    from worker.moe import routed_experts

    x, weights, experts, slot, stacks, _ = case
    out = routed_experts(x, weights, experts, slot, stacks, impl)
    probe = torch.linspace(-1, 1, out.numel(), device=out.device).view_as(out)
    trainable = stacks[0]
    grads = torch.autograd.grad((out.float() * probe).sum(), [x, weights, trainable.gate_GIH, trainable.up_GIH, trainable.down_GHI])
    return {"out": out.detach(), "grad_x": grads[0], "grad_weights": grads[1], "grad_gate": grads[2], "grad_up": grads[3], "grad_down": grads[4]}


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.float(), b.float()
    return float((a - b).norm() / b.norm().clamp_min(1e-30))


def _agreement(impl: str, case: Tuple[Any, ...], limit: float) -> Dict[str, Any]:
    got, ref = _forward_backward(impl, case), _forward_backward("loop", case)
    errors = {name: _relative(got[name], ref[name]) for name in got}
    empty_slots = [s for s in case[5] if s < case[4][0].gate_GIH.shape[0]]  # empty experts in the trainable stack
    empty_grad_zero = all(bool((got[name][s] == 0).all()) for s in empty_slots for name in ("grad_gate", "grad_up", "grad_down"))
    return {"impl": impl, "versus": "loop", "tokens": int(case[0].shape[0]), "relative_errors": errors, "limit": limit,
            "empty_trainable_slots": empty_slots, "empty_experts_zero_grad": empty_grad_zero,
            "ok": all(v < limit for v in errors.values()) and empty_grad_zero}


def _time_ms(fn: Callable[[], Any], device: torch.device, repeats: int = 3) -> float:
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return round(sorted(times)[len(times) // 2] * 1000, 3)


def _sync_free(run: Callable[[], Callable[[], None]], device: torch.device, runs: int = 2) -> Dict[str, Any]:
    """run() does a forward and returns its backward. CUDA: sync debug mode "error" around both (the recompute
    under checkpointing included); CPU: worker.moe.HostReads entered inside the (checkpointed) function, which
    must run `runs` times (forward, and the recompute when checkpointed)."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            run()()
            return {"probe": "torch.cuda.set_sync_debug_mode('error')", "ok": True}
        except RuntimeError as e:
            return {"probe": "torch.cuda.set_sync_debug_mode('error')", "ok": False, "error": str(e).splitlines()[0][:300]}
        finally:
            torch.cuda.set_sync_debug_mode(0)
    _PROBED[0] = 0
    os.environ["CHECK_HOST_READS"] = "1"
    try:
        backward = run()
        backward()
    finally:
        os.environ.pop("CHECK_HOST_READS", None)
    reads = _HOST_READS_SEEN[:]
    _HOST_READS_SEEN.clear()
    return {"probe": "worker.moe.HostReads (torch function mode) in forward and recompute", "host_reads": reads, "runs": _PROBED[0], "ok": not reads and _PROBED[0] == runs}


_HOST_READS_SEEN: List[str] = []
_PROBED = [0]


def _probed(fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """fn under worker.moe.HostReads when CHECK_HOST_READS is set (counts how many times it ran: forward + recompute)."""
    from worker.moe import HostReads

    def wrapped(*args: Any) -> torch.Tensor:
        if not os.environ.get("CHECK_HOST_READS"):
            return fn(*args)
        _PROBED[0] += 1
        with HostReads() as mode:
            out = fn(*args)
        _HOST_READS_SEEN.extend(mode.host_reads())
        return out

    return wrapped


def _moe_layer(device: torch.device, dtype: torch.dtype, routing: str) -> Tuple[Any, Any]:
    """The first MoE layer of a random PARITY_CONFIG model (dims the grouped kernel takes) in cell B's layout."""
    from worker.config import parse_config
    from worker.model import Layout, build_model, random_tensor, tensor_shapes
    from worker.parity import PARITY_CONFIG
    from worker.train import set_experts_impl

    cfg = parse_config(dict(PARITY_CONFIG))
    gen = torch.Generator(device="cpu").manual_seed(3)
    state = {name: random_tensor(name, shape, gen, torch.float32) for name, shape in tensor_shapes(cfg).items()}
    layers = cfg.moe_layers
    model = build_model(cfg, state, Layout({l: [0, 1, 2, 3] for l in layers}, {l: [4, 5, 6, 7, 8, 9] for l in layers}, True), device, dtype)
    set_experts_impl(model, "auto", device, dtype)
    moe = model.moe_layers()[0]
    moe.routing_mode = routing
    return cfg, moe


def section_dispatch(p: Dict[str, Any], smoke: bool) -> Dict[str, Any]:
    from torch.utils.checkpoint import checkpoint

    from worker.moe import HAS_GROUPED_MM, routed_experts

    device, dtype = _device(smoke)
    out: Dict[str, Any] = {}
    if smoke:
        shape = dict(h=32, i=16, e=8, k=2, n_train=3, empty=[1, 5])
        out["agreement"] = [_agreement("segments", _dispatch_case(t=64, device=device, dtype=dtype, seed=0, **shape), AGREE_FP32)]  # type: ignore[arg-type]
        big = _dispatch_case(t=64, device=device, dtype=dtype, seed=1, **shape)  # type: ignore[arg-type]
        grouped = "segments"
    else:
        # DeepSeek-V2-Lite's experts: 64 of 2048 -> 1408, top-6; 8 trainable, 56 kept; 3 experts get no token
        shape = dict(h=2048, i=1408, e=64, k=6, n_train=8, empty=[2, 40, 41])
        grouped = "grouped_mm" if HAS_GROUPED_MM else "segments"
        big = _dispatch_case(t=4096, device=device, dtype=dtype, seed=1, **shape)  # type: ignore[arg-type]
        out["agreement"] = [_agreement(grouped, big, AGREE_BF16),
                            _agreement("segments", _dispatch_case(t=256, device=device, dtype=dtype, seed=0, **shape), AGREE_BF16)]  # type: ignore[arg-type]
    out["forward_backward_ms"] = {impl: _time_ms(lambda impl=impl: _forward_backward(impl, big), device) for impl in (grouped, "loop")}
    x, weights, experts, slot, stacks, _ = big

    def experts_only() -> Callable[[], None]:
        fn = _probed(lambda x_, w_: routed_experts(x_, w_, experts, slot, stacks, grouped))
        y = checkpoint(fn, x, weights, use_reentrant=False)
        return lambda: y.float().square().sum().backward()

    def experts_plain() -> Callable[[], None]:
        y = _probed(lambda x_, w_: routed_experts(x_, w_, experts, slot, stacks, grouped))(x, weights)
        return lambda: y.float().square().sum().backward()

    # without and with activation checkpointing, so a sync of checkpoint's own (RNG state) is told apart
    out["no_host_sync"] = {"routed_experts": _sync_free(experts_plain, device, runs=1),
                           "routed_experts_checkpointed": _sync_free(experts_only, device)}
    for routing in ("subnet", "renormalized"):
        cfg, moe = _moe_layer(device, dtype, routing)
        hidden = torch.randn(2, 64, cfg.hidden_size, device=device, dtype=dtype, requires_grad=True)

        def layer(moe: Any = moe, hidden: torch.Tensor = hidden) -> Callable[[], None]:
            y = checkpoint(_probed(moe), hidden, use_reentrant=False)
            return lambda: y.float().square().sum().backward()

        out["no_host_sync"][f"moe_layer_{routing}"] = _sync_free(layer, device)
    out["ok"] = all(a["ok"] for a in out["agreement"]) and all(v["ok"] for v in out["no_host_sync"].values())
    return out


def section_cell(p: Dict[str, Any], smoke: bool) -> Dict[str, Any]:
    import train_bench

    args, cfg, device, dtype = train_bench.setup(["--smoke"] if smoke else [])
    result = train_bench.bench_cell(cfg, p["cell"], args, device, dtype, p["routing"], profile_below=p.get("profile_below"))
    result["setup"] = {"seq_len": args.seq, "sequences_per_step": args.batch, "k": args.k, "kept": args.kept,
                       "activation_checkpointing": not args.no_activation_checkpointing, "timed_steps": args.steps,
                       "peak_tflops_for_mfu": args.peak_tflops}
    return result


def section_selection(p: Dict[str, Any], smoke: bool) -> Dict[str, Any]:
    """Expert scoring as a cell runs it before training (train.score_experts), from random weights."""
    import train_bench
    from worker.data import PackedData
    from worker.model import EXPERT_PARTS, expert_name, random_tensor, tensor_shapes
    from worker.train import score_experts

    _, cfg, device, dtype = train_bench.setup(["--smoke"] if smoke else [])
    gen = torch.Generator(device="cpu").manual_seed(0)
    shapes = tensor_shapes(cfg)
    # every routed expert shares one random tensor per part: the parked copies cost no host memory, and scoring
    # still moves each expert to the device as its own tensor
    shared = {part: random_tensor(part, shapes[expert_name(cfg.moe_layers[0], 0, part)], gen, dtype) for part in EXPERT_PARTS}
    experts = {expert_name(layer, e, part): shared[part] for layer in cfg.moe_layers for e in range(cfg.n_routed_experts) for part in EXPERT_PARTS}
    state = {name: experts[name] if name in experts else random_tensor(name, shape, gen, dtype) for name, shape in shapes.items()}
    seq, tokens, batch_size = (64, 256, 2) if smoke else (2048, 131072, 4)
    ids = torch.randint(0, cfg.vocab_size, (tokens // seq, seq), generator=gen)
    data = PackedData(ids=ids, mask=torch.ones_like(ids, dtype=torch.uint8))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    spec = argparse.Namespace(experts_impl="auto", score_tokens=tokens, batch_size=batch_size)  # the fields scoring reads
    scores = score_experts(cfg, state, data, spec, device, dtype)  # type: ignore[arg-type]
    if device.type == "cuda":
        torch.cuda.synchronize()
    return {"method": "worker.train.score_experts (streams each layer's experts, worker/select.py)", "score_tokens": scores.tokens, "seconds": round(time.perf_counter() - t0, 2),
            "peak_gib": round(torch.cuda.max_memory_allocated() / GIB, 2) if device.type == "cuda" else None,
            "layers_scored": len(scores.gate)}


def section_generation(p: Dict[str, Any], smoke: bool) -> Dict[str, Any]:
    from worker.fixture import TINY_CONFIG

    spec = importlib.util.spec_from_file_location("eval_generate", os.path.join(ROOT, "bench", "eval-generate.py"))
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    device, dtype = _device(smoke)
    if smoke:
        return bench.measure(dict(TINY_CONFIG), device, dtype, 4, 40, 8, 1, profile_below=p.get("profile_below"))
    # one timed run after the warm-up (eval-generate.py alone takes the best of two): the budget holds a slow one too
    return bench.measure(bench.lite_config(), device, dtype, 64, 900, 256, 1, profile_below=p.get("profile_below"))


def section_parity(p: Dict[str, Any], smoke: bool) -> Dict[str, Any]:
    try:
        import transformers  # noqa: F401
    except ImportError:
        return {"status": "skipped", "reason": "skipped: transformers not installed"}
    from worker import parity

    device, _ = _device(smoke)
    small_a, small_b, *lite = parity.random_checkpoints(None if smoke else 4)
    dtypes = [torch.float32] if smoke else [torch.float32, torch.bfloat16]
    runs = [(d, dt) for d in (small_a, small_b) for dt in dtypes] + [(d, torch.bfloat16) for d in lite]
    comparisons = [parity.compare(d, device.type, dt, 256) for d, dt in runs]
    return {"comparisons": comparisons, "ok": all(c["ok"] for c in comparisons)}


SECTIONS: Dict[str, Callable[[Dict[str, Any], bool], Dict[str, Any]]] = {
    "env": section_env, "dispatch": section_dispatch, "cell": section_cell, "selection": section_selection,
    "generation": section_generation, "parity": section_parity,
}


def run_child(name: str, params: Dict[str, Any], smoke: bool) -> None:
    t0 = time.perf_counter()
    try:
        result = SECTIONS[name](params, smoke)
        result.setdefault("status", "ok")
    except Exception as e:  # recorded in the JSON; the parent goes on with the next section
        result = {"status": "failed", "error": f"{type(e).__name__}: {e}"[:2000], "traceback": traceback.format_exc()[-3000:]}
    result["seconds"] = round(time.perf_counter() - t0, 2)
    print(RESULT_MARK + json.dumps(result, default=str), flush=True)


# ---- the parent: plan, run each section in a child under its limit, write the JSON after each ----

def plan(smoke: bool) -> List[Tuple[str, str, int, Dict[str, Any]]]:
    """(key in the JSON, section, time limit in seconds, parameters). Cells after A get their profile threshold
    from A's measured figure when the parent runs them."""
    cells = [("cell_A_subnet", "A", "subnet"), ("cell_A_renormalized", "A", "renormalized"), ("cell_B_subnet", "B", "subnet"),
             ("cell_B_renormalized", "B", "renormalized"), ("cell_C", "C", "natural")]
    return ([("env", "env", 60, {}), ("dispatch", "dispatch", 90, {})]
            + [(key, "cell", 75, {"cell": cell, "routing": routing}) for key, cell, routing in cells]
            + [("selection", "selection", 90, {}), ("generation", "generation", 150, {}), ("parity", "parity", 180, {})])


def profile_threshold(key: str, params: Dict[str, Any], sections: Dict[str, Any], smoke: bool) -> Optional[float]:
    if smoke:
        return math.inf  # profile every time: the smoke run goes through the profiler's code path too
    if key == "generation":
        return TARGETS["generation_new_tokens_per_s"]
    if params.get("cell") == "A":
        return TARGETS["A_tokens_per_s"]
    a = sections.get(f"cell_A_{params.get('routing') if params.get('cell') == 'B' else 'subnet'}", {})
    return TARGETS["B_C_share_of_A"] * float(a.get("tokens_per_s") or TARGETS["A_tokens_per_s"])


def run_section(section: str, params: Dict[str, Any], limit: float, smoke: bool) -> Dict[str, Any]:
    cmd = [sys.executable, os.path.abspath(__file__), "--section", section, "--params", json.dumps(params)] + (["--smoke"] if smoke else [])
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return {"status": "timeout", "limit_s": round(limit, 1), "stderr_tail": err[-1500:]}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    return {"status": "failed", "error": f"the section's process exited with status {proc.returncode} and no result",
            "stderr_tail": proc.stderr[-1500:], "seconds": round(time.perf_counter() - t0, 2)}


def targets(sections: Dict[str, Any], smoke: bool) -> Dict[str, Any]:
    """Each target: met (true/false), or null when its figures are missing or (smoke) not meaningful on a CPU."""
    def cell(key: str) -> Optional[Dict[str, Any]]:
        s = sections.get(key, {})
        return s if s.get("status") == "ok" else None

    out: Dict[str, Any] = {}
    for mode in ("subnet", "renormalized"):
        a, b = cell(f"cell_A_{mode}"), cell(f"cell_B_{mode}")
        out[f"A_{mode}_tokens_per_s>=26000"] = None if smoke or a is None else a["tokens_per_s"] >= TARGETS["A_tokens_per_s"]
        out[f"B_{mode}_tokens_per_s>=0.9xA_{mode}"] = None if smoke or a is None or b is None else b["tokens_per_s"] >= 0.9 * a["tokens_per_s"]
    a, c = cell("cell_A_subnet"), cell("cell_C")
    out["C_tokens_per_s>=0.9xA_subnet"] = None if smoke or a is None or c is None else c["tokens_per_s"] >= 0.9 * a["tokens_per_s"]
    peaks = [s["peak_gib"] for s in (cell("cell_A_subnet"), cell("cell_A_renormalized"), cell("selection")) if s and s.get("peak_gib") is not None]
    out["A_peak_gib_incl_selection<=24"] = None if smoke or len(peaks) < 3 else max(peaks) <= TARGETS["A_peak_gib_incl_selection"]
    gen = cell("generation")
    out["generation_new_tokens_per_s>=2500"] = None if smoke or gen is None else gen["new_tokens_per_s"] >= TARGETS["generation_new_tokens_per_s"]
    par = cell("parity")
    bf16 = [c for c in (par or {}).get("comparisons", []) if c["dtype"] == "bfloat16"]
    out["parity_bf16<1e-2"] = None if not bf16 else all(c["relative_error"] < TARGETS["parity_bf16"] for c in bf16)
    out["parity_all_within_limits"] = None if par is None else par["ok"]
    disp = cell("dispatch")
    out["grouped_vs_loop_agree_incl_empty_experts"] = None if disp is None else all(x["ok"] for x in disp["agreement"])
    out["no_host_sync_in_moe_layer"] = None if disp is None else all(v["ok"] for v in disp["no_host_sync"].values())
    return out


def write_json(path: str, doc: Dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, default=str)
        f.write("\n")
    os.replace(tmp, path)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="CPU, tiny shapes: the same code paths, no figures")
    p.add_argument("--out", help="the JSON to write (default: bench/results/gpu-check-<UTC date>.json; with --smoke a temporary file)")
    p.add_argument("--budget", type=float, default=470.0, help="seconds for every section together (default 470: under 8 minutes)")
    p.add_argument("--only", help="comma-separated JSON keys of the sections to run (default: all)")
    p.add_argument("--section", help=argparse.SUPPRESS)
    p.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.section:
        run_child(a.section, json.loads(a.params), a.smoke)
        return 0
    if not a.smoke and not torch.cuda.is_available():
        print("bench/gpu/check: no CUDA device here; run it on the GPU machine, or --smoke for the CPU run", file=sys.stderr)
        return 2
    out = a.out or (os.path.join(tempfile.mkdtemp(prefix="gpu-check-smoke-"), "gpu-check-smoke.json") if a.smoke else
                    os.path.join(ROOT, "bench", "results", f"gpu-check-{time.strftime('%Y-%m-%d', time.gmtime())}.json"))
    only = set(a.only.split(",")) if a.only else None
    start = time.perf_counter()
    doc: Dict[str, Any] = {"check": "bench/gpu/check", "smoke": a.smoke, "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           "budget_s": a.budget, "targets_wanted": TARGETS, "sections": {}}
    for key, section, limit, params in plan(a.smoke):
        if only is not None and key not in only:
            continue
        left = a.budget - (time.perf_counter() - start)
        if left < 10:
            doc["sections"][key] = {"status": "skipped", "reason": f"out of time: {left:.0f} s of the {a.budget:.0f} s budget left"}
        else:
            if section in ("cell", "generation"):
                params = {**params, "profile_below": profile_threshold(key, params, doc["sections"], a.smoke)}
            doc["sections"][key] = run_section(section, params, min(limit, left), a.smoke)
        status = doc["sections"][key]["status"]
        print(f"{key}: {status} ({doc['sections'][key].get('seconds', '-')} s)", file=sys.stderr, flush=True)
        doc["elapsed_s"] = round(time.perf_counter() - start, 1)
        write_json(out, doc)  # after every section: a killed run keeps what it measured
    doc["targets_met"] = targets(doc["sections"], a.smoke)
    doc["elapsed_s"] = round(time.perf_counter() - start, 1)
    write_json(out, doc)
    print(f"wrote {out}", file=sys.stderr)
    failed = [k for k, s in doc["sections"].items() if s["status"] not in ("ok", "skipped")]
    wrong = [k for k in ("parity_all_within_limits", "grouped_vs_loop_agree_incl_empty_experts", "no_host_sync_in_moe_layer") if doc["targets_met"][k] is False]
    if failed or wrong:
        print(f"failed sections: {failed}; correctness checks not met: {wrong}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
