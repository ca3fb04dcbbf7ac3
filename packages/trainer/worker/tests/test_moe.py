import unittest
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from worker import moe
from worker.moe import ExpertStack, HostReads, expert_counts, routed_experts


def case(seed: int = 0, repeat_weight: float = 0.0) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, List[ExpertStack], Dict[int, int]]:
    """8 routed experts: 3 trainable (slots 0-2: ids 5, 1, 6), 3 kept (slots 3-5: ids 0, 2, 7), 4 and 3 parked.
    Tokens never pick trainable id 6 nor kept id 7 (empty experts); token 2 repeats its expert, at weight 0 as
    restricted routing fills a slot it cannot use, or at `repeat_weight`."""
    g = torch.Generator().manual_seed(seed)
    t, h, i = 7, 16, 8
    x = torch.randn(t, h, generator=g, requires_grad=True)
    experts = torch.tensor([[5, 0], [1, 2], [0, 0], [5, 1], [2, 5], [1, 0], [0, 2]])
    weights = torch.rand(t, 2, generator=g)
    weights[2, 1] = repeat_weight
    weights.requires_grad_(True)
    slot = torch.tensor([3, 1, 4, -1, -1, 0, 2, 5])

    def stack(n: int, first: int, trainable: bool) -> ExpertStack:
        parts = [torch.randn(n, i, h, generator=g) * 0.3, torch.randn(n, i, h, generator=g) * 0.3, torch.randn(n, h, i, generator=g) * 0.3]
        return ExpertStack(*[p.requires_grad_(trainable) for p in parts], first=first)

    stacks = [stack(3, 0, True), stack(3, 3, False)]
    slot_of = {e: int(s) for e, s in enumerate(slot.tolist()) if s >= 0}
    return x, weights, experts, slot, stacks, slot_of


def reference(x: torch.Tensor, weights: torch.Tensor, experts: torch.Tensor, stacks: List[ExpertStack], slot_of: Dict[int, int]) -> torch.Tensor:
    """Token by token, expert by expert, as the original modeling code reads."""
    rows = []
    for t in range(x.shape[0]):
        acc = torch.zeros(x.shape[1])
        for j in range(experts.shape[1]):
            s = slot_of[int(experts[t, j])]
            st = next(st for st in stacks if st.first <= s < st.first + st.gate_GIH.shape[0])
            g = s - st.first
            hid = F.silu(st.gate_GIH[g] @ x[t]) * (st.up_GIH[g] @ x[t])
            acc = acc + weights[t, j] * (st.down_GHI[g] @ hid)
        rows.append(acc)
    return torch.stack(rows)


def grads(out: torch.Tensor, x: torch.Tensor, weights: torch.Tensor, stacks: List[ExpertStack]) -> List[torch.Tensor]:
    probe = torch.linspace(-1, 1, out.numel()).view_as(out)
    leaves = [x, weights] + [p for st in stacks for p in (st.gate_GIH, st.up_GIH, st.down_GHI) if p.requires_grad]
    return list(torch.autograd.grad((out * probe).sum(), leaves))


class DispatchTest(unittest.TestCase):

    def test_matches_the_token_by_token_reference_forward_and_backward(self) -> None:
        for impl, repeat_weight in [("segments", 0.0), ("loop", 0.0), ("segments", 0.7), ("auto", 0.0)]:
            x, weights, experts, slot, stacks, slot_of = case(repeat_weight=repeat_weight)
            want = reference(x, weights, experts, stacks, slot_of)
            want_grads = grads(want, x, weights, stacks)
            with self.subTest(impl=impl, repeat_weight=repeat_weight):
                got = routed_experts(x, weights, experts, slot, stacks, impl)
                self.assertTrue(torch.allclose(got, want, atol=1e-5), (got - want).abs().max())
                for a, b in zip(grads(got, x, weights, stacks), want_grads):
                    self.assertTrue(torch.allclose(a, b, atol=1e-5), (a - b).abs().max())

    def test_empty_experts_get_zero_gradient_and_an_empty_stack_adds_nothing(self) -> None:
        x, weights, experts, slot, stacks, slot_of = case(1)
        got = routed_experts(x, weights, experts, slot, stacks, "segments")
        gate_grad = grads(got, x, weights, stacks)[2]  # trainable gate stack [3, I, H]; slot 2 is expert 6: no token
        self.assertTrue(bool((gate_grad[2] == 0).all()))
        self.assertTrue(bool((gate_grad[:2] != 0).any()))
        # every token on trainable experts: the kept stack receives no row at all
        only_trainable = torch.tensor([[5, 1]] * x.shape[0])
        a = routed_experts(x, weights, only_trainable, slot, stacks, "segments")
        b = routed_experts(x, weights, only_trainable, slot, stacks[:1], "segments")
        self.assertTrue(torch.equal(a, b))

    def test_expert_counts_count_a_repeating_token_once(self) -> None:
        _, _, experts, _, _, _ = case()
        # token 2 names expert 0 twice: 4 tokens reach expert 0, not 5
        self.assertEqual(expert_counts(experts, 8).tolist(), [4, 3, 3, 0, 0, 3, 0, 0])

    def test_loop_and_segments_agree_in_bfloat16(self) -> None:
        x, weights, experts, slot, stacks, _ = case(2)
        bf = [ExpertStack(st.gate_GIH.detach().bfloat16(), st.up_GIH.detach().bfloat16(), st.down_GHI.detach().bfloat16(), st.first) for st in stacks]
        xb = x.detach().bfloat16()
        a = routed_experts(xb, weights.detach(), experts, slot, bf, "loop")
        b = routed_experts(xb, weights.detach(), experts, slot, bf, "segments")
        self.assertEqual(a.dtype, torch.bfloat16)
        self.assertLess(float((a.float() - b.float()).norm() / a.float().norm()), 1e-2)

    def test_garbage_past_the_last_offset_never_reaches_outputs_or_gradients(self) -> None:
        """torch._grouped_mm leaves rows past offs[-1] uninitialised, in its output and in the input's gradient.
        A stand-in (CPU has no grouped kernel) that fills exactly those rows with NaN must change nothing."""

        class NaNGradTail(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x: torch.Tensor, end: int) -> torch.Tensor:  # type: ignore[override]
                ctx.end = end
                return x.view_as(x)

            @staticmethod
            def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
                grad = grad.clone()
                grad[ctx.end :] = float("nan")
                return grad, None

        def nan_tail_grouped(x_NH: torch.Tensor, offs_G: torch.Tensor, s: ExpertStack) -> torch.Tensor:
            end = int(offs_G[-1])
            out = moe._swiglu_loop(NaNGradTail.apply(x_NH, end), offs_G, s).clone()
            out[end:] = float("nan")
            return out

        x, weights, experts, slot, stacks, slot_of = case(4)
        want = reference(x, weights, experts, stacks, slot_of)
        real = moe._swiglu_grouped_mm
        moe._swiglu_grouped_mm = nan_tail_grouped  # type: ignore[assignment]
        try:
            got = routed_experts(x, weights, experts, slot, stacks, "grouped_mm")
            got_grads = grads(got, x, weights, stacks)
        finally:
            moe._swiglu_grouped_mm = real
        self.assertTrue(torch.allclose(got, want, atol=1e-5))
        for a, b in zip(got_grads, grads(want, x, weights, stacks)):
            self.assertTrue(bool(torch.isfinite(a).all()))
            self.assertTrue(torch.allclose(a, b, atol=1e-5), (a - b).abs().max())

    def test_no_host_read_in_forward_or_its_recompute(self) -> None:
        x, weights, experts, slot, stacks, _ = case(3)
        modes: List[HostReads] = []

        def layer(x_: torch.Tensor, w_: torch.Tensor) -> torch.Tensor:
            # the mode is entered inside the layer: autograd's recompute during backward runs without the caller's modes
            with HostReads() as mode:
                modes.append(mode)
                return routed_experts(x_, w_, experts, slot, stacks, "segments")

        out = checkpoint(layer, x, weights, use_reentrant=False)
        out.square().sum().backward()
        self.assertEqual(len(modes), 2)  # the forward and its recompute
        for mode in modes:
            self.assertIn("sort", mode.calls)
            self.assertEqual(mode.host_reads(), [])
        # the probe sees a host read where there is one: the loop reference reads its counts
        with HostReads() as mode:
            routed_experts(x, weights, experts, slot, stacks, "loop")
        self.assertIn("tolist", mode.host_reads())


if __name__ == "__main__":
    unittest.main()
