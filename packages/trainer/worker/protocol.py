"""Run specs (JSON in) and messages (newline-delimited JSON out), validated on the Python side.

Both are defined once, by the zod schemas in src/worker/messages.ts: protocol.schema.json is emitted from them,
and every field, limit and default here comes from that file (json_schema.py checks values against it).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from . import json_schema

SCHEMAS = json_schema.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "protocol.schema.json"))
_SPECS = {b["properties"]["command"]["const"]: b for b in json_schema.branches(SCHEMAS["spec"])}
_MESSAGES = {b["properties"]["type"]["const"]: b for b in json_schema.branches(SCHEMAS["message"])}
PROTOCOL_VERSION: int = _MESSAGES["hello"]["properties"]["protocol_version"]["const"]
ERROR_CODES: Tuple[str, ...] = tuple(_MESSAGES["error"]["properties"]["code"]["enum"])


class SpecError(ValueError):
    """The run spec is invalid; the message names the field and what is allowed."""


@dataclass(frozen=True)
class ExpertSelection:
    method: str  # "esft_gate" | "esft_token" | "top_k" | "explicit"
    top_p: Optional[float] = None
    k: Optional[int] = None
    score: Optional[str] = None  # for top_k: which ESFT score ranks the experts
    experts: Optional[Dict[int, List[int]]] = None


@dataclass(frozen=True)
class TrainSpec:
    """A checked train spec with the schema's defaults filled in (messages.ts says what each field is)."""

    model_dir: str
    data: str
    output_dir: str
    cell: str
    experts: ExpertSelection
    steps: int
    batch_size: int
    kept: int
    score_tokens: int
    lr: float
    betas: Tuple[float, float]
    weight_decay: float
    grad_clip: float
    schedule: str
    warmup_steps: int
    optimizer_state_dtype: str
    dtype: str
    device: str
    activation_checkpointing: bool
    experts_impl: str
    ce_chunk_tokens: int
    checkpoint_every: int
    resume: bool
    seed: int
    # restricted routing of cells A and B (routing.py); cell C routes naturally whatever this says
    routing: str
    # experts per token in training (None: the config's num_experts_per_tok)
    top_k: Optional[int]


@dataclass(frozen=True)
class MergeSpec:
    base_dir: str
    adapter_dir: str
    output_dir: str


def spec_default(command: str, key: str) -> Any:
    """The schema's default of a spec field."""
    return _SPECS[command]["properties"][key]["default"]


def checked(schema: Dict[str, Any], raw: Any, where: str) -> Any:
    """The value with the schema's defaults filled in; raises SpecError naming the field and what is allowed."""
    try:
        return json_schema.validate(schema, raw, where)
    except json_schema.SchemaError as e:
        raise SpecError(str(e)) from e


def parse_expert_config(raw: Any, where: str) -> Dict[int, List[int]]:
    """ESFT's expert config: {"experts": {"<layer>": [expert ids]}}, as the explicit selection carries it."""
    explicit = next(b for b in json_schema.branches(_SPECS["train"]["properties"]["experts"]) if b["properties"]["method"].get("const") == "explicit")
    experts = checked({"type": "object", "properties": {"experts": explicit["properties"]["experts"]}, "required": ["experts"]}, raw, where)["experts"]
    return {int(layer): ids for layer, ids in experts.items()}


def _selection(raw: Dict[str, Any]) -> ExpertSelection:
    if raw["method"] == "explicit":
        return ExpertSelection(method="explicit", experts={int(layer): ids for layer, ids in raw["experts"].items()})
    top_p = raw.get("top_p")
    return ExpertSelection(method=raw["method"], top_p=None if top_p is None else float(top_p), k=raw.get("k"), score=raw.get("score"))


def parse_train_spec(raw: Dict[str, Any]) -> TrainSpec:
    s = checked(_SPECS["train"], raw, "spec")
    # the one rule the schema cannot carry (messages.ts's superRefine says the same)
    if s["cell"] == "B" and s["kept"] < 1:
        raise SpecError("spec.kept must be an integer >= 1 for cell B (the frozen resident experts per layer)")
    if s["cell"] != "B" and s["kept"]:
        raise SpecError(f"spec.kept is {s['kept']}; it must be 0 for cell {s['cell']} (only cell B keeps frozen experts)")
    floats = {key: float(s[key]) for key in ("lr", "weight_decay", "grad_clip")}
    fields = {key: s[key] for key in TrainSpec.__dataclass_fields__ if key not in floats}
    return TrainSpec(**{**fields, **floats, "experts": _selection(s["experts"]), "betas": (float(s["betas"][0]), float(s["betas"][1]))})


def parse_merge_spec(raw: Dict[str, Any]) -> MergeSpec:
    s = checked(_SPECS["merge"], raw, "spec")
    return MergeSpec(base_dir=s["base_dir"], adapter_dir=s["adapter_dir"], output_dir=s["output_dir"])


def parse_select_spec(raw: Dict[str, Any]) -> TrainSpec:
    """`select` resolves an expert selection once (ESFT scores over the data), so several cells can share it.

    It takes the scoring subset of a train spec; the rest is fixed (cell A: the trainable experts alone).
    """
    s = checked(_SPECS["select"], raw, "spec")
    return parse_train_spec({**s, "command": "train", "output_dir": "-", "cell": "A", "steps": 1})


def parse_spec(text: str) -> Tuple[str, Any]:
    """Returns ("train", TrainSpec), ("select", TrainSpec) or ("merge", MergeSpec); raises SpecError."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError(f"spec is not valid JSON: {e}") from e
    if not isinstance(raw, dict):
        raise SpecError("spec must be a JSON object")
    command = raw.get("command")
    if command not in _SPECS:
        raise SpecError(f"spec.command is {json.dumps(command)}; allowed: {', '.join(repr(c) for c in _SPECS)}")
    return command, {"train": parse_train_spec, "merge": parse_merge_spec, "select": parse_select_spec}[command](raw)


class Emitter:
    """Writes one JSON message per line to stdout (nothing else may go to stdout), checked against the schema
    (the training worker's messages by default; serve_eval's with schema "eval_message")."""

    def __init__(self, stream: Any = None, schema: str = "message") -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.schema = SCHEMAS[schema]

    def emit(self, msg_type: str, **fields: Any) -> None:
        message = {"type": msg_type, **fields}
        try:
            json_schema.validate(self.schema, message, "message")
        except json_schema.SchemaError as e:
            raise ValueError(str(e)) from e
        line = json.dumps(message, separators=(",", ":"), allow_nan=False)
        self.stream.write(line + "\n")
        self.stream.flush()
