import unittest

import torch

from worker.config import parse_config
from worker.fixture import TINY_CONFIG
from worker.routing import route, routable_mask, select_kept, select_top_k, select_top_p

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

    def test_mask_sets_logits_to_minus_inf_before_softmax(self) -> None:
        resident = [1, 4, 6]
        mask = routable_mask(CFG.n_routed_experts, resident, torch.device("cpu"))
        r = route(self.x, self.w, CFG, mask)
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
        r = route(self.x, self.w, CFG, mask, k=1)
        self.assertTrue(torch.equal(r.experts, torch.full((50, 1), 5)))
        self.assertTrue(torch.allclose(r.weights, torch.ones(50, 1)))

    def test_norm_topk_and_scaling(self) -> None:
        cfg = parse_config({**TINY_CONFIG, "norm_topk_prob": True, "routed_scaling_factor": 2.5})
        r = route(self.x, self.w, cfg)
        self.assertTrue(torch.allclose(r.weights.sum(-1), torch.full((50,), 2.5), atol=1e-5))

    def test_esft_top_p_takes_experts_until_cumulative_share(self) -> None:
        scores = {1: [0.05, 0.4, 0.1, 0.25, 0.2, 0.0, 0.0, 0.0], 2: [0.9, 0.1, 0, 0, 0, 0, 0, 0]}
        self.assertEqual(select_top_p(scores, 0.6), {1: [1, 3], 2: [0]})
        self.assertEqual(select_top_p(scores, 0.7), {1: [1, 3, 4], 2: [0]})
        self.assertEqual(select_top_k(scores, 2), {1: [1, 3], 2: [0, 1]})
        self.assertEqual(select_kept(scores, {1: [1, 3], 2: [0, 1]}, 2), {1: [2, 4], 2: [2, 3]})


if __name__ == "__main__":
    unittest.main()
