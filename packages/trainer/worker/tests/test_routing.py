import unittest
from typing import Dict, List, Tuple

import torch

from worker.config import parse_config
from worker.fixture import TINY_CONFIG
from worker.model import Layout, build_model, lm_loss
from worker.routing import route, routable_mask, select_kept, select_top_k, select_top_p
from worker.safetensors_io import load_checkpoint
from worker.tests.util import tiny_checkpoint

CFG = parse_config(dict(TINY_CONFIG))


class RoutingTest(unittest.TestCase):
    def setUp(self) -> None:
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(50, CFG.hidden_size, generator=gen)
        self.w = torch.randn(CFG.n_routed_experts, CFG.hidden_size, generator=gen)

    def test_natural_routing_is_softmax_top_k(self) -> None:
        r = route(self.x, self.w, CFG)
        probs = (self.x @ self.w.T).softmax(-1)
        self.assertTrue(torch.allclose(r.probs, probs, atol=1e-6))
        top = probs.topk(CFG.num_experts_per_tok, dim=-1)
        self.assertTrue(torch.equal(r.experts.sort(-1).values, top.indices.sort(-1).values))
        self.assertTrue(torch.allclose(r.weights.sum(-1), top.values.sum(-1)))  # norm_topk_prob false, scale 1

    def test_renormalized_mode_sets_logits_to_minus_inf_before_softmax(self) -> None:
        resident = [1, 4, 6]
        mask = routable_mask(CFG.n_routed_experts, resident, torch.device("cpu"))
        r = route(self.x, self.w, CFG, mask, mode="renormalized")
        # probabilities of routable experts are the softmax over the routable logits alone ...
        expected = (self.x @ self.w[resident].T).softmax(-1)
        self.assertTrue(torch.allclose(r.probs[:, resident], expected, atol=1e-6))
        # ... and unroutable experts get exactly 0 and are never picked
        others = [e for e in range(CFG.n_routed_experts) if e not in resident]
        self.assertEqual(float(r.probs[:, others].abs().sum()), 0.0)
        self.assertTrue(set(r.experts.unique().tolist()) <= set(resident))
        # masking after the softmax would give different (unnormalised) weights
        after = (self.x @ self.w.T).softmax(-1)[:, resident]
        self.assertFalse(torch.allclose(r.probs[:, resident], after, atol=1e-3))

    def test_fewer_routable_than_top_k_routes_to_all_routable(self) -> None:
        mask = routable_mask(CFG.n_routed_experts, [5], torch.device("cpu"))
        r = route(self.x, self.w, CFG, mask, k=1, mode="renormalized")
        self.assertTrue(torch.equal(r.experts, torch.full((50, 1), 5)))
        self.assertTrue(torch.allclose(r.weights, torch.ones(50, 1)))

    def test_norm_topk_prob_normalises_or_scales_as_deepseek_v2_does(self) -> None:
        # deepseek-ai's DeepSeek-V2 MoEGate: with norm_topk_prob (k > 1) the weights sum to 1 and are NOT scaled;
        # otherwise they are scaled by routed_scaling_factor (DeepSeek-V3 does both)
        normed = route(self.x, self.w, parse_config({**TINY_CONFIG, "norm_topk_prob": True, "routed_scaling_factor": 2.5}))
        self.assertTrue(torch.allclose(normed.weights.sum(-1), torch.ones(50), atol=1e-5))
        scaled = route(self.x, self.w, parse_config({**TINY_CONFIG, "norm_topk_prob": False, "routed_scaling_factor": 2.5}))
        top = (self.x @ self.w.T).softmax(-1).topk(2, dim=-1).values
        self.assertTrue(torch.allclose(scaled.weights.sort(-1).values, (top * 2.5).sort(-1).values, atol=1e-6))
        one = route(self.x, self.w, parse_config({**TINY_CONFIG, "norm_topk_prob": True, "routed_scaling_factor": 2.5}), k=1)
        self.assertTrue(torch.allclose(one.weights[:, 0], top[:, 0] * 2.5, atol=1e-6))  # k = 1: scaled, not normalised

    def test_esft_top_p_takes_experts_until_cumulative_share(self) -> None:
        scores = {1: [0.05, 0.4, 0.1, 0.25, 0.2, 0.0, 0.0, 0.0], 2: [0.9, 0.1, 0, 0, 0, 0, 0, 0]}
        self.assertEqual(select_top_p(scores, 0.6), {1: [1, 3], 2: [0]})
        self.assertEqual(select_top_p(scores, 0.7), {1: [1, 3, 4], 2: [0]})
        self.assertEqual(select_top_k(scores, 2), {1: [1, 3], 2: [0, 1]})
        self.assertEqual(select_kept(scores, {1: [1, 3], 2: [0, 1]}, 2), {1: [2, 4], 2: [2, 3]})


def subnet_reference(x: torch.Tensor, w: torch.Tensor, cfg, allowed: List[int], k: int) -> List[Dict[int, float]]:
    """Connito's route_tokens_to_experts restated token by token: softmax over all experts, non-allowed -1e4,
    (group-limited) top-k, x routed_scaling_factor. The partial model holds only the allowed experts, so a slot
    on a non-allowed expert adds nothing; so does a slot of weight 0 (a zeroed group). Returns, per token,
    {expert: weight} of the slots that contribute."""
    out = []
    per_group = cfg.n_routed_experts // cfg.n_group
    for t in range(x.shape[0]):
        p = (x[t].float() @ w.float().T).softmax(-1)
        s = torch.full_like(p, -1e4)
        s[allowed] = p[allowed]
        if cfg.topk_method == "group_limited_greedy":
            best = torch.stack([s[g * per_group:(g + 1) * per_group].max() for g in range(cfg.n_group)])
            chosen = set(best.topk(cfg.topk_group).indices.tolist())
            s = torch.stack([s[e] if e // per_group in chosen else torch.tensor(0.0) for e in range(cfg.n_routed_experts)])
        vals, idx = s.topk(k)
        slots: Dict[int, float] = {}
        for v, e in zip(vals.tolist(), idx.tolist()):
            if e in allowed and v > 0:
                slots[e] = slots.get(e, 0.0) + v * cfg.routed_scaling_factor
        out.append(slots)
    return out


def contributing(r) -> List[Dict[int, float]]:
    out = []
    for experts, weights in zip(r.experts.tolist(), r.weights.tolist()):
        slots: Dict[int, float] = {}
        for e, v in zip(experts, weights):
            if v != 0:
                slots[e] = slots.get(e, 0.0) + v
        out.append(slots)
    return out


class RestrictedRoutingTest(unittest.TestCase):
    def setUp(self) -> None:
        gen = torch.Generator().manual_seed(1)
        self.x = torch.randn(64, CFG.hidden_size, generator=gen)
        self.w = torch.randn(CFG.n_routed_experts, CFG.hidden_size, generator=gen)
        self.cpu = torch.device("cpu")

    def assertSameSlots(self, ours: List[Dict[int, float]], ref: List[Dict[int, float]]) -> None:
        self.assertEqual(len(ours), len(ref))
        for t, (a, b) in enumerate(zip(ours, ref)):
            self.assertEqual(sorted(a), sorted(b), f"token {t}: experts {a} vs {b}")
            for e in a:
                self.assertAlmostEqual(a[e], b[e], places=5, msg=f"token {t} expert {e}")

    def test_subnet_mode_is_the_subnets_router(self) -> None:
        # norm_topk_prob true and a scaling factor: the subnet scales and never renormalises
        cfg = parse_config({**TINY_CONFIG, "norm_topk_prob": True, "routed_scaling_factor": 2.0})
        allowed = [1, 4, 6]
        r = route(self.x, self.w, cfg, routable_mask(8, allowed, self.cpu), k=2, mode="subnet")
        self.assertSameSlots(contributing(r), subnet_reference(self.x, self.w, cfg, allowed, 2))
        # probabilities are the softmax over ALL experts: the allowed ones keep their share, summing to < 1
        self.assertTrue(torch.allclose(r.probs, (self.x @ self.w.T).softmax(-1), atol=1e-6))
        self.assertTrue(bool((r.weights.sum(-1) < 2.0).all()))

    def test_modes_pick_the_same_experts_and_weigh_them_differently(self) -> None:
        allowed = [0, 2, 3, 7]
        mask = routable_mask(8, allowed, self.cpu)
        sub = route(self.x, self.w, CFG, mask, k=2, mode="subnet")
        ren = route(self.x, self.w, CFG, mask, k=2, mode="renormalized")
        self.assertTrue(torch.equal(sub.experts.sort(-1).values, ren.experts.sort(-1).values))
        share = (self.x @ self.w.T).softmax(-1)[:, allowed].sum(-1, keepdim=True)
        self.assertTrue(torch.allclose(ren.weights, sub.weights / share, atol=1e-5))
        self.assertGreater(float((ren.weights - sub.weights).abs().max()), 0.1)

    def test_k_above_the_allowed_count_never_reaches_a_parked_expert(self) -> None:
        # the subnet's top-2 over one allowed expert picks a -1e4 "expert" too; its partial model skips that slot
        for mode in ("subnet", "renormalized"):
            r = route(self.x, self.w, CFG, routable_mask(8, [5], self.cpu), k=2, mode=mode)
            self.assertTrue(bool((r.experts == 5).all()), mode)
            self.assertTrue(bool((r.weights[:, 1] == 0).all()), mode)
        r = route(self.x, self.w, CFG, routable_mask(8, [5], self.cpu), k=2, mode="subnet")
        self.assertSameSlots(contributing(r), subnet_reference(self.x, self.w, CFG, [5], 2))

    def test_group_limited_greedy_with_a_restricted_layout(self) -> None:
        # 4 groups of 2 experts, one group per token: allowed experts spread over groups leave some tokens fewer
        # than k allowed experts in their group; those slots weigh 0 and stay on an allowed expert
        cfg = parse_config({**TINY_CONFIG, "topk_method": "group_limited_greedy", "n_group": 4, "topk_group": 1, "routed_scaling_factor": 3.0})
        allowed = [0, 3, 6]
        mask = routable_mask(8, allowed, self.cpu)
        for mode in ("subnet", "renormalized"):
            r = route(self.x, self.w, cfg, mask, k=2, mode=mode)
            self.assertTrue(set(r.experts.unique().tolist()) <= set(allowed), mode)
            self.assertTrue(bool((r.weights[:, 1] == 0).any()), mode)  # the case that crashed (bincount) before
        self.assertSameSlots(contributing(route(self.x, self.w, cfg, mask, k=2, mode="subnet")), subnet_reference(self.x, self.w, cfg, allowed, 2))

    def test_group_limited_greedy_trains_on_a_restricted_layout(self) -> None:
        raw = {**TINY_CONFIG, "topk_method": "group_limited_greedy", "n_group": 4, "topk_group": 1}
        cfg = parse_config(raw)
        state = load_checkpoint(tiny_checkpoint())
        ids = torch.randint(0, cfg.vocab_size, (2, 16), generator=torch.Generator().manual_seed(0))
        for mode in ("subnet", "renormalized"):
            model = build_model(cfg, state, Layout({1: [0, 3], 2: [6]}, {2: [1]}, restricted=True), self.cpu, torch.float32)
            for moe in model.moe_layers():
                moe.routing_mode = mode
            loss, _ = lm_loss(model, ids, torch.ones_like(ids), 64)
            loss.backward()
            grads = [p.grad for p in model.parameters() if p.requires_grad]
            self.assertTrue(grads and all(g is not None and bool(torch.isfinite(g).all()) for g in grads), mode)


if __name__ == "__main__":
    unittest.main()
