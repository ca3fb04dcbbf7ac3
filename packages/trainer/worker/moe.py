"""One MoE dispatch for training (model.py) and inference (infer.py), split like torchtitan's MoE:

    router      routing.route(): weights_TK, experts_TK (global expert ids)
    dispatcher  dispatch(): the T*K assignments sorted by resident slot; counts and offsets on the device
    experts     grouped_experts(): SwiGLU of each stack's rows, one grouped GEMM per projection
    combine     routed_experts(): each row's output times its routing weight, summed back per token in fp32

Nothing here reads a device value on the host (no .tolist(), .item(), bool(), bincount or boolean masks): the
row counts of a layer decide only offsets inside kernels, never Python control flow, so a forward, its recompute
under activation checkpointing and its backward queue kernels without waiting for the GPU. The one exception is
the "loop" reference, which reads the counts on the host; it exists to check the others.

A layer's resident experts sit in stacks (trainable Parameters, kept buffers), each covering consecutive
resident slots. Every stack gathers a fixed N = T*K rows whose first n (its own assignments, n on the device)
are real; the rest point at a zero dummy token T, so whatever a kernel leaves in rows past its last offset
(torch._grouped_mm writes only rows < offs[-1], forward and dX alike) lands in the dummy row and is dropped.
Gathers are index_select (backward: index_add), not advanced indexing, whose CUDA backward sorts the indices.

Shape suffixes: T tokens, K experts per token, N = T*K rows, E routed experts, S resident slots,
G experts of one stack, H hidden size, I expert intermediate size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, NamedTuple, Tuple

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

HAS_GROUPED_MM = hasattr(torch, "_grouped_mm")

# "grouped_mm": torch._grouped_mm (CUDA, bf16). "segments": each expert's rows padded to a fixed capacity and
# multiplied in one bmm (any device and dtype, torch 1.13). "loop": one matmul per expert with host-side counts,
# the plain reference the other two are checked against. train.set_experts_impl picks one per model ("auto"
# until then: decided per call from the activations' device and dtype).
IMPLS = ("grouped_mm", "segments", "loop")


class ExpertStack(NamedTuple):
    """G experts stacked in the checkpoint's layout, occupying resident slots [first, first + G)."""

    gate_GIH: torch.Tensor
    up_GIH: torch.Tensor
    down_GHI: torch.Tensor
    first: int


@dataclass
class Dispatch:
    """The T*K assignments sorted by resident slot. An assignment to a non-resident expert, or a token's second
    assignment to the same expert, sorts after every slot (no stack reads it)."""

    order_N: torch.Tensor  # index into the flattened [T*K] assignments of each sorted row
    counts_S: torch.Tensor  # rows per resident slot, int64
    starts_S: torch.Tensor  # first sorted row of each slot, int64
    weights_N: torch.Tensor  # combine weight of each assignment: a token's first slot of an expert carries the sum


def dispatch(experts_TK: torch.Tensor, weights_TK: torch.Tensor, slot_E: torch.Tensor, n_slots: int) -> Dispatch:
    """top-k never repeats an expert, but routing.py fills a restricted slot it cannot use with the token's best
    expert at weight 0. Merging repeats into the first slot (weights summed: the same output) keeps every expert
    at <= T rows, which bounds the segments buffer."""
    same_TKK, repeat_N = _repeats(experts_TK)
    weights_N = (same_TKK.to(weights_TK.dtype) * weights_TK.unsqueeze(1)).sum(-1).reshape(-1)
    slot_N = slot_E.index_select(0, experts_TK.reshape(-1))
    key_N = torch.where((slot_N >= 0) & ~repeat_N, slot_N, torch.full_like(slot_N, n_slots))
    order_N = torch.sort(key_N, stable=True).indices
    # scatter_add, not bincount: CUDA's bincount reads the input's max back to the host
    counts = torch.zeros(n_slots + 1, dtype=torch.long, device=key_N.device).scatter_add_(0, key_N, torch.ones_like(key_N))
    counts_S = counts[:n_slots]
    return Dispatch(order_N, counts_S, counts_S.cumsum(0) - counts_S, weights_N)


def _repeats(experts_TK: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """same[t, i, j]: slots i and j of token t name one expert; repeat_N: the slot repeats an earlier one."""
    k = experts_TK.shape[1]
    same_TKK = experts_TK.unsqueeze(2) == experts_TK.unsqueeze(1)
    earlier_KK = torch.ones(k, k, dtype=torch.bool, device=experts_TK.device).tril(-1)
    return same_TKK, (same_TKK & earlier_KK).any(-1).reshape(-1)


def expert_counts(experts_TK: torch.Tensor, n_experts: int) -> torch.Tensor:
    """Tokens per global expert [E] (int64, on the device); a token that repeats an expert counts once."""
    flat = experts_TK.reshape(-1)
    once = (~_repeats(experts_TK)[1]).long()
    return torch.zeros(n_experts, dtype=torch.long, device=flat.device).scatter_add_(0, flat, once)


def _swiglu_grouped_mm(x_NH: torch.Tensor, offs_G: torch.Tensor, s: ExpertStack) -> torch.Tensor:
    # mat_b as a transposed view: the column-major layout the grouped kernel takes without a copy
    h_NI = F.silu(torch._grouped_mm(x_NH, s.gate_GIH.transpose(-2, -1), offs=offs_G)) * torch._grouped_mm(x_NH, s.up_GIH.transpose(-2, -1), offs=offs_G)
    return torch._grouped_mm(h_NI, s.down_GHI.transpose(-2, -1), offs=offs_G)


def _swiglu_segments(x_NH: torch.Tensor, offs_G: torch.Tensor, s: ExpertStack, capacity: int) -> torch.Tensor:
    """Rows of group g go to cell [g, row - start_g] of a zero [G, capacity, H] buffer; one bmm per projection."""
    g_count, n, h = s.gate_GIH.shape[0], x_NH.shape[0], x_NH.shape[1]
    rows = torch.arange(n, device=x_NH.device, dtype=offs_G.dtype)
    group_N = torch.searchsorted(offs_G, rows, right=True)  # G for rows past the last offset
    starts_G = torch.cat((offs_G.new_zeros(1), offs_G))  # [G + 1]: start of each group, then the end
    cell_N = torch.where(group_N < g_count, group_N.long() * capacity + (rows - starts_G[group_N]).long(), torch.full_like(group_N, g_count * capacity).long())
    # a cell receives at most one row, so index_add copies it exactly; past-the-end rows pile into the spare cell
    buf = x_NH.new_zeros(g_count * capacity + 1, h).index_add(0, cell_N, x_NH)
    x_GCH = buf[:-1].view(g_count, capacity, h)
    h_GCI = F.silu(torch.bmm(x_GCH, s.gate_GIH.transpose(1, 2))) * torch.bmm(x_GCH, s.up_GIH.transpose(1, 2))
    out_GCH = torch.bmm(h_GCI, s.down_GHI.transpose(1, 2))
    return torch.cat((out_GCH.reshape(g_count * capacity, h), out_GCH.new_zeros(1, h))).index_select(0, cell_N)


def _swiglu_loop(x_NH: torch.Tensor, offs_G: torch.Tensor, s: ExpertStack) -> torch.Tensor:
    ends = offs_G.tolist()  # host read: the reference path only
    out = x_NH.new_zeros(x_NH.shape[0], s.down_GHI.shape[1])
    start = 0
    for g, end in enumerate(ends):
        if end > start:
            seg = x_NH[start:end]
            out[start:end] = F.linear(F.silu(F.linear(seg, s.gate_GIH[g])) * F.linear(seg, s.up_GIH[g]), s.down_GHI[g])
        start = end
    return out


def grouped_experts(x_NH: torch.Tensor, offs_G: torch.Tensor, stack: ExpertStack, impl: str, capacity: int) -> torch.Tensor:
    """SwiGLU of rows sorted by expert: rows [offs[g-1], offs[g]) use expert g of the stack (offs int32, inclusive
    cumulative ends). Rows past offs[-1] come back unspecified. `capacity` bounds any one group's rows (segments)."""
    if impl == "grouped_mm":
        return _swiglu_grouped_mm(x_NH, offs_G, stack)
    if impl == "segments":
        return _swiglu_segments(x_NH, offs_G, stack, capacity)
    if impl == "loop":
        return _swiglu_loop(x_NH, offs_G, stack)
    raise ValueError(f"experts impl must be one of {', '.join(IMPLS)}, not {impl!r}")


def routed_experts(x_TH: torch.Tensor, weights_TK: torch.Tensor, experts_TK: torch.Tensor, slot_E: torch.Tensor, stacks: List[ExpertStack], impl: str) -> torch.Tensor:
    """sum_k weights[t, k] * expert_{experts[t, k]}(x[t]) for every token, combined in fp32 (as the reference
    computes with its fp32 routing weights) and returned in x's dtype. slot_E maps a global expert id to its
    resident slot (-1: not resident; an assignment to it contributes nothing, and the router never makes one).
    impl: one of IMPLS, or "auto" (grouped_mm for bf16 on CUDA where torch has it, else segments)."""
    t, k = experts_TK.shape
    h = x_TH.shape[1]
    n_slots = sum(s.gate_GIH.shape[0] for s in stacks)
    d = dispatch(experts_TK, weights_TK, slot_E, n_slots)
    if impl == "auto":
        impl = "grouped_mm" if HAS_GROUPED_MM and x_TH.is_cuda and x_TH.dtype == torch.bfloat16 else "segments"
    x_pad = torch.cat((x_TH, x_TH.new_zeros(1, h)))  # row t: the dummy token
    y = torch.zeros(t + 1, h, dtype=torch.float32, device=x_TH.device)
    rows = torch.arange(t * k, device=x_TH.device)
    for s in stacks:
        g = s.gate_GIH.shape[0]
        counts_G = d.counts_S[s.first : s.first + g]
        real_N = rows < counts_G.sum()
        assignment_N = d.order_N.index_select(0, torch.where(real_N, d.starts_S[s.first] + rows, torch.zeros_like(rows)))
        token_N = torch.where(real_N, assignment_N // k, torch.full_like(assignment_N, t))
        out_NH = grouped_experts(x_pad.index_select(0, token_N), counts_G.cumsum(0).to(torch.int32), s, impl, capacity=t)
        # rows past the offsets (NaN, for all we know) add into the dummy token's row, which is dropped; their
        # weight is selected to 0, not multiplied, so no NaN reaches the router's gradient either
        w_N = torch.where(real_N, d.weights_N.index_select(0, assignment_N), torch.zeros_like(d.weights_N))
        y = y.index_add(0, token_N, out_NH.float() * w_N.unsqueeze(-1))
    return y[:t].to(x_TH.dtype)


# torch calls that read a device value into Python (and so wait for the GPU)
HOST_READS = frozenset({"__bool__", "__int__", "__float__", "__index__", "item", "tolist", "cpu", "numpy", "nonzero",
                        "bincount", "unique", "unique_consecutive", "masked_select", "repeat_interleave"})


class HostReads(TorchFunctionMode):
    """Debug hook: records every torch call made under it by name; host_reads() lists those in HOST_READS.
    CPU-side proof for tests and the --smoke check (on CUDA, torch.cuda.set_sync_debug_mode says the same).
    Autograd runs a checkpoint's recompute without the caller's modes: enter it inside the checkpointed function."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: List[str] = []

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        self.calls.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))

    def host_reads(self) -> List[str]:
        return [c for c in self.calls if c in HOST_READS]
