"""Training loop: expert selection, the layout of the cell, AdamW on the trainable experts, records."""

from __future__ import annotations

import math
import os
import platform
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

import torch

from . import checkpoint as ckpt
from .config import ModelConfig, load_config
from .data import PackedData, batch, batch_indices, load_packed, scoring_sample
from .model import HAS_GROUPED_MM, DeepseekV2, Layout, build_model, lm_loss, tensor_shapes
from .protocol import Emitter, TrainSpec
from .routing import ExpertScores, check_expert_ids, resident_count_ok, select_kept, select_top_k, select_top_p
from .safetensors_io import SafetensorsError, load_checkpoint
from .select import stream_expert_scores


class WorkerError(Exception):
    """A failure reported to the launcher as an `error` message with this code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32}


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise WorkerError("no_gpu", "spec.device is 'cuda' but torch sees no CUDA GPU on this machine (use device 'cpu' for a CPU run)")
    return torch.device("cuda", torch.cuda.current_device()) if name == "cuda" else torch.device("cpu")


def hardware_info(device_name: str) -> Dict[str, Any]:
    cuda = device_name == "cuda" and torch.cuda.is_available()
    props = torch.cuda.get_device_properties(0) if cuda else None
    return {
        "device": "cuda" if cuda else "cpu",
        "device_name": props.name if props is not None else (platform.processor() or platform.machine()),
        "gpu_memory_total_bytes": int(props.total_memory) if props is not None else None,
        "torch_version": torch.__version__,
        "cuda_version": torch.version.cuda,
        "python_version": sys.version.split()[0],
        "cpu_count": os.cpu_count() or 0,
        "grouped_mm": HAS_GROUPED_MM,
        "platform": platform.platform(),
    }


def stochastic_round_bf16(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """fp32 -> bf16 rounding up or down with probability by distance: unbiased, so updates far below
    bf16's resolution (lr 1e-5 on weights ~1e-2) still move the weights on average."""
    noise = torch.randint(0, 1 << 16, x.shape, generator=generator, device=x.device, dtype=torch.int32)
    return ((x.view(torch.int32) + noise) & -65536).view(torch.float32).to(torch.bfloat16)


class AdamW:
    """AdamW with moments stored in a chosen dtype; the arithmetic runs in fp32 per tensor."""

    def __init__(self, params: List[torch.nn.Parameter], betas: Tuple[float, float], weight_decay: float, state_dtype: torch.dtype, generator: torch.Generator, eps: float = 1e-8) -> None:
        self.params = params
        self.betas = betas
        self.weight_decay = weight_decay
        self.eps = eps
        self.generator = generator
        self.t = 0
        self.m = [torch.zeros_like(p, dtype=state_dtype) for p in params]
        self.v = [torch.zeros_like(p, dtype=state_dtype) for p in params]

    @torch.no_grad()
    def step(self, lr: float) -> None:
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            g = p.grad.float()
            m32 = m.float().mul_(b1).add_(g, alpha=1 - b1)
            v32 = v.float().mul_(b2).addcmul_(g, g, value=1 - b2)
            m.copy_(m32)
            v.copy_(v32)
            p32 = p.float().mul_(1 - lr * self.weight_decay)
            p32.addcdiv_(m32, (v32 / c2).sqrt_().add_(self.eps), value=-lr / c1)
            p.copy_(stochastic_round_bf16(p32, self.generator) if p.dtype == torch.bfloat16 else p32)

    def state_dict(self) -> Dict[str, Any]:
        return {"t": self.t, "m": [x.cpu() for x in self.m], "v": [x.cpu() for x in self.v]}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.t = int(state["t"])
        for dst, src in zip(self.m + self.v, state["m"] + state["v"]):
            dst.copy_(src)


def learning_rate(spec: TrainSpec, step: int) -> float:
    """Linear warmup over warmup_steps, then constant, or cosine down to 10% of lr at the last step."""
    if step < spec.warmup_steps:
        return spec.lr * (step + 1) / spec.warmup_steps
    if spec.schedule == "constant":
        return spec.lr
    span = max(1, spec.steps - spec.warmup_steps)
    progress = min(1.0, (step - spec.warmup_steps) / span)
    return spec.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def check_selection_fits(spec: TrainSpec, cfg: ModelConfig) -> None:
    """Errors that need only the config, raised before any weight is read."""
    sel, e = spec.experts, cfg.n_routed_experts
    if sel.method == "top_k" and sel.k is not None and sel.k + spec.kept > e:
        raise WorkerError("bad_experts", f"spec.experts.k + spec.kept = {sel.k} + {spec.kept} exceeds the model's {e} routed experts per layer")
    if sel.method == "explicit" and sel.experts is not None:
        try:
            check_expert_ids(sel.experts, cfg, "spec.experts")
        except ValueError as err:
            raise WorkerError("bad_experts", str(err)) from err
        for layer, ids in sel.experts.items():
            if len(ids) + spec.kept > e:
                raise WorkerError("bad_experts", f"spec.experts layer {layer}: {len(ids)} trainable + {spec.kept} kept exceeds the {e} routed experts")
        if spec.cell in ("A", "B"):
            missing = [layer for layer in cfg.moe_layers if not sel.experts.get(layer) and spec.kept == 0]
            if missing:
                raise WorkerError("bad_experts", f"spec.experts lists no expert for MoE layer(s) {missing}; cell {spec.cell} routes only to resident experts, so each MoE layer needs at least one")
    if spec.top_k is not None and spec.top_k > e:
        raise WorkerError("bad_spec", f"spec.top_k {spec.top_k} exceeds the model's {e} routed experts per layer")
    if spec.experts_impl == "grouped_mm" and not HAS_GROUPED_MM:
        raise WorkerError("bad_spec", f"spec.experts_impl is 'grouped_mm' but torch {torch.__version__} has no torch._grouped_mm; use 'auto' or 'segments'")


@torch.no_grad()
def score_experts(cfg: ModelConfig, state: Dict[str, torch.Tensor], data: PackedData, spec: TrainSpec, device: torch.device, dtype: torch.dtype) -> ExpertScores:
    """ESFT's gate and token scores with natural routing over all experts, on the first score_tokens tokens.

    Every routed expert stays in CPU memory and streams through the device one layer at a time (select.py), so
    selection fits the memory of the cell it feeds."""
    model = _build(cfg, state, Layout({}, {}, restricted=False), device, dtype)
    set_experts_impl(model, spec.experts_impl, device, dtype)
    scores = stream_expert_scores(model, data, scoring_sample(data, spec.score_tokens), spec.batch_size, device, dtype)
    del model
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return scores


def choose_layout(spec: TrainSpec, cfg: ModelConfig, scores: Optional[ExpertScores]) -> Layout:
    sel = spec.experts
    if sel.method == "explicit":
        assert sel.experts is not None
        trainable = {layer: sorted(sel.experts.get(layer, [])) for layer in cfg.moe_layers}
    else:
        assert scores is not None
        table = scores.gate if sel.method == "esft_gate" or (sel.method == "top_k" and sel.score == "gate") else scores.token
        trainable = select_top_k(table, sel.k) if sel.method == "top_k" else select_top_p(table, sel.top_p or 1.0)  # type: ignore[arg-type]
    if spec.cell == "C":
        kept = {layer: [e for e in range(cfg.n_routed_experts) if e not in trainable.get(layer, [])] for layer in cfg.moe_layers}
        return Layout(trainable, kept, restricted=False)
    kept = {}
    if spec.cell == "B":
        assert scores is not None
        kept = select_kept(scores.token, trainable, spec.kept)
        short = [layer for layer in cfg.moe_layers if len(kept.get(layer, [])) < spec.kept]
        if short:
            raise WorkerError("bad_experts", f"cell B: K + N exceeds the {cfg.n_routed_experts} routed experts in layer(s) {short}")
    ok, why = resident_count_ok(trainable, kept, cfg)
    if not ok:
        raise WorkerError("bad_experts", why)
    return Layout(trainable, kept, restricted=True)


def layout_from_config(expert_cfg: Dict[str, Any], spec: TrainSpec, cfg: ModelConfig) -> Layout:
    trainable = {int(k): [int(e) for e in v] for k, v in expert_cfg["experts"].items()}
    kept = {int(k): [int(e) for e in v] for k, v in expert_cfg.get("kept_experts", {}).items()}
    if spec.cell == "C":
        kept = {layer: [e for e in range(cfg.n_routed_experts) if e not in trainable.get(layer, [])] for layer in cfg.moe_layers}
    return Layout(trainable, kept, restricted=spec.cell != "C")


def set_routing(model: DeepseekV2, spec: TrainSpec, restricted: bool) -> Dict[str, Any]:
    """Sets the training forward's routing mode and experts per token; returns what ready records.

    A restricted layer with fewer resident experts than k gets k = its resident count (the subnet's router would
    fill the extra slots with non-allowed experts, which its partial model skips: the same forward), reported as
    clamped. A token never reaches a parked expert."""
    k = spec.top_k if spec.top_k is not None else model.cfg.num_experts_per_tok
    clamped: Dict[str, int] = {}
    for moe in model.moe_layers():
        moe.routing_mode = spec.routing
        moe.top_k = min(k, len(moe.experts.resident_ids)) if restricted else k
        if moe.top_k < k:
            clamped[str(moe.experts.layer)] = moe.top_k
    return {"mode": spec.routing if restricted else "natural", "top_k": k, "clamped": clamped}


def set_experts_impl(model: DeepseekV2, impl: str, device: torch.device, dtype: torch.dtype) -> str:
    """grouped_mm where torch has it and the hardware kernel applies (CUDA, bf16), else the segment loop."""
    chosen = impl
    if impl == "auto":
        chosen = "grouped_mm" if HAS_GROUPED_MM and device.type == "cuda" and dtype == torch.bfloat16 else "segments"
    for moe in model.moe_layers():
        moe.experts.impl = chosen
    return chosen


def _read_weights(model_dir: str) -> Dict[str, torch.Tensor]:
    try:
        return load_checkpoint(model_dir)
    except SafetensorsError as e:
        raise WorkerError("bad_checkpoint", str(e)) from e


def _build(cfg: ModelConfig, state: Dict[str, torch.Tensor], layout: Layout, device: torch.device, dtype: torch.dtype) -> DeepseekV2:
    try:
        return build_model(cfg, state, layout, device, dtype)
    except (KeyError, ValueError) as e:
        raise WorkerError("bad_checkpoint", str(e).strip('"')) from e


def _gpu_mem(device: torch.device) -> Tuple[Optional[int], Optional[int]]:
    if device.type != "cuda":
        return None, None
    return int(torch.cuda.memory_allocated(device)), int(torch.cuda.max_memory_allocated(device))


def _run_inputs(spec: TrainSpec) -> Tuple[torch.device, torch.dtype, ModelConfig, PackedData]:
    """The device, dtype, model config and data of a run, the selection checked against the model first."""
    device = resolve_device(spec.device)
    cfg = load_config(spec.model_dir)
    check_selection_fits(spec, cfg)
    return device, DTYPES[spec.dtype], cfg, load_packed(spec.data, cfg.vocab_size)


def run_select(spec: TrainSpec, out: Emitter) -> None:
    """Resolves spec.experts to explicit ids per MoE layer (what run_train would train) without training."""
    device, dtype, cfg, data = _run_inputs(spec)
    scores: Optional[ExpertScores] = None
    if spec.experts.method != "explicit":
        scores = score_experts(cfg, _read_weights(spec.model_dir), data, spec, device, dtype)
    layout = choose_layout(spec, cfg, scores)
    out.emit("done", command="select", result={
        "experts": {str(k): v for k, v in sorted(layout.trainable.items())},
        "scores": None if scores is None else {"tokens": scores.tokens, "gate": {str(k): v for k, v in scores.gate.items()}, "token": {str(k): v for k, v in scores.token.items()}},
    })


def run_train(spec: TrainSpec, out: Emitter) -> None:
    device, dtype, cfg, data = _run_inputs(spec)
    if spec.batch_size > data.num_sequences:
        raise WorkerError("bad_spec", f"spec.batch_size {spec.batch_size} exceeds the {data.num_sequences} sequences with a target in the data ({data.dropped_rows} without one left out)")
    state = _read_weights(spec.model_dir)
    resume = ckpt.latest_checkpoint(spec.output_dir) if spec.resume else None
    train_state: Optional[Dict[str, Any]] = None
    scores: Optional[ExpertScores] = None
    if resume is not None:
        expert_cfg, _ = ckpt.read_adapter(resume[1])
        layout = layout_from_config(expert_cfg, spec, cfg)
        train_state = ckpt.load_training_state(resume[1])
    else:
        if spec.experts.method != "explicit" or spec.cell == "B":
            scores = score_experts(cfg, state, data, spec, device, dtype)
        layout = choose_layout(spec, cfg, scores)
    model = _build(cfg, state, layout, device, dtype)
    model.activation_checkpointing = spec.activation_checkpointing
    impl = set_experts_impl(model, spec.experts_impl, device, dtype)
    routing = set_routing(model, spec, layout.restricted)
    params = [p for p in model.parameters() if p.requires_grad]
    sr_gen = torch.Generator(device=device).manual_seed(spec.seed + 17)
    opt = AdamW(params, spec.betas, spec.weight_decay, DTYPES[spec.optimizer_state_dtype], sr_gen)
    expert_tokens = {moe.experts.layer: torch.zeros(cfg.n_routed_experts, dtype=torch.long) for moe in model.moe_layers()}
    start = 0
    if resume is not None and train_state is not None:
        _, tensors = ckpt.read_adapter(resume[1])
        with torch.no_grad():
            for moe in model.moe_layers():
                ex = moe.experts
                for s, e in enumerate(ex.trainable_ids):
                    for part, stack in zip(("gate_proj", "up_proj", "down_proj"), (ex.trainable_gate, ex.trainable_up, ex.trainable_down)):
                        stack[s].copy_(tensors[f"model.layers.{ex.layer}.mlp.experts.{e}.{part}.weight"])  # type: ignore[index]
        opt.load_state_dict(train_state["optimizer"])
        torch.set_rng_state(train_state["rng_cpu"])
        sr_gen.set_state(train_state["rng_sr"])
        expert_tokens = {int(k): v.clone() for k, v in train_state["expert_tokens"].items()}
        start = int(train_state["step"])
    shapes = tensor_shapes(cfg)
    total = sum(math.prod(s) for s in shapes.values())
    resident = sum(p.numel() for p in model.parameters()) + sum(b.numel() for moe in model.moe_layers() for b in (moe.experts.kept_gate, moe.experts.kept_up, moe.experts.kept_down) if b is not None)
    out.emit("ready", run={
        "cell": spec.cell,
        "start_step": start,
        "steps": spec.steps,
        "resumed_from": resume[1] if resume else None,
        "experts_impl": impl,
        "routing": routing,
        "dtype": spec.dtype,
        "device": device.type,
        "trainable": {str(k): v for k, v in sorted(layout.trainable.items())},
        "kept": {str(k): v for k, v in sorted(layout.kept.items())} if layout.restricted else {},
        "parked_per_layer": {str(m.experts.layer): len(m.experts.parked) for m in model.moe_layers()},
        "params": {"total": total, "resident": resident, "trainable": sum(p.numel() for p in params)},
        "scores": None if scores is None else {"tokens": scores.tokens, "gate": {str(k): v for k, v in scores.gate.items()}, "token": {str(k): v for k, v in scores.token.items()}},
    })
    model.train()
    loss_value = float("nan")
    for step in range(start, spec.steps):
        ids, mask = batch(data, batch_indices(step, spec.batch_size, data.num_sequences, spec.seed), device)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
        t0 = time.perf_counter()
        loss, n_targets = lm_loss(model, ids, mask, spec.ce_chunk_tokens)
        loss.backward()
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, spec.grad_clip)) if params else 0.0
        lr = learning_rate(spec, step)
        opt.step(lr)
        for p in params:
            p.grad = None
        loss_value = float(loss.detach())
        for moe in model.moe_layers():
            if moe.experts.last_counts is not None:
                expert_tokens[moe.experts.layer] += moe.experts.last_counts.cpu()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        dt = time.perf_counter() - t0
        if not math.isfinite(loss_value) or not math.isfinite(grad_norm):
            raise WorkerError("diverged", f"step {step + 1}: loss {loss_value} / grad norm {grad_norm} is not finite")
        allocated, peak = _gpu_mem(device)
        out.emit("step", step=step + 1, loss=loss_value, grad_norm=grad_norm, lr=lr, tokens=int(ids.numel()), target_tokens=n_targets,
                 tokens_per_s=ids.numel() / dt, step_time_s=dt, gpu_mem_allocated_bytes=allocated, gpu_mem_peak_bytes=peak)
        done_steps = step + 1
        if spec.checkpoint_every and done_steps % spec.checkpoint_every == 0 and done_steps < spec.steps:
            path = ckpt.step_dir(spec.output_dir, done_steps)
            ckpt.save_training_checkpoint(path, model, {
                "step": done_steps,
                "optimizer": opt.state_dict(),
                "rng_cpu": torch.get_rng_state(),
                "rng_sr": sr_gen.get_state(),
                "expert_tokens": {str(k): v for k, v in expert_tokens.items()},
            }, {"step": str(done_steps), "cell": spec.cell})
            out.emit("checkpoint", step=done_steps, path=path)
    adapter_dir = os.path.join(spec.output_dir, "adapter")
    ckpt.save_adapter(adapter_dir, model, {"step": str(spec.steps), "cell": spec.cell})
    out.emit("done", command="train", result={
        "steps": spec.steps,
        "final_loss": loss_value if math.isfinite(loss_value) else None,
        "adapter_dir": adapter_dir,
        "expert_tokens": {str(k): v.tolist() for k, v in sorted(expert_tokens.items())},
    })
