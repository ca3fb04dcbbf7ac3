"""Router of a DeepSeek-V2 MoE layer, its restriction per cell, and ESFT expert selection.

Natural routing (cell C, every evaluation, expert scoring): fp32 softmax over all routed experts, greedy or
group-limited top-k, then DeepSeek-V2's weights: with norm_topk_prob (and k > 1) the top-k weights are normalised
to sum 1, otherwise they are multiplied by routed_scaling_factor (V2 does one or the other; V3 does both).

Restricted routing (cells A and B: only the experts resident on the device are allowed) has two modes:
- "subnet", as subnet 102's miners train (Connito custom_deepseek_v2_lite.py route_tokens_to_experts): the fp32
  softmax over ALL routed experts, every non-allowed expert replaced by -1e4, top-k, weights x
  routed_scaling_factor, never renormalised (whatever norm_topk_prob says). Allowed experts keep the share of
  probability they had among all experts.
- "renormalized": the logits of non-allowed experts are -inf before the softmax, so the allowed experts'
  probabilities renormalise among themselves; then the weights as in natural routing.
Both pick the same experts per layer input (softmax is monotonic); their weights, hence the forward, differ.

A restricted token never goes to a non-allowed (parked) expert. Where top-k would pick one (the subnet's -1e4
fill when k exceeds the allowed count, or group_limited_greedy's zeroed groups), that slot gets weight 0 and the
token's best allowed expert: the subnet's partial model skips such a slot, so it adds nothing either way.
The caller clamps k to the allowed count (train.py reports the clamp).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import torch

from .config import ModelConfig

ROUTING_MODES = ("subnet", "renormalized")
# the value Connito gives non-allowed experts after the softmax (probabilities are >= 0, so top-k ranks them last)
SUBNET_PARKED_SCORE = -1e4


@dataclass
class Routing:
    weights: torch.Tensor  # [T, k] float32 combine weights
    experts: torch.Tensor  # [T, k] int64 global expert ids
    probs: torch.Tensor  # [T, E] float32 softmax probabilities (renormalized: 0 for non-allowed experts)


def _top_k(scores: torch.Tensor, cfg: ModelConfig, k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Greedy top-k of scores [T, E], or DeepSeek-V2's group-limited greedy: the topk_group groups with the
    highest best score, every other group's scores set to 0. Sorted: column 0 is each token's best pick."""
    if cfg.topk_method == "group_limited_greedy":
        t = scores.shape[0]
        group_best = scores.view(t, cfg.n_group, -1).max(dim=-1).values
        groups = torch.topk(group_best, k=cfg.topk_group, dim=-1).indices
        keep = torch.zeros_like(group_best).scatter_(1, groups, 1.0)
        keep = keep.unsqueeze(-1).expand(t, cfg.n_group, cfg.n_routed_experts // cfg.n_group).reshape(t, -1)
        scores = scores.masked_fill(keep == 0, 0.0)
    return torch.topk(scores, k=k, dim=-1)


def route(
    hidden: torch.Tensor,
    gate_weight: torch.Tensor,
    cfg: ModelConfig,
    allowed: Optional[torch.Tensor] = None,
    k: Optional[int] = None,
    mode: str = "subnet",
) -> Routing:
    """Routes hidden [T, H] with gate_weight [E, H].

    allowed: bool [E] of the experts a restricted cell may route to, or None (natural routing; mode is unused).
    k: experts per token (default num_experts_per_tok). mode: "subnet" or "renormalized" (see the module doc).
    """
    if mode not in ROUTING_MODES:
        raise ValueError(f"routing mode {mode!r}; allowed: {', '.join(ROUTING_MODES)}")
    k = cfg.num_experts_per_tok if k is None else k
    # fp32 logits and softmax, as the reference implementation computes them
    logits = torch.nn.functional.linear(hidden.float(), gate_weight.float())
    if allowed is not None and mode == "renormalized":
        logits = logits.masked_fill(~allowed, float("-inf"))
    probs = logits.softmax(dim=-1)
    scores = probs.masked_fill(~allowed, SUBNET_PARKED_SCORE) if allowed is not None and mode == "subnet" else probs
    weights, experts = _top_k(scores, cfg, k)
    if allowed is not None:
        # a slot top-k filled with a non-allowed expert or a zeroed group: weight 0, the token's best allowed expert
        valid = allowed[experts] & (weights > 0)
        experts = torch.where(valid, experts, experts[:, :1])
        weights = torch.where(valid, weights, torch.zeros_like(weights))
    if allowed is not None and mode == "subnet":
        weights = weights * cfg.routed_scaling_factor
    elif k > 1 and cfg.norm_topk_prob:
        weights = weights / (weights.sum(dim=-1, keepdim=True) + 1e-20)
    else:
        weights = weights * cfg.routed_scaling_factor
    return Routing(weights=weights, experts=experts, probs=probs)


@dataclass
class ExpertScores:
    """ESFT's per-layer expert scores, each row summing to 1 over the experts."""

    gate: Dict[int, List[float]]  # share of the summed gate probabilities
    token: Dict[int, List[float]]  # share of the top-k selections
    tokens: int


class ScoreAccumulator:
    """Collects routing statistics over a sample of the training data (natural routing)."""

    def __init__(self, n_experts: int) -> None:
        self.n_experts = n_experts
        self.gate: Dict[int, torch.Tensor] = {}
        self.count: Dict[int, torch.Tensor] = {}
        self.tokens = 0

    def add(self, layer: int, routing: Routing, mask: Optional[torch.Tensor]) -> None:
        probs, experts = routing.probs, routing.experts
        if mask is not None:  # only tokens that are trained on count
            probs, experts = probs[mask], experts[mask]
        g = probs.sum(dim=0).double().cpu()
        c = torch.bincount(experts.reshape(-1), minlength=self.n_experts).double().cpu()
        self.gate[layer] = self.gate.get(layer, torch.zeros(self.n_experts, dtype=torch.float64)) + g
        self.count[layer] = self.count.get(layer, torch.zeros(self.n_experts, dtype=torch.float64)) + c

    def result(self) -> ExpertScores:
        def share(t: torch.Tensor) -> List[float]:
            total = float(t.sum())
            return [float(x) / total if total > 0 else 0.0 for x in t.tolist()]

        return ExpertScores(
            gate={layer: share(t) for layer, t in sorted(self.gate.items())},
            token={layer: share(t) for layer, t in sorted(self.count.items())},
            tokens=self.tokens,
        )


def _ranked(scores: List[float]) -> List[int]:
    # descending score, ties broken by the lower expert id so selection is deterministic
    return sorted(range(len(scores)), key=lambda e: (-scores[e], e))


def select_top_p(scores: Dict[int, List[float]], top_p: float) -> Dict[int, List[int]]:
    """ESFT: per layer, experts in descending score until the cumulative share reaches top_p."""
    out: Dict[int, List[int]] = {}
    for layer, s in scores.items():
        chosen: List[int] = []
        total = 0.0
        for e in _ranked(s):
            chosen.append(e)
            total += s[e]
            if total >= top_p:
                break
        out[layer] = sorted(chosen)
    return out


def select_top_k(scores: Dict[int, List[float]], k: int) -> Dict[int, List[int]]:
    """A subnet shard: the k highest-scoring experts of every layer."""
    return {layer: sorted(_ranked(s)[:k]) for layer, s in scores.items()}


def select_kept(scores: Dict[int, List[float]], trainable: Dict[int, List[int]], n: int) -> Dict[int, List[int]]:
    """Cell B: the n highest-scoring experts of each layer that are not trainable."""
    out: Dict[int, List[int]] = {}
    for layer, s in scores.items():
        taken = set(trainable.get(layer, []))
        out[layer] = sorted([e for e in _ranked(s) if e not in taken][:n])
    return out


def routable_mask(n_experts: int, resident: List[int], device: torch.device) -> torch.Tensor:
    mask = torch.zeros(n_experts, dtype=torch.bool, device=device)
    if resident:
        mask[torch.tensor(resident, dtype=torch.long, device=device)] = True
    return mask


def check_expert_ids(experts: Dict[int, List[int]], cfg: ModelConfig, what: str) -> None:
    """Raises ValueError naming the layer and id when an expert config does not fit the model."""
    moe = set(cfg.moe_layers)
    for layer, ids in experts.items():
        if layer not in moe:
            raise ValueError(f"{what}: layer {layer} is not an MoE layer; MoE layers are {min(moe)}..{max(moe)}")
        for e in ids:
            if not 0 <= e < cfg.n_routed_experts:
                raise ValueError(f"{what}: layer {layer} expert id {e} is out of range 0..{cfg.n_routed_experts - 1}")
        if len(set(ids)) != len(ids):
            raise ValueError(f"{what}: layer {layer} lists an expert twice: {ids}")


def resident_count_ok(trainable: Dict[int, List[int]], kept: Dict[int, List[int]], cfg: ModelConfig) -> Tuple[bool, str]:
    for layer in cfg.moe_layers:
        n = len(trainable.get(layer, [])) + len(kept.get(layer, []))
        if n > cfg.n_routed_experts:
            return False, f"layer {layer}: K + N = {n} exceeds the {cfg.n_routed_experts} routed experts"
        if n < 1:
            return False, f"layer {layer}: no trainable or kept expert, so the restricted router has nothing to route to"
    return True, ""
