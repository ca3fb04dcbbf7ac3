"""Run specs (JSON in) and messages (newline-delimited JSON out), validated on the Python side.

The TypeScript side mirrors both in src/worker/messages.ts (zod). Keep the two in step.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

PROTOCOL_VERSION = 1
ERROR_CODES = (
    "bad_spec", "file_not_found", "bad_checkpoint", "unsupported_model", "bad_experts",
    "bad_data", "no_gpu", "out_of_memory", "diverged", "internal",
)


class SpecError(ValueError):
    """The run spec is invalid; the message names the field and what is allowed."""


@dataclass(frozen=True)
class ExpertSelection:
    method: str  # "esft_gate" | "esft_token" | "top_k" | "explicit"
    top_p: Optional[float] = None
    k: Optional[int] = None
    score: str = "token"  # for top_k: which ESFT score ranks the experts
    experts: Optional[Dict[int, List[int]]] = None


@dataclass(frozen=True)
class TrainSpec:
    model_dir: str
    data: str
    output_dir: str
    cell: str
    experts: ExpertSelection
    steps: int
    batch_size: int
    kept: int = 0
    score_tokens: int = 131072
    lr: float = 1e-5
    betas: Tuple[float, float] = (0.9, 0.95)
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    schedule: str = "constant"
    warmup_steps: int = 0
    optimizer_state_dtype: str = "bf16"
    dtype: str = "bf16"
    device: str = "cuda"
    activation_checkpointing: bool = True
    experts_impl: str = "auto"
    ce_chunk_tokens: int = 4096
    checkpoint_every: int = 0
    resume: bool = False
    seed: int = 0
    # restricted routing of cells A and B (routing.py); cell C routes naturally whatever this says
    routing: str = "subnet"
    # experts per token in training (None: the config's num_experts_per_tok)
    top_k: Optional[int] = None


@dataclass(frozen=True)
class MergeSpec:
    base_dir: str
    adapter_dir: str
    output_dir: str


def _get(raw: Dict[str, Any], key: str, check: Callable[[Any], bool], allowed: str, default: Any = ...) -> Any:
    if key not in raw:
        if default is ...:
            raise SpecError(f"spec.{key} is missing; it must be {allowed}")
        return default
    value = raw[key]
    if not check(value):
        raise SpecError(f"spec.{key} is {json.dumps(value)}; it must be {allowed}")
    return value


def _is_int(v: Any, lo: int = 0) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= lo


def _is_num(v: Any, lo: float, hi: float = math.inf, lo_open: bool = False) -> bool:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    return ok and (v > lo if lo_open else v >= lo) and v <= hi


def _is_str(v: Any) -> bool:
    return isinstance(v, str) and len(v) > 0


def _one_of(*options: Any) -> Callable[[Any], bool]:
    return lambda v: v in options


def parse_expert_config(raw: Any, where: str) -> Dict[int, List[int]]:
    """ESFT's expert config: {"experts": {"<layer>": [expert ids]}}."""
    experts = raw.get("experts") if isinstance(raw, dict) else None
    if not isinstance(experts, dict):
        raise SpecError(f"{where} must be an object {{\"experts\": {{\"<layer>\": [ids]}}}}")
    out: Dict[int, List[int]] = {}
    for key, ids in experts.items():
        if not (isinstance(key, str) and key.isdigit()):
            raise SpecError(f"{where}.experts key {key!r} must be a layer index written as a decimal string")
        if not isinstance(ids, list) or not all(_is_int(i) for i in ids):
            raise SpecError(f"{where}.experts[{key!r}] must be a list of non-negative integer expert ids")
        out[int(key)] = [int(i) for i in ids]
    return out


def _parse_selection(raw: Any) -> ExpertSelection:
    if not isinstance(raw, dict):
        raise SpecError("spec.experts must be an object with a method: 'esft_gate', 'esft_token', 'top_k' or 'explicit'")
    method = raw.get("method")
    if method in ("esft_gate", "esft_token"):
        return ExpertSelection(method=method, top_p=float(_get(raw, "top_p", lambda v: _is_num(v, 0, 1, lo_open=True), "a number in (0, 1]")))
    if method == "top_k":
        k = _get(raw, "k", lambda v: _is_int(v, 1), "an integer >= 1")
        score = _get(raw, "score", _one_of("gate", "token"), "'gate' or 'token'", "token")
        return ExpertSelection(method=method, k=k, score=score)
    if method == "explicit":
        return ExpertSelection(method=method, experts=parse_expert_config(raw, "spec.experts"))
    raise SpecError(f"spec.experts.method is {json.dumps(method)}; allowed: 'esft_gate', 'esft_token', 'top_k', 'explicit'")


TRAIN_KEYS = set(TrainSpec.__dataclass_fields__) | {"command"}


def parse_train_spec(raw: Dict[str, Any]) -> TrainSpec:
    unknown = sorted(set(raw) - TRAIN_KEYS)
    if unknown:
        raise SpecError(f"spec has unknown field(s) {unknown}; allowed: {sorted(TRAIN_KEYS)}")
    cell = _get(raw, "cell", _one_of("A", "B", "C"), "'A', 'B' or 'C'")
    kept = _get(raw, "kept", lambda v: _is_int(v), "an integer >= 0", 0)
    if cell == "B" and kept < 1:
        raise SpecError("spec.kept must be an integer >= 1 for cell B (the frozen resident experts per layer)")
    if cell != "B" and kept:
        raise SpecError(f"spec.kept is {kept}; it must be 0 for cell {cell} (only cell B keeps frozen experts)")
    betas = _get(raw, "betas", lambda v: isinstance(v, list) and len(v) == 2 and all(_is_num(b, 0, 1) and b < 1 for b in v), "two numbers in [0, 1)", [0.9, 0.95])
    return TrainSpec(
        model_dir=_get(raw, "model_dir", _is_str, "a directory path"),
        data=_get(raw, "data", _is_str, "the path of a packed-sequences descriptor (.json)"),
        output_dir=_get(raw, "output_dir", _is_str, "a directory path"),
        cell=cell,
        experts=_parse_selection(raw.get("experts")),
        steps=_get(raw, "steps", lambda v: _is_int(v, 1), "an integer >= 1"),
        batch_size=_get(raw, "batch_size", lambda v: _is_int(v, 1), "an integer >= 1"),
        kept=kept,
        score_tokens=_get(raw, "score_tokens", lambda v: _is_int(v, 1), "an integer >= 1", 131072),
        lr=float(_get(raw, "lr", lambda v: _is_num(v, 0, 1, lo_open=True), "a number in (0, 1]", 1e-5)),
        betas=(float(betas[0]), float(betas[1])),
        weight_decay=float(_get(raw, "weight_decay", lambda v: _is_num(v, 0, 1), "a number in [0, 1]", 0.1)),
        grad_clip=float(_get(raw, "grad_clip", lambda v: _is_num(v, 0, lo_open=True), "a number > 0", 1.0)),
        schedule=_get(raw, "schedule", _one_of("constant", "cosine"), "'constant' or 'cosine'", "constant"),
        warmup_steps=_get(raw, "warmup_steps", lambda v: _is_int(v), "an integer >= 0", 0),
        optimizer_state_dtype=_get(raw, "optimizer_state_dtype", _one_of("bf16", "fp32"), "'bf16' or 'fp32'", "bf16"),
        dtype=_get(raw, "dtype", _one_of("bf16", "fp32"), "'bf16' or 'fp32'", "bf16"),
        device=_get(raw, "device", _one_of("cuda", "cpu"), "'cuda' or 'cpu'", "cuda"),
        activation_checkpointing=_get(raw, "activation_checkpointing", lambda v: isinstance(v, bool), "true or false", True),
        experts_impl=_get(raw, "experts_impl", _one_of("auto", "grouped_mm", "segments"), "'auto', 'grouped_mm' or 'segments'", "auto"),
        ce_chunk_tokens=_get(raw, "ce_chunk_tokens", lambda v: _is_int(v, 1), "an integer >= 1", 4096),
        checkpoint_every=_get(raw, "checkpoint_every", lambda v: _is_int(v), "an integer >= 0 (0: only the final adapter)", 0),
        resume=_get(raw, "resume", lambda v: isinstance(v, bool), "true or false", False),
        seed=_get(raw, "seed", lambda v: _is_int(v), "an integer >= 0", 0),
        routing=_get(raw, "routing", _one_of("subnet", "renormalized"), "'subnet' or 'renormalized'", "subnet"),
        top_k=_get(raw, "top_k", lambda v: v is None or _is_int(v, 1), "an integer >= 1 or null (the config's num_experts_per_tok)", None),
    )


def parse_merge_spec(raw: Dict[str, Any]) -> MergeSpec:
    unknown = sorted(set(raw) - {"command", "base_dir", "adapter_dir", "output_dir"})
    if unknown:
        raise SpecError(f"spec has unknown field(s) {unknown}; allowed: command, base_dir, adapter_dir, output_dir")
    return MergeSpec(
        base_dir=_get(raw, "base_dir", _is_str, "a directory path"),
        adapter_dir=_get(raw, "adapter_dir", _is_str, "a directory path"),
        output_dir=_get(raw, "output_dir", _is_str, "a directory path"),
    )


SELECT_KEYS = {"command", "model_dir", "data", "experts", "batch_size", "score_tokens", "dtype", "device", "experts_impl", "seed"}


def parse_select_spec(raw: Dict[str, Any]) -> TrainSpec:
    """`select` resolves an expert selection once (ESFT scores over the data), so several cells can share it.

    It takes the scoring subset of a train spec; the rest is fixed (cell A: the trainable experts alone).
    """
    unknown = sorted(set(raw) - SELECT_KEYS)
    if unknown:
        raise SpecError(f"spec has unknown field(s) {unknown}; allowed: {sorted(SELECT_KEYS)}")
    return parse_train_spec({**raw, "command": "train", "output_dir": "-", "cell": "A", "steps": 1})


def parse_spec(text: str) -> Tuple[str, Any]:
    """Returns ("train", TrainSpec), ("select", TrainSpec) or ("merge", MergeSpec); raises SpecError."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError(f"spec is not valid JSON: {e}") from e
    if not isinstance(raw, dict):
        raise SpecError("spec must be a JSON object")
    command = raw.get("command")
    if command == "train":
        return "train", parse_train_spec(raw)
    if command == "merge":
        return "merge", parse_merge_spec(raw)
    if command == "select":
        return "select", parse_select_spec(raw)
    raise SpecError(f"spec.command is {json.dumps(command)}; allowed: 'train', 'select', 'merge'")


# ---- messages (stdout) ----

_NUM = (int, float)
_OPT_INT = (int, type(None))
MESSAGE_FIELDS: Dict[str, Dict[str, Any]] = {
    "hello": {"protocol_version": int, "command": str, "hardware": dict},
    "ready": {"run": dict},
    "step": {"step": int, "loss": _NUM, "grad_norm": _NUM, "lr": _NUM, "tokens": int, "target_tokens": int, "tokens_per_s": _NUM,
             "step_time_s": _NUM, "gpu_mem_allocated_bytes": _OPT_INT, "gpu_mem_peak_bytes": _OPT_INT},
    "checkpoint": {"step": int, "path": str},
    "done": {"command": str, "result": dict},
    "error": {"code": str, "message": str},
}


class Emitter:
    """Writes one validated JSON message per line to stdout (nothing else may go to stdout)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stdout

    def emit(self, msg_type: str, **fields: Any) -> None:
        spec = MESSAGE_FIELDS.get(msg_type)
        if spec is None:
            raise ValueError(f"unknown message type {msg_type!r}")
        for key, kind in spec.items():
            if key not in fields or not isinstance(fields[key], kind) or isinstance(fields[key], bool):
                raise ValueError(f"message {msg_type}.{key} is {fields.get(key)!r}; expected {kind}")
        if msg_type == "error" and fields["code"] not in ERROR_CODES:
            raise ValueError(f"error code {fields['code']!r} is not one of {ERROR_CODES}")
        line = json.dumps({"type": msg_type, **fields}, separators=(",", ":"), allow_nan=False)
        self.stream.write(line + "\n")
        self.stream.flush()
