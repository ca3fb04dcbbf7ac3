"""ESFT expert scoring that fits the cell's memory: routed experts stream through the device one layer at a time.

Scoring needs natural routing over every routed expert, but a cell keeps only a few experts per layer on the device
(all of DeepSeek-V2-Lite's routed experts are ~29 GiB in bf16). So the model is built with every routed expert parked
in CPU memory, and the scoring sample runs layer by layer: each MoE layer's experts go to the device, every batch
passes through that layer, and they leave before the next layer's come. At most one layer's experts are resident
at once, and each expert is copied to the device once.
"""

from __future__ import annotations

from typing import List, Tuple

import torch

from .data import PackedData, batch
from .model import DeepseekV2, MoE, rope_cos_sin
from .routing import ExpertScores, ScoreAccumulator


@torch.no_grad()
def stream_expert_scores(model: DeepseekV2, data: PackedData, sample: List[int], batch_size: int, device: torch.device, dtype: torch.dtype) -> ExpertScores:
    """Gate and token scores of `model` (built with every routed expert parked) over the sequences `sample`."""
    cfg = model.cfg
    acc = ScoreAccumulator(cfg.n_routed_experts)
    batches: List[Tuple[torch.Tensor, torch.Tensor]] = []
    for start in range(0, len(sample), batch_size):
        ids, mask = batch(data, sample[start : start + batch_size], device)
        batches.append((model.model.embed_tokens(ids), mask.reshape(-1) == 1))
        acc.tokens += int(batches[-1][1].sum())
    if not batches:
        return acc.result()
    cos, sin = rope_cos_sin(cfg, batches[0][0].shape[1], device)
    every = list(range(cfg.n_routed_experts))
    for layer in model.model.layers:
        moe = layer.mlp if isinstance(layer.mlp, MoE) else None
        if moe is not None:
            weights = dict(moe.experts.parked)
            moe.experts.set_layout(weights, [], every, False, device, dtype)
            moe.record_routing = True
        for i, (x, mask) in enumerate(batches):
            batches[i] = (layer(x, cos, sin), mask)
            if moe is not None:
                assert moe.last_routing is not None
                acc.add(moe.experts.layer, moe.last_routing, mask)
        if moe is not None:
            moe.record_routing = False
            moe.last_routing = None
            moe.experts.set_layout(weights, [], [], False, device, dtype)  # back to CPU memory only
    return acc.result()
