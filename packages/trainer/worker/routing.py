"""Router of a DeepSeek-V2 MoE layer, its restriction per cell, and ESFT expert selection.

Restriction (cells A and B): before the softmax, the gate logit of every expert that is not
routable in this cell (not resident on the device) is set to -inf. The softmax therefore runs over
the routable experts only: their probabilities renormalise among themselves, an unroutable expert
gets probability exactly 0 and can never be picked by top-k (top-k is always <= routable count).
Cell C and evaluation pass no mask: natural routing over all experts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import torch

from .config import ModelConfig


@dataclass
class Routing:
    weights: torch.Tensor  # [T, k] float32 combine weights (after norm_topk_prob and routed_scaling_factor)
    experts: torch.Tensor  # [T, k] int64 global expert ids
    probs: torch.Tensor  # [T, E] float32 softmax probabilities (0 for unroutable experts)


def route(hidden: torch.Tensor, gate_weight: torch.Tensor, cfg: ModelConfig, routable: Optional[torch.Tensor] = None, k: Optional[int] = None) -> Routing:
    """Softmax top-k greedy routing of hidden [T, H] with gate_weight [E, H].

    routable: bool [E] or None (natural routing). k: experts per token, default num_experts_per_tok;
    a restricted layer with fewer routable experts than top-k passes k = its routable count, so that
    top-k never picks a probability-0 (unroutable) expert.
    """
    # fp32 logits and softmax, as the reference implementation computes them
    logits = torch.nn.functional.linear(hidden.float(), gate_weight.float())
    if routable is not None:
        logits = logits.masked_fill(~routable, float("-inf"))
    probs = logits.softmax(dim=-1)
    k = cfg.num_experts_per_tok if k is None else k
    if cfg.topk_method == "group_limited_greedy":
        t = probs.shape[0]
        group_scores = probs.view(t, cfg.n_group, -1).max(dim=-1).values
        group_idx = torch.topk(group_scores, k=cfg.topk_group, dim=-1, sorted=False).indices
        group_mask = torch.zeros_like(group_scores).scatter_(1, group_idx, 1.0)
        score_mask = group_mask.unsqueeze(-1).expand(t, cfg.n_group, cfg.n_routed_experts // cfg.n_group).reshape(t, -1)
        weights, experts = torch.topk(probs.masked_fill(score_mask == 0, 0.0), k=k, dim=-1, sorted=False)
    else:
        weights, experts = torch.topk(probs, k=k, dim=-1, sorted=False)
    if k > 1 and cfg.norm_topk_prob:
        weights = weights / (weights.sum(dim=-1, keepdim=True) + 1e-20)
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
