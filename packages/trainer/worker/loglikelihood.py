"""Loglikelihoods of continuations: one forward over context + continuation per request.

A request is the joint token sequence and how many of its last tokens are the continuation (the caller
encodes context + continuation together and counts, as the harness does). The result is the sum of the
continuation tokens' log-probabilities (natural log, fp32 log-softmax over the vocabulary) and whether each
was the argmax at its position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

import torch

from .infer import RopeTable, forward_prefill, lm_logits
from .model import DeepseekV2


@dataclass
class LoglikelihoodRequest:
    tokens: List[int]
    continuation: int  # the last `continuation` tokens are scored


@dataclass
class Loglikelihood:
    logprob: float
    is_greedy: bool


@torch.no_grad()
def score_batch(model: DeepseekV2, rope: RopeTable, requests: Sequence[LoglikelihoodRequest]) -> List[Loglikelihood]:
    """Right-padded batch; position i predicts token i + 1, so the continuation's tokens [L - c, L) are
    predicted by positions [L - c - 1, L - 1). Only those positions go through the vocabulary projection."""
    for r in requests:
        if not (1 <= r.continuation < len(r.tokens)):
            raise ValueError(f"continuation must count between 1 and len(tokens) - 1 tokens, got {r.continuation} of {len(r.tokens)}")
    device = model.lm_head.weight.device
    width = max(len(r.tokens) for r in requests)
    ids = torch.zeros(len(requests), width, dtype=torch.long)
    valid = torch.zeros(len(requests), width, dtype=torch.bool)
    for i, r in enumerate(requests):
        ids[i, : len(r.tokens)] = torch.tensor(r.tokens, dtype=torch.long)
        valid[i, : len(r.tokens)] = True
    ids, valid = ids.to(device), valid.to(device)
    hidden = forward_prefill(model, rope, ids, valid, None)
    out: List[Loglikelihood] = []
    for i, r in enumerate(requests):
        length, c = len(r.tokens), r.continuation
        logprobs = torch.log_softmax(lm_logits(model, hidden[i, length - c - 1 : length - 1]), dim=-1)
        targets = ids[i, length - c : length]
        picked = logprobs.gather(1, targets.unsqueeze(1)).squeeze(1)
        greedy = bool((logprobs.argmax(dim=-1) == targets).all())
        out.append(Loglikelihood(float(picked.double().sum()), greedy))
    return out


def loglikelihoods(
    model: DeepseekV2,
    rope: RopeTable,
    requests: Sequence[LoglikelihoodRequest],
    batch_size: int,
    on_progress: Optional[Callable[[int, int], None]] = None,
) -> List[Loglikelihood]:
    """All requests, longest first in batches of `batch_size`; results in input order."""
    order = sorted(range(len(requests)), key=lambda i: -len(requests[i].tokens))
    results: List[Optional[Loglikelihood]] = [None] * len(requests)
    done = 0
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        for i, res in zip(idx, score_batch(model, rope, [requests[i] for i in idx])):
            results[i] = res
        done += len(idx)
        if on_progress is not None:
            on_progress(done, len(requests))
    return [r for r in results if r is not None]
