"""Adapters (trained experts only, ESFT layout) and resumable training checkpoints, written atomically.

A directory is written as <final>.tmp-<pid>, its "complete" marker (JSON listing the files) last, then
renamed to <final>. A directory without the marker is never read as a checkpoint.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch

from .model import EXPERT_PARTS, DeepseekV2, expert_name
from .safetensors_io import load_file, save_file

ADAPTER_WEIGHTS = "trained_experts.safetensors"
EXPERT_CONFIG = "expert_cfg.json"
TRAINING_STATE = "training_state.pt"
COMPLETE = "complete"
STEP_DIR = re.compile(r"^step-(\d{6,})$")


class CheckpointError(ValueError):
    """A checkpoint or adapter directory that is incomplete or does not fit the model."""


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(final_dir: str, write: Callable[[str], List[str]]) -> None:
    """Runs write(tmp_dir) -> file names, adds the complete marker, then renames tmp_dir to final_dir."""
    parent = os.path.dirname(os.path.abspath(final_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = f"{final_dir}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    files = write(tmp)
    with open(os.path.join(tmp, COMPLETE), "w", encoding="utf-8") as f:
        json.dump({"files": sorted(files)}, f)
        f.flush()
        os.fsync(f.fileno())
    _fsync_dir(tmp)
    if os.path.exists(final_dir):  # replacing an older result: move it aside first, rename is then atomic
        old = f"{final_dir}.old-{os.getpid()}"
        os.rename(final_dir, old)
        os.rename(tmp, final_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, final_dir)
    _fsync_dir(parent)


def is_complete(path: str) -> bool:
    marker = os.path.join(path, COMPLETE)
    if not os.path.isfile(marker):
        return False
    try:
        with open(marker, "r", encoding="utf-8") as f:
            files = json.load(f)["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return all(os.path.isfile(os.path.join(path, name)) for name in files)


def expert_config(model: DeepseekV2) -> Dict[str, Any]:
    """ESFT's expert config of the trainable experts, plus the kept ones (cell B) for resuming."""
    trainable, kept = {}, {}
    for moe in model.moe_layers():
        ex = moe.experts
        if ex.trainable_ids:
            trainable[str(ex.layer)] = sorted(ex.trainable_ids)
        if ex.kept_ids and ex.restricted:
            kept[str(ex.layer)] = sorted(ex.kept_ids)
    return {"experts": trainable, "shared_experts": False, "non_expert_modules": False, "kept_experts": kept}


def adapter_tensors(model: DeepseekV2) -> Dict[str, torch.Tensor]:
    """The trainable experts under their original checkpoint names (in the training dtype)."""
    out: Dict[str, torch.Tensor] = {}
    for moe in model.moe_layers():
        ex = moe.experts
        for s, e in enumerate(ex.trainable_ids):
            for part, stack in zip(EXPERT_PARTS, (ex.trainable_gate, ex.trainable_up, ex.trainable_down)):
                out[expert_name(ex.layer, e, part)] = stack[s].detach().to("cpu")  # type: ignore[index]
    return out


def _write_adapter(tmp: str, model: DeepseekV2, metadata: Dict[str, str]) -> List[str]:
    save_file(adapter_tensors(model), os.path.join(tmp, ADAPTER_WEIGHTS), {"format": "pt", **metadata})
    with open(os.path.join(tmp, EXPERT_CONFIG), "w", encoding="utf-8") as f:
        json.dump(expert_config(model), f, indent=1)
    return [ADAPTER_WEIGHTS, EXPERT_CONFIG]


def save_adapter(path: str, model: DeepseekV2, metadata: Dict[str, str]) -> None:
    write_atomically(path, lambda tmp: _write_adapter(tmp, model, metadata))


def save_training_checkpoint(path: str, model: DeepseekV2, training_state: Dict[str, Any], metadata: Dict[str, str]) -> None:
    def write(tmp: str) -> List[str]:
        files = _write_adapter(tmp, model, metadata)
        torch.save(training_state, os.path.join(tmp, TRAINING_STATE))
        return files + [TRAINING_STATE]

    write_atomically(path, write)


def step_dir(run_dir: str, step: int) -> str:
    return os.path.join(run_dir, "checkpoints", f"step-{step:06d}")


def latest_checkpoint(run_dir: str) -> Optional[Tuple[int, str]]:
    """The highest-step complete checkpoint of a run, or None."""
    root = os.path.join(run_dir, "checkpoints")
    if not os.path.isdir(root):
        return None
    found = []
    for name in os.listdir(root):
        m = STEP_DIR.match(name)
        if m and is_complete(os.path.join(root, name)):
            found.append((int(m.group(1)), os.path.join(root, name)))
    return max(found) if found else None


def read_adapter(path: str) -> Tuple[Dict[str, Any], Dict[str, torch.Tensor]]:
    """Expert config and tensors of a complete adapter (or checkpoint) directory."""
    if not os.path.isdir(path):
        raise FileNotFoundError(f"adapter directory {path!r} does not exist")
    if not is_complete(path):
        raise CheckpointError(f"adapter directory {path!r} has no valid '{COMPLETE}' marker: it was not completely written")
    with open(os.path.join(path, EXPERT_CONFIG), "r", encoding="utf-8") as f:
        cfg = json.load(f)
    return cfg, load_file(os.path.join(path, ADAPTER_WEIGHTS))


def load_training_state(path: str) -> Dict[str, Any]:
    return torch.load(os.path.join(path, TRAINING_STATE), map_location="cpu")
