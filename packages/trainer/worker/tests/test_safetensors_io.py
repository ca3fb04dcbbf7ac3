import json
import os
import struct
import tempfile
import unittest

import torch

from worker.safetensors_io import SafetensorsError, checkpoint_files, load_file, read_header, save_file


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


class SafetensorsIoTest(unittest.TestCase):
    def test_round_trip_keeps_dtype_shape_and_values(self) -> None:
        tensors = {
            "a.bf16": torch.randn(3, 5).to(torch.bfloat16),
            "b.f16": torch.randn(7).to(torch.float16),
            "c.f32": torch.randn(2, 2, 2),
            "d.i64": torch.arange(-3, 3, dtype=torch.int64),
            "e.u8": torch.tensor([0, 255], dtype=torch.uint8),
            "f.empty": torch.zeros(0, 4),
        }
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.safetensors")
            save_file(tensors, path, {"format": "pt"})
            back = load_file(path)
            _, meta = read_header(path)
        self.assertEqual(meta, {"format": "pt"})
        for name, t in tensors.items():
            self.assertEqual(back[name].dtype, t.dtype, name)
            self.assertTrue(torch.equal(back[name], t), name)

    def test_layout_is_the_published_format(self) -> None:
        # 8-byte LE header length, JSON header, raw little-endian data at the given offsets
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.safetensors")
            save_file({"w": torch.tensor([1.0, -2.0], dtype=torch.float32)}, path)
            with open(path, "rb") as f:
                raw = f.read()
        (n,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8 : 8 + n])
        self.assertEqual(header["w"], {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})
        self.assertEqual(raw[8 + n :], struct.pack("<ff", 1.0, -2.0))

    def test_rejects_truncated_and_unknown_dtype(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.safetensors")
            header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
            _write(path, struct.pack("<Q", len(header)) + header + b"\0" * 8)
            with self.assertRaisesRegex(SafetensorsError, "offsets 0..16"):
                load_file(path)
            header = json.dumps({"w": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 1]}}).encode()
            _write(path, struct.pack("<Q", len(header)) + header + b"\0")
            with self.assertRaisesRegex(SafetensorsError, "dtype 'Q7'"):
                load_file(path)

    def test_directory_without_weights_is_a_clear_error(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaisesRegex(FileNotFoundError, "no \\*.safetensors"):
                checkpoint_files(d)


if __name__ == "__main__":
    unittest.main()
