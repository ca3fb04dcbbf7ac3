import json
import os
import shutil
import tempfile
import unittest
from typing import List, Set

import torch

from worker.config import load_config
from worker.data import batch, load_packed, scoring_sample
from worker.model import Experts, Layout, build_model
from worker.protocol import parse_spec
from worker.routing import ScoreAccumulator
from worker.safetensors_io import load_checkpoint
from worker.tests.util import pattern_data, tiny_checkpoint, train_spec
from worker.train import score_experts

CPU = torch.device("cpu")


def resident_expert_params(experts: Set[Experts]) -> int:
    """Expert parameters held in the device stacks (trainable and kept) of these layers right now."""
    total = 0
    for ex in experts:
        for name in ("trainable_gate", "trainable_up", "trainable_down", "kept_gate", "kept_up", "kept_down"):
            t = getattr(ex, name)
            total += 0 if t is None else t.numel()
    return total


class SelectionMemoryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.mkdtemp(prefix="worker-select-")
        cls.model_dir = tiny_checkpoint()
        cls.data_path = pattern_data(os.path.join(cls.tmp, "data"))
        cls.cfg = load_config(cls.model_dir)
        cls.state = load_checkpoint(cls.model_dir)

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_selection_holds_at_most_one_layers_experts_and_scores_as_before(self) -> None:
        _, spec = parse_spec(json.dumps(train_spec(self.model_dir, self.data_path, os.path.join(self.tmp, "out"), score_tokens=320)))
        data = load_packed(spec.data, self.cfg.vocab_size)
        seen: Set[Experts] = set()
        peaks: List[int] = []
        original = Experts.set_layout

        def counting(ex: Experts, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            original(ex, *args, **kwargs)
            seen.add(ex)
            peaks.append(resident_expert_params(seen))

        Experts.set_layout = counting  # type: ignore[method-assign]
        try:
            scores = score_experts(self.cfg, self.state, data, spec, CPU, torch.float32)
        finally:
            Experts.set_layout = original  # type: ignore[method-assign]

        # the bound, from the config alone: one MoE layer's routed experts (gate, up: I x H; down: H x I), and no
        # resident expert besides them (selection runs before the cell's layout exists)
        c = self.cfg
        one_layer = c.n_routed_experts * 3 * c.moe_intermediate_size * c.hidden_size
        all_layers = one_layer * len(c.moe_layers)
        peak = max(peaks)
        print(f"\nselection peak: {peak:,} expert parameters resident (one layer {one_layer:,}; every layer {all_layers:,})")
        self.assertEqual(peak, one_layer)
        self.assertLess(peak, all_layers)
        self.assertEqual(resident_expert_params(seen), 0)  # nothing left on the device afterwards

        # the same scores as a forward with every expert resident
        model = build_model(c, self.state, Layout.all_frozen(c), CPU, torch.float32)
        for moe in model.moe_layers():
            moe.record_routing = True
        acc = ScoreAccumulator(c.n_routed_experts)
        sample = scoring_sample(data, 320)
        with torch.no_grad():
            for start in range(0, len(sample), spec.batch_size):
                ids, mask = batch(data, sample[start : start + spec.batch_size], CPU)
                model(ids)
                flat = mask.reshape(-1) == 1
                acc.tokens += int(flat.sum())
                for moe in model.moe_layers():
                    acc.add(moe.experts.layer, moe.last_routing, flat)  # type: ignore[arg-type]
        expected = acc.result()
        self.assertEqual(scores.tokens, expected.tokens)
        for layer in c.moe_layers:
            for a, b in zip(scores.token[layer], expected.token[layer]):
                self.assertAlmostEqual(a, b, places=9)
            for a, b in zip(scores.gate[layer], expected.gate[layer]):
                self.assertAlmostEqual(a, b, places=5)


if __name__ == "__main__":
    unittest.main()
