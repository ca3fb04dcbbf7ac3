import json
import os
import tempfile
import unittest

import torch

from worker.data import DataError, batch_indices, load_packed
from worker.tests.util import write_packed


class DataTest(unittest.TestCase):
    def test_reads_the_prepared_packed_v1_directory(self) -> None:
        ids = torch.arange(12, dtype=torch.int32).reshape(3, 4)
        mask = torch.tensor([[0, 1, 1, 0]] * 3, dtype=torch.uint8)
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "input_ids.i32"), "wb") as f:
                f.write(ids.numpy().tobytes())
            with open(os.path.join(d, "loss_mask.u8"), "wb") as f:
                f.write(mask.numpy().tobytes())
            with open(os.path.join(d, "packed.json"), "w") as f:
                json.dump({"format": "subnet-review.packed.v1", "seqLen": 4, "sequences": 3}, f)
            data = load_packed(d, vocab_size=16)
            self.assertTrue(torch.equal(data.ids, ids.long()))
            self.assertTrue(torch.equal(data.mask, mask))
            with self.assertRaisesRegex(DataError, "vocab_size allows 0..9"):
                load_packed(os.path.join(d, "packed.json"), vocab_size=10)

    def test_rows_without_a_target_are_left_out(self) -> None:
        # Rows 1 and 3 hold prompt text only (a target at position 0 does not count: nothing predicts it).
        ids = torch.arange(20, dtype=torch.int32).reshape(5, 4)
        mask = torch.tensor([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 1, 1, 1]], dtype=torch.uint8)
        with tempfile.TemporaryDirectory() as d:
            write_packed(d, "rows", ids, mask)
            data = load_packed(os.path.join(d, "rows.json"), vocab_size=32)
            self.assertEqual(data.dropped_rows, 2)
            self.assertEqual(data.ids[:, 0].tolist(), [0, 8, 16])
            for step in range(50):
                rows = batch_indices(step, 2, data.num_sequences, seed=1)
                self.assertGreater(int(data.mask[rows][:, 1:].sum()), 0, f"step {step}")
            write_packed(d, "none", ids, torch.zeros_like(mask))
            with self.assertRaisesRegex(DataError, "no token has loss mask 1"):
                load_packed(os.path.join(d, "none.json"), vocab_size=32)

    def test_batch_order_is_a_pure_function_covering_each_epoch(self) -> None:
        first = [i for s in range(5) for i in batch_indices(s, 2, 10, seed=4)]
        self.assertEqual(sorted(first), list(range(10)))
        self.assertEqual(batch_indices(3, 2, 10, seed=4), batch_indices(3, 2, 10, seed=4))
        self.assertNotEqual([batch_indices(s, 2, 10, 4) for s in range(5, 10)], [batch_indices(s, 2, 10, 4) for s in range(5)])


if __name__ == "__main__":
    unittest.main()
