"""Packed training data written by the TypeScript side, and the deterministic batch order.

Format (version 1): a descriptor JSON file
  {"format": "subnet-review.packed-sequences", "version": 1, "seq_len": L, "num_sequences": N,
   "ids_file": "<name>.ids.bin", "mask_file": "<name>.mask.bin"}
with the two files beside it (paths relative to the descriptor): ids_file holds N*L int32 little-endian
token ids, row-major [N, L]; mask_file holds N*L uint8 values 0/1. mask[i][t] = 1 means token t of
sequence i is a training target: the loss includes predicting it from the tokens before it.
Attention is causal over the whole packed row (documents are not isolated from each other).

Also read: the data-preparation package's "subnet-review.packed.v1" directory (src/data/packed-format.ts):
packed.json {format, seqLen, sequences, ...} + input_ids.i32 + loss_mask.u8, with the same mask meaning;
spec.data may name that directory or its packed.json.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import List, Tuple

import torch

FORMAT = "subnet-review.packed-sequences"
PREPARED_FORMAT = "subnet-review.packed.v1"


class DataError(ValueError):
    """The packed data files are missing pieces or do not fit the model."""


@dataclass
class PackedData:
    ids: torch.Tensor  # [N, L] int64
    mask: torch.Tensor  # [N, L] uint8
    dropped_rows: int = 0  # rows of the file left out: no target after their first position

    @property
    def num_sequences(self) -> int:
        return int(self.ids.shape[0])

    @property
    def seq_len(self) -> int:
        return int(self.ids.shape[1])


def load_packed(descriptor: str, vocab_size: int) -> PackedData:
    if os.path.isdir(descriptor):
        descriptor = os.path.join(descriptor, "packed.json")
    try:
        with open(descriptor, "r", encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError as e:
        raise FileNotFoundError(f"data descriptor {descriptor!r} does not exist") from e
    except json.JSONDecodeError as e:
        raise DataError(f"data descriptor {descriptor!r} is not JSON: {e}") from e
    if isinstance(meta, dict) and meta.get("format") == PREPARED_FORMAT:
        meta = {"format": FORMAT, "version": 1, "seq_len": meta.get("seqLen"), "num_sequences": meta.get("sequences"),
                "ids_file": "input_ids.i32", "mask_file": "loss_mask.u8"}
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") != 1:
        raise DataError(f"data descriptor {descriptor!r}: format must be {FORMAT!r} with version 1, or {PREPARED_FORMAT!r}")
    for key in ("seq_len", "num_sequences"):
        if not isinstance(meta.get(key), int) or isinstance(meta.get(key), bool) or meta[key] < 1:
            raise DataError(f"data descriptor {descriptor!r}: {key} must be an integer >= 1, got {meta.get(key)!r}")
    n, seq = meta["num_sequences"], meta["seq_len"]
    if seq < 2:
        raise DataError(f"data descriptor {descriptor!r}: seq_len must be >= 2 to have a next token")
    base = os.path.dirname(os.path.abspath(descriptor))
    arrays: List[bytes] = []
    for key, size in (("ids_file", 4), ("mask_file", 1)):
        name = meta.get(key)
        if not isinstance(name, str) or not name:
            raise DataError(f"data descriptor {descriptor!r}: {key} must name a file")
        path = os.path.join(base, name)
        if not os.path.exists(path):
            raise FileNotFoundError(f"data file {path!r} ({key}) does not exist")
        got = os.path.getsize(path)
        if got != n * seq * size:
            raise DataError(f"data file {path!r} has {got} bytes; {key} needs num_sequences*seq_len*{size} = {n * seq * size}")
        with open(path, "rb") as f:
            arrays.append(f.read())
    ids = torch.frombuffer(bytearray(arrays[0]), dtype=torch.int32).reshape(n, seq).to(torch.int64)
    mask = torch.frombuffer(bytearray(arrays[1]), dtype=torch.uint8).reshape(n, seq)
    lo, hi = int(ids.min()), int(ids.max())
    if lo < 0 or hi >= vocab_size:
        raise DataError(f"data: token ids span {lo}..{hi}; the model's vocab_size allows 0..{vocab_size - 1}")
    if int(mask.max()) > 1:
        raise DataError("data: mask values must be 0 or 1")
    # A row with no target teaches nothing, and a batch made only of such rows has no loss at all: leave them out
    # here, so that no step of any epoch can fail on them (the TypeScript preparation already drops them).
    keep = mask[:, 1:].sum(dim=1) > 0
    if not bool(keep.any()):
        raise DataError("data: no token has loss mask 1 (after the first position), nothing to train on")
    dropped = int((~keep).sum())
    if dropped:
        ids, mask = ids[keep], mask[keep]
    return PackedData(ids=ids, mask=mask, dropped_rows=dropped)


def batch_indices(step: int, batch_size: int, num_sequences: int, seed: int) -> List[int]:
    """Sequence indices of step `step` (0-based): a seeded permutation per epoch, read as one stream.

    A pure function of its arguments, so a resumed run sees exactly the batches it would have seen.
    """
    out: List[int] = []
    pos = step * batch_size
    while len(out) < batch_size:
        epoch, offset = divmod(pos, num_sequences)
        perm = torch.randperm(num_sequences, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch)).tolist()
        take = min(batch_size - len(out), num_sequences - offset)
        out.extend(perm[offset : offset + take])
        pos += take
    return out


def batch(data: PackedData, indices: List[int], device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    idx = torch.tensor(indices, dtype=torch.long)
    return data.ids[idx].to(device), data.mask[idx].to(device)


def scoring_sample(data: PackedData, tokens: int) -> List[int]:
    """Sequences in file order until `tokens` tokens (ESFT scores experts on a sample of the task data)."""
    count = max(1, min(data.num_sequences, -(-tokens // data.seq_len)))
    return list(range(count))
