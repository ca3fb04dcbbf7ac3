"""DeepSeek-V2 family causal LM (MLA attention, yarn rope, dense first layers, MoE with shared experts).

Tensor names follow the original checkpoints (model.layers.{i}.self_attn.q_proj.weight, ...,
model.layers.{i}.mlp.experts.{e}.gate_proj.weight). Routed experts of each MoE layer are split into
trainable (nn.Parameters, stacked), kept (frozen buffers on the device, stacked) and parked (CPU tensors
held outside the module tree, so .to(device) never moves them). See routing.py for the restriction.
"""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from .config import ModelConfig, yarn_mscale
from .moe import HAS_GROUPED_MM, ExpertStack, expert_counts, routed_experts  # noqa: F401 (HAS_GROUPED_MM: train.py reads it here)
from .routing import Routing, route, routable_mask

TORCH_VERSION = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2])
HAS_SDPA_SCALE = TORCH_VERSION >= (2, 1) and hasattr(F, "scaled_dot_product_attention")

ExpertWeights = Tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # gate [I, H], up [I, H], down [H, I]
EXPERT_PARTS = ("gate_proj", "up_proj", "down_proj")
# deepseek-ai's modeling_deepseek.py builds the latent norms (q_a_layernorm, kv_a_layernorm) with the RMSNorm
# default eps 1e-6, not config.rms_norm_eps (the two are equal in DeepSeek-V2 and V2-Lite's configs)
LATENT_NORM_EPS = 1e-6


def expert_name(layer: int, expert: int, part: str) -> str:
    return f"model.layers.{layer}.mlp.experts.{expert}.{part}.weight"


def _linear(n_in: int, n_out: int) -> nn.Linear:
    # meta: no memory and no random init; real tensors are assigned by load_state
    return nn.Linear(n_in, n_out, bias=False, device="meta")


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(size, device="meta"))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)


def rope_inv_freq(cfg: ModelConfig) -> Tuple[torch.Tensor, float]:
    """Inverse frequencies [rope_dim / 2] and the cos/sin scale, with yarn when the config asks for it."""
    dim, base = cfg.qk_rope_head_dim, cfg.rope_theta
    pos = torch.arange(0, dim, 2, dtype=torch.float32) / dim
    extra = 1.0 / (base**pos)
    y = cfg.rope_scaling
    if y is None:
        return extra, 1.0
    inter = 1.0 / (y.factor * base**pos)

    def correction_dim(rotations: float) -> float:
        return (dim * math.log(y.original_max_position_embeddings / (rotations * 2 * math.pi))) / (2 * math.log(base))

    low = max(math.floor(correction_dim(y.beta_fast)), 0)
    high = min(math.ceil(correction_dim(y.beta_slow)), dim - 1)
    if low == high:
        high += 0.001  # avoid a division by zero, as the reference does
    ramp = ((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low)).clamp(0, 1)
    extra_mask = 1.0 - ramp
    inv_freq = inter * (1 - extra_mask) + extra * extra_mask
    scale = yarn_mscale(y.factor, y.mscale) / yarn_mscale(y.factor, y.mscale_all_dim)
    return inv_freq, scale


def rope_cos_sin(cfg: ModelConfig, seq_len: int, device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    inv_freq, scale = rope_inv_freq(cfg)
    freqs = torch.outer(torch.arange(seq_len, dtype=torch.float32), inv_freq).to(device)
    return freqs.cos() * scale, freqs.sin() * scale


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotates interleaved pairs (x0, x1), (x2, x3), ... of the last dim; x [B, h, T, d], cos/sin [T, d/2].

    The reference permutes to (evens, odds) before rotating; applying the same permutation to q and k
    leaves every q.k product, hence the attention, unchanged.
    """
    xf = x.float().reshape(*x.shape[:-1], -1, 2)
    x0, x1 = xf[..., 0], xf[..., 1]
    out = torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)
    return out.to(x.dtype)


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float) -> torch.Tensor:
    if HAS_SDPA_SCALE:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale)
    t = q.shape[-2]
    scores = torch.matmul(q, k.transpose(-1, -2)).float() * scale
    future = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1)
    probs = scores.masked_fill(future, float("-inf")).softmax(dim=-1).to(v.dtype)
    return torch.matmul(probs, v)


class Attention(nn.Module):
    """Multi-head latent attention, with or without the low-rank query (q_lora_rank)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        h, n = cfg.hidden_size, cfg.num_attention_heads
        if cfg.q_lora_rank is None:
            self.q_proj = _linear(h, n * cfg.qk_head_dim)
        else:
            self.q_a_proj = _linear(h, cfg.q_lora_rank)
            self.q_a_layernorm = RMSNorm(cfg.q_lora_rank, LATENT_NORM_EPS)
            self.q_b_proj = _linear(cfg.q_lora_rank, n * cfg.qk_head_dim)
        self.kv_a_proj_with_mqa = _linear(h, cfg.kv_lora_rank + cfg.qk_rope_head_dim)
        self.kv_a_layernorm = RMSNorm(cfg.kv_lora_rank, LATENT_NORM_EPS)
        self.kv_b_proj = _linear(cfg.kv_lora_rank, n * (cfg.qk_nope_head_dim + cfg.v_head_dim))
        self.o_proj = _linear(n * cfg.v_head_dim, h)
        self.scale = cfg.qk_head_dim**-0.5
        if cfg.rope_scaling is not None and cfg.rope_scaling.mscale_all_dim:
            m = yarn_mscale(cfg.rope_scaling.factor, cfg.rope_scaling.mscale_all_dim)
            self.scale *= m * m

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        c = self.cfg
        b, t, _ = x.shape
        n, nope, rope, vd = c.num_attention_heads, c.qk_nope_head_dim, c.qk_rope_head_dim, c.v_head_dim
        q = self.q_proj(x) if c.q_lora_rank is None else self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x)))
        q_nope, q_pe = q.view(b, t, n, c.qk_head_dim).transpose(1, 2).split([nope, rope], dim=-1)
        latent, k_pe = self.kv_a_proj_with_mqa(x).split([c.kv_lora_rank, rope], dim=-1)
        k_pe = k_pe.view(b, t, 1, rope).transpose(1, 2)
        kv = self.kv_b_proj(self.kv_a_layernorm(latent)).view(b, t, n, nope + vd).transpose(1, 2)
        k_nope, v = kv.split([nope, vd], dim=-1)
        q_pe, k_pe = apply_rope(q_pe, cos, sin), apply_rope(k_pe, cos, sin)
        q = torch.cat((q_nope, q_pe), dim=-1)
        k = torch.cat((k_nope, k_pe.expand(b, n, t, rope)), dim=-1)
        out = causal_attention(q, k, v.contiguous(), self.scale)
        return self.o_proj(out.transpose(1, 2).reshape(b, t, n * vd))


class MLP(nn.Module):
    def __init__(self, hidden: int, inter: int) -> None:
        super().__init__()
        self.gate_proj = _linear(hidden, inter)
        self.up_proj = _linear(hidden, inter)
        self.down_proj = _linear(inter, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Experts(nn.Module):
    """Routed experts of one MoE layer in the trainable / kept / parked layout."""

    def __init__(self, cfg: ModelConfig, layer: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.layer = layer
        self.trainable_ids: List[int] = []
        self.kept_ids: List[int] = []
        self.parked: Dict[int, ExpertWeights] = {}  # plain dict: not registered, never moved by .to()
        self.impl = "auto"  # moe.py's grouped_mm / segments / loop; train.set_experts_impl sets it per model
        self.restricted = False
        self.last_counts: Optional[torch.Tensor] = None  # tokens per global expert in the last forward
        for prefix in ("trainable", "kept"):
            for part in ("gate", "up", "down"):
                self.register_buffer(f"{prefix}_{part}", None, persistent=False)
        self.register_buffer("slot", None, persistent=False)
        self.register_buffer("routable", None, persistent=False)

    @property
    def resident_ids(self) -> List[int]:
        return self.trainable_ids + self.kept_ids

    def set_layout(self, weights: Dict[int, ExpertWeights], trainable: List[int], kept: List[int], restricted: bool, device: torch.device, dtype: torch.dtype) -> None:
        """Stacks trainable experts as Parameters and kept ones as buffers on `device`; the rest stay in CPU memory."""
        e = self.cfg.n_routed_experts
        self.trainable_ids, self.kept_ids = list(trainable), list(kept)
        self.restricted = restricted

        def stack(ids: List[int], part: int) -> Optional[torch.Tensor]:
            if not ids:
                return None
            return torch.stack([weights[i][part].to(device=device, dtype=dtype) for i in ids])

        for name in ("trainable_gate", "trainable_up", "trainable_down"):
            self._buffers.pop(name, None)
            self._parameters.pop(name, None)
        for part, name in enumerate(("gate", "up", "down")):
            t = stack(self.trainable_ids, part)
            if t is None:
                self.register_buffer(f"trainable_{name}", None, persistent=False)
            else:
                self.register_parameter(f"trainable_{name}", nn.Parameter(t, requires_grad=True))
            setattr(self, f"kept_{name}", stack(self.kept_ids, part))
        resident = set(self.resident_ids)
        self.parked = {i: weights[i] for i in range(e) if i not in resident}
        slot = torch.full((e,), -1, dtype=torch.long)
        for s, i in enumerate(self.resident_ids):
            slot[i] = s
        self.slot = slot.to(device)
        self.routable = routable_mask(e, self.resident_ids, device)

    def expert_weights(self, expert: int) -> ExpertWeights:
        """The current weights of one expert, wherever it lives."""
        if expert in self.parked:
            return self.parked[expert]
        if expert in self.trainable_ids:
            s = self.trainable_ids.index(expert)
            return (self.trainable_gate[s], self.trainable_up[s], self.trainable_down[s])  # type: ignore[index]
        s = self.kept_ids.index(expert)
        return (self.kept_gate[s], self.kept_up[s], self.kept_down[s])  # type: ignore[index]

    def stacks(self) -> List[ExpertStack]:
        """The resident experts as moe.py's stacks: trainable in slots [0, K), kept after them."""
        out = []
        if self.trainable_ids:
            out.append(ExpertStack(self.trainable_gate, self.trainable_up, self.trainable_down, 0))  # type: ignore[arg-type]
        if self.kept_ids:
            out.append(ExpertStack(self.kept_gate, self.kept_up, self.kept_down, len(self.trainable_ids)))  # type: ignore[arg-type]
        return out

    def forward(self, x: torch.Tensor, routing: Routing) -> torch.Tensor:
        self.last_counts = expert_counts(routing.experts, self.cfg.n_routed_experts).detach()
        return routed_experts(x, routing.weights, routing.experts, self.slot, self.stacks(), self.impl)  # type: ignore[arg-type]


class MoEGate(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(cfg.n_routed_experts, cfg.hidden_size, device="meta"))


class MoE(nn.Module):
    def __init__(self, cfg: ModelConfig, layer: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.gate = MoEGate(cfg)
        self.experts = Experts(cfg, layer)
        self.shared_experts = MLP(cfg.hidden_size, cfg.moe_intermediate_size * cfg.n_shared_experts) if cfg.n_shared_experts else None
        self.record_routing = False  # expert scoring reads last_routing; training does not hold on to it
        self.last_routing: Optional[Routing] = None
        # restricted routing (cells A and B): "subnet" or "renormalized" (routing.py), and experts per token
        # (None: num_experts_per_tok, clamped to the resident count); train.py sets both per run
        self.routing_mode = "subnet"
        self.top_k: Optional[int] = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, h = x.shape
        flat = x.reshape(-1, h)
        ex = self.experts
        mask = ex.routable if ex.restricted else None
        k = self.top_k if self.top_k is not None else min(self.cfg.num_experts_per_tok, len(ex.resident_ids)) if ex.restricted else None
        routing = route(flat, self.gate.weight, self.cfg, mask, k, self.routing_mode)
        y = ex(flat, routing)
        if self.shared_experts is not None:
            y = y + self.shared_experts(flat)
        self.last_routing = routing if self.record_routing else None
        return y.view(b, t, h)


class DecoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig, layer: int) -> None:
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp: nn.Module = MoE(cfg, layer) if cfg.is_moe_layer(layer) else MLP(cfg.hidden_size, cfg.intermediate_size)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class Backbone(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size, device="meta")
        self.layers = nn.ModuleList([DecoderLayer(cfg, i) for i in range(cfg.num_hidden_layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


class DeepseekV2(nn.Module):
    """The causal LM. forward(ids) returns final hidden states; logits and loss are computed from them."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.model = Backbone(cfg)
        self.lm_head = _linear(cfg.hidden_size, cfg.vocab_size)
        self.activation_checkpointing = False

    def moe_layers(self) -> List[MoE]:
        return [layer.mlp for layer in self.model.layers if isinstance(layer.mlp, MoE)]  # type: ignore[union-attr]

    def experts_of(self, layer: int) -> Experts:
        mlp = self.model.layers[layer].mlp
        if not isinstance(mlp, MoE):
            raise ValueError(f"layer {layer} is not an MoE layer")
        return mlp.experts

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        cos, sin = rope_cos_sin(self.cfg, ids.shape[1], ids.device)
        x = self.model.embed_tokens(ids)
        for layer in self.model.layers:
            if self.activation_checkpointing and torch.is_grad_enabled():
                x = checkpoint(layer, x, cos, sin, use_reentrant=False)
            else:
                x = layer(x, cos, sin)
        return self.model.norm(x)

    def logits(self, ids: torch.Tensor) -> torch.Tensor:
        return F.linear(self(ids), self.lm_head.weight).float()


def _chunk_loss(hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(F.linear(hidden, weight).float(), targets, ignore_index=-100, reduction="sum")


def lm_loss(model: DeepseekV2, ids: torch.Tensor, mask: torch.Tensor, chunk: int) -> Tuple[torch.Tensor, int]:
    """Mean next-token cross-entropy over positions whose target token has mask 1, and that count.

    The vocabulary projection runs in chunks of `chunk` tokens, each recomputed in backward, so the
    fp32 logits of the whole batch are never held at once.
    """
    hidden = model(ids)[:, :-1].reshape(-1, model.cfg.hidden_size)
    targets = ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100).reshape(-1)
    n = int((targets != -100).sum())
    if n == 0:
        raise ValueError("batch has no target token with loss mask 1")
    total = hidden.new_zeros((), dtype=torch.float32)
    w = model.lm_head.weight
    for start in range(0, hidden.shape[0], chunk):
        h, tg = hidden[start : start + chunk], targets[start : start + chunk]
        if torch.is_grad_enabled() and hidden.requires_grad:
            total = total + checkpoint(_chunk_loss, h, w, tg, use_reentrant=False)
        else:
            total = total + _chunk_loss(h, w, tg)
    return total / n, n


class Layout:
    """Per MoE layer: trainable and kept expert ids; restricted = the router masks everything else."""

    def __init__(self, trainable: Dict[int, List[int]], kept: Dict[int, List[int]], restricted: bool) -> None:
        self.trainable = trainable
        self.kept = kept
        self.restricted = restricted

    @staticmethod
    def all_frozen(cfg: ModelConfig) -> "Layout":
        """Every expert resident and frozen, natural routing: evaluation, scoring, parity."""
        return Layout({}, {layer: list(range(cfg.n_routed_experts)) for layer in cfg.moe_layers}, restricted=False)


def build_model(cfg: ModelConfig, state: Dict[str, torch.Tensor], layout: Layout, device: torch.device, dtype: torch.dtype) -> DeepseekV2:
    """The model with weights from `state` (original tensor names); only trainable experts require grad."""
    model = DeepseekV2(cfg)
    for full_name, param in list(model.named_parameters()):
        source = "model.embed_tokens.weight" if full_name == "lm_head.weight" and cfg.tie_word_embeddings and "lm_head.weight" not in state else full_name
        tensor = state.get(source)
        if tensor is None:
            raise KeyError(f"checkpoint has no tensor {source!r}")
        if tuple(tensor.shape) != tuple(param.shape):
            raise ValueError(f"checkpoint tensor {source!r} has shape {list(tensor.shape)}; the config needs {list(param.shape)}")
        module_name, _, attr = full_name.rpartition(".")
        module = model.get_submodule(module_name)
        module._parameters[attr] = nn.Parameter(tensor.to(device=device, dtype=dtype), requires_grad=False)
    for layer in cfg.moe_layers:
        weights: Dict[int, ExpertWeights] = {}
        for e in range(cfg.n_routed_experts):
            parts = []
            for part, shape in zip(EXPERT_PARTS, ((cfg.moe_intermediate_size, cfg.hidden_size),) * 2 + ((cfg.hidden_size, cfg.moe_intermediate_size),)):
                name = expert_name(layer, e, part)
                t = state.get(name)
                if t is None:
                    raise KeyError(f"checkpoint has no tensor {name!r}")
                if tuple(t.shape) != shape:
                    raise ValueError(f"checkpoint tensor {name!r} has shape {list(t.shape)}; the config needs {list(shape)}")
                parts.append(t)
            weights[e] = (parts[0], parts[1], parts[2])
        model.experts_of(layer).set_layout(weights, layout.trainable.get(layer, []), layout.kept.get(layer, []), layout.restricted, device, dtype)
    return model


def tensor_shapes(cfg: ModelConfig) -> Dict[str, Tuple[int, ...]]:
    """Name and shape of every tensor of a checkpoint of this config (for fixtures and benchmarks)."""
    model = DeepseekV2(cfg)
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    if cfg.tie_word_embeddings:
        shapes.pop("lm_head.weight", None)
    h, i = cfg.hidden_size, cfg.moe_intermediate_size
    for layer in cfg.moe_layers:
        for e in range(cfg.n_routed_experts):
            shapes[expert_name(layer, e, "gate_proj")] = (i, h)
            shapes[expert_name(layer, e, "up_proj")] = (i, h)
            shapes[expert_name(layer, e, "down_proj")] = (h, i)
    return shapes


def random_tensor(name: str, shape: Tuple[int, ...], generator: torch.Generator, dtype: torch.dtype, device: str = "cpu") -> torch.Tensor:
    """Norm weights 1, everything else N(0, 0.02) (DeepSeek's initializer_range)."""
    if name.endswith("layernorm.weight") or name.endswith("norm.weight"):
        return torch.ones(shape, dtype=dtype, device=device)
    return (torch.randn(shape, generator=generator, device=device) * 0.02).to(dtype)
