"""Merge: base checkpoint + adapter (trained experts) -> full checkpoint in the base's file layout.

Every tensor the adapter does not hold is copied as raw bytes, so it is byte-identical to the base;
shard file names, tensor order and the index are kept, so transformers loads the result like the base.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any, Dict, List, Tuple

import torch

from .checkpoint import CheckpointError, read_adapter, write_atomically
from .config import load_config
from .model import EXPERT_PARTS, expert_name
from .protocol import parse_expert_config
from .routing import check_expert_ids
from .safetensors_io import DTYPES, checkpoint_files, read_header, read_raw, tensor_bytes, write_raw

INDEX = "model.safetensors.index.json"


def merge(base_dir: str, adapter_dir: str, output_dir: str) -> Dict[str, Any]:
    """Writes output_dir atomically; returns counts of replaced and copied tensors and the files written."""
    cfg = load_config(base_dir)
    expert_cfg, tensors = read_adapter(adapter_dir)
    experts = parse_expert_config(expert_cfg, f"{adapter_dir}/expert_cfg.json")
    try:
        check_expert_ids(experts, cfg, "adapter expert_cfg.json")
    except ValueError as e:
        raise CheckpointError(str(e)) from e
    expected = {expert_name(layer, e, part) for layer, ids in experts.items() for e in ids for part in EXPERT_PARTS}
    if set(tensors) != expected:
        extra, missing = sorted(set(tensors) - expected)[:3], sorted(expected - set(tensors))[:3]
        raise CheckpointError(f"adapter tensors do not match its expert_cfg.json (unexpected {extra}, missing {missing})")
    files = checkpoint_files(base_dir)
    by_file: Dict[str, List[str]] = {}
    for name, path in files.items():
        by_file.setdefault(path, []).append(name)
    headers = {path: read_header(path) for path in by_file}
    for name, t in tensors.items():
        if name not in files:
            raise CheckpointError(f"adapter tensor {name!r} is not in the base checkpoint")
        entry = headers[files[name]][0][name]
        if tuple(t.shape) != entry.shape:
            raise CheckpointError(f"adapter tensor {name!r} has shape {list(t.shape)}; the base has {list(entry.shape)}")
    abs_out = os.path.abspath(output_dir)
    if abs_out == os.path.abspath(base_dir):
        raise CheckpointError("output_dir must differ from base_dir (the base is read while the merge is written)")
    counts = {"replaced": 0, "copied": 0}

    def write(tmp: str) -> List[str]:
        written: List[str] = []
        for path in sorted(by_file):
            entries, metadata = headers[path]
            items: List[Tuple[str, str, Tuple[int, ...], bytes]] = []
            for name, entry in sorted(entries.items(), key=lambda kv: kv[1].begin):
                if name in tensors:
                    data = tensor_bytes(tensors[name].to(DTYPES[entry.dtype]))
                    counts["replaced"] += 1
                else:
                    data = read_raw(path, entry)
                    counts["copied"] += 1
                items.append((name, entry.dtype, entry.shape, data))
            fname = os.path.basename(path)
            write_raw(items, os.path.join(tmp, fname), metadata)
            written.append(fname)
        index_path = os.path.join(base_dir, INDEX)
        if not os.path.exists(index_path) and len(by_file) > 1:  # transformers needs an index for several files
            total = sum(e.end - e.begin for h, _ in headers.values() for e in h.values())
            with open(os.path.join(tmp, INDEX), "w", encoding="utf-8") as f:
                json.dump({"metadata": {"total_size": total}, "weight_map": {n: os.path.basename(p) for n, p in sorted(files.items())}}, f, indent=2)
            written.append(INDEX)
        for fname in sorted(os.listdir(base_dir)):  # config.json, index, tokenizer files: copied as they are
            src = os.path.join(base_dir, fname)
            if os.path.isfile(src) and not fname.endswith(".safetensors"):
                shutil.copyfile(src, os.path.join(tmp, fname))
                written.append(fname)
        return written

    write_atomically(output_dir, write)
    return {"output_dir": output_dir, "replaced": counts["replaced"], "copied": counts["copied"], "files": len(by_file)}


def main() -> None:
    import argparse

    p = argparse.ArgumentParser(description="merge an adapter into its base checkpoint")
    p.add_argument("base_dir")
    p.add_argument("adapter_dir")
    p.add_argument("output_dir")
    a = p.parse_args()
    print(json.dumps(merge(a.base_dir, a.adapter_dir, a.output_dir)))


if __name__ == "__main__":
    main()
