"""Pure Python + torch reader/writer for the safetensors format.

Layout of a file: 8-byte little-endian unsigned header length N, then N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
then the raw little-endian tensor bytes; offsets are relative to the end of the header.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import torch

if sys.byteorder != "little":  # the format is little-endian and we reinterpret bytes in place
    raise RuntimeError("safetensors_io needs a little-endian host")

DTYPES: Dict[str, torch.dtype] = {
    "BF16": torch.bfloat16,
    "F16": torch.float16,
    "F32": torch.float32,
    "F64": torch.float64,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
DTYPE_NAMES: Dict[torch.dtype, str] = {v: k for k, v in DTYPES.items()}
ITEM_SIZES: Dict[str, int] = {"BF16": 2, "F16": 2, "F32": 4, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


class SafetensorsError(ValueError):
    """A file that is not valid safetensors (or a tensor we cannot store)."""


@dataclass(frozen=True)
class TensorEntry:
    dtype: str
    shape: Tuple[int, ...]
    begin: int  # absolute byte offset in the file
    end: int


def read_header(path: str) -> Tuple[Dict[str, TensorEntry], Dict[str, str]]:
    """Returns the tensor entries (absolute offsets) and the __metadata__ of one file."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        raw_len = f.read(8)
        if len(raw_len) != 8:
            raise SafetensorsError(f"{path}: shorter than the 8-byte header length")
        (n,) = struct.unpack("<Q", raw_len)
        if n > size - 8 or n > 100_000_000:
            raise SafetensorsError(f"{path}: header length {n} exceeds the file size {size}")
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise SafetensorsError(f"{path}: header is not JSON: {e}") from e
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: header is not a JSON object")
    base = 8 + n
    metadata = header.pop("__metadata__", {}) or {}
    entries: Dict[str, TensorEntry] = {}
    for name, info in header.items():
        try:
            dtype = info["dtype"]
            shape = tuple(int(d) for d in info["shape"])
            begin, end = (int(o) for o in info["data_offsets"])
        except (KeyError, TypeError, ValueError) as e:
            raise SafetensorsError(f"{path}: tensor {name!r} has a malformed entry: {info!r}") from e
        if dtype not in DTYPES:
            raise SafetensorsError(f"{path}: tensor {name!r} has dtype {dtype!r}; allowed: {sorted(DTYPES)}")
        numel = 1
        for d in shape:
            numel *= d
        if end - begin != numel * ITEM_SIZES[dtype] or begin < 0 or base + end > size:
            raise SafetensorsError(f"{path}: tensor {name!r} offsets {begin}..{end} do not fit {dtype}{list(shape)} in the file")
        entries[name] = TensorEntry(dtype, shape, base + begin, base + end)
    return entries, metadata


def read_raw(path: str, entry: TensorEntry) -> bytes:
    """The tensor's bytes exactly as stored (used by merge to copy untouched tensors byte for byte)."""
    with open(path, "rb") as f:
        f.seek(entry.begin)
        return f.read(entry.end - entry.begin)


def _tensor_from_bytes(data: bytes, entry: TensorEntry) -> torch.Tensor:
    if len(data) == 0:
        return torch.empty(entry.shape, dtype=DTYPES[entry.dtype])
    # bytearray makes the buffer writable, so torch owns a mutable tensor without a warning
    return torch.frombuffer(bytearray(data), dtype=DTYPES[entry.dtype]).reshape(entry.shape)


def load_file(path: str, names: Optional[Iterable[str]] = None) -> Dict[str, torch.Tensor]:
    """Loads all tensors of one file (or only `names`) to CPU memory."""
    entries, _ = read_header(path)
    wanted = entries.keys() if names is None else names
    out: Dict[str, torch.Tensor] = {}
    with open(path, "rb") as f:
        for name in wanted:
            entry = entries.get(name)
            if entry is None:
                raise SafetensorsError(f"{path}: no tensor named {name!r}")
            f.seek(entry.begin)
            out[name] = _tensor_from_bytes(f.read(entry.end - entry.begin), entry)
    return out


def tensor_bytes(t: torch.Tensor) -> bytes:
    """Raw little-endian bytes of a tensor in row-major order."""
    t = t.detach().to("cpu").contiguous()
    if t.numel() == 0:
        return b""
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    return t.reshape(-1).view(torch.uint8).numpy().tobytes()


def save_file(tensors: Mapping[str, torch.Tensor], path: str, metadata: Optional[Mapping[str, str]] = None) -> None:
    """Writes tensors (sorted by name, like the reference library) to `path`."""
    items: List[Tuple[str, str, Tuple[int, ...], bytes]] = []
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype not in DTYPE_NAMES:
            raise SafetensorsError(f"tensor {name!r} has dtype {t.dtype}; allowed: {sorted(DTYPES)}")
        items.append((name, DTYPE_NAMES[t.dtype], tuple(t.shape), tensor_bytes(t)))
    write_raw(items, path, metadata)


def write_raw(items: List[Tuple[str, str, Tuple[int, ...], bytes]], path: str, metadata: Optional[Mapping[str, str]] = None) -> None:
    """Writes (name, dtype, shape, bytes) records in the given order."""
    header: Dict[str, object] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    for name, dtype, shape, data in items:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)  # align the data section to 8 bytes, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for _, _, _, data in items:
            f.write(data)
        f.flush()
        os.fsync(f.fileno())


def checkpoint_files(model_dir: str) -> Dict[str, str]:
    """Maps every tensor name of a checkpoint directory to the file holding it.

    Uses model.safetensors.index.json when present, else every *.safetensors file in the directory.
    """
    if not os.path.isdir(model_dir):
        raise FileNotFoundError(f"model_dir {model_dir!r} is not a directory")
    index_path = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index_path):
        with open(index_path, "r", encoding="utf-8") as f:
            index = json.load(f)
        weight_map = index.get("weight_map") if isinstance(index, dict) else None
        if not isinstance(weight_map, dict):
            raise SafetensorsError(f"{index_path}: no weight_map object")
        return {name: os.path.join(model_dir, fname) for name, fname in weight_map.items()}
    files = sorted(f for f in os.listdir(model_dir) if f.endswith(".safetensors"))
    if not files:
        raise FileNotFoundError(f"model_dir {model_dir!r} holds no *.safetensors file")
    out: Dict[str, str] = {}
    for fname in files:
        full = os.path.join(model_dir, fname)
        for name in read_header(full)[0]:
            out[name] = full
    return out


def load_checkpoint(model_dir: str) -> Dict[str, torch.Tensor]:
    """Loads every tensor of a (possibly sharded) checkpoint directory to CPU memory."""
    by_file: Dict[str, List[str]] = {}
    for name, path in checkpoint_files(model_dir).items():
        by_file.setdefault(path, []).append(name)
    out: Dict[str, torch.Tensor] = {}
    for path, names in sorted(by_file.items()):
        if not os.path.exists(path):
            raise FileNotFoundError(f"shard {path!r} named by the index does not exist")
        out.update(load_file(path, names))
    return out
