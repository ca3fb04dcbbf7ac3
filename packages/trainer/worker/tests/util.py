"""Shared fixtures: a tiny random DeepSeek-V2 checkpoint and packed data of a learnable pattern."""

from __future__ import annotations

import io
import json
import os
import tempfile
from typing import Any, Dict, List, Optional, Tuple

import torch

from worker.data import FORMAT
from worker.fixture import TINY_CONFIG, write_random_checkpoint
from worker.main import main as worker_main
from worker.protocol import Emitter, parse_spec
from worker.train import run_train

_CACHE: Dict[str, str] = {}


def tiny_checkpoint(shards: int = 1, q_lora: Optional[int] = None) -> str:
    """A cached tiny checkpoint directory (do not modify it)."""
    key = f"{shards}-{q_lora}"
    if key not in _CACHE:
        d = tempfile.mkdtemp(prefix="tiny-ckpt-")
        raw = dict(TINY_CONFIG)
        raw["q_lora_rank"] = q_lora
        write_random_checkpoint(d, raw, shards=shards, seed=1)
        _CACHE[key] = d
    return _CACHE[key]


def pattern_data(out_dir: str, num_sequences: int = 16, seq_len: int = 32, period: int = 6, vocab: int = 64) -> str:
    """Sequences repeating a fixed cycle of `period` tokens from a random start; mask off the first cycle."""
    gen = torch.Generator().manual_seed(5)
    cycle = torch.randperm(vocab, generator=gen)[:period]
    ids = torch.empty(num_sequences, seq_len, dtype=torch.int32)
    for i in range(num_sequences):
        start = int(torch.randint(0, period, (1,), generator=gen))
        ids[i] = cycle[(torch.arange(seq_len) + start) % period].to(torch.int32)
    mask = torch.ones(num_sequences, seq_len, dtype=torch.uint8)
    mask[:, :period] = 0
    return write_packed(out_dir, "train", ids, mask)


def write_packed(out_dir: str, name: str, ids: torch.Tensor, mask: torch.Tensor) -> str:
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, f"{name}.ids.bin"), "wb") as f:
        f.write(ids.to(torch.int32).contiguous().numpy().tobytes())
    with open(os.path.join(out_dir, f"{name}.mask.bin"), "wb") as f:
        f.write(mask.to(torch.uint8).contiguous().numpy().tobytes())
    desc = os.path.join(out_dir, f"{name}.json")
    with open(desc, "w", encoding="utf-8") as f:
        json.dump({"format": FORMAT, "version": 1, "seq_len": int(ids.shape[1]), "num_sequences": int(ids.shape[0]),
                   "ids_file": f"{name}.ids.bin", "mask_file": f"{name}.mask.bin"}, f)
    return desc


def train_spec(model_dir: str, data: str, output_dir: str, **overrides: Any) -> Dict[str, Any]:
    spec: Dict[str, Any] = {
        "command": "train", "model_dir": model_dir, "data": data, "output_dir": output_dir,
        "cell": "A", "experts": {"method": "top_k", "k": 2, "score": "token"}, "steps": 12, "batch_size": 4,
        "lr": 3e-3, "weight_decay": 0.0, "dtype": "fp32", "optimizer_state_dtype": "fp32", "device": "cpu",
        "activation_checkpointing": False, "score_tokens": 256, "seed": 3,
    }
    spec.update(overrides)
    return spec


def run(spec: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Runs a train spec in-process and returns the messages it emitted (raises on error)."""
    buf = io.StringIO()
    kind, parsed = parse_spec(json.dumps(spec))
    assert kind == "train"
    run_train(parsed, Emitter(buf))
    return [json.loads(line) for line in buf.getvalue().splitlines()]


def run_main(spec_text: str) -> Tuple[int, List[Dict[str, Any]]]:
    """Runs the worker entry point on a spec file in-process: (exit status, messages)."""
    import sys

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(spec_text)
    buf = io.StringIO()
    argv, stdout = sys.argv, sys.stdout
    sys.argv, sys.stdout = ["worker", "--spec", f.name], buf
    try:
        code = worker_main()
    finally:
        sys.argv, sys.stdout = argv, stdout
    return code, [json.loads(line) for line in buf.getvalue().splitlines()]
