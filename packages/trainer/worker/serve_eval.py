"""Long-lived evaluation worker: `python -m worker.serve_eval`, one JSON request per stdin line, one JSON
message per stdout line (the TypeScript side is packages/eval/src/worker-backend.ts; keep the two in step).

Requests (each checked here; a bad one is answered with an error and the worker carries on):
  {"op": "load", "id", "model_dir", "device": "cpu"|"cuda", "dtype": "fp32"|"bf16",
   "experts_impl": "auto"|"grouped_mm"|"segments", "token_bytes": [base64 of each token id's bytes]}  -- first
  {"op": "generate", "id", "prompts": [[ids]], "max_new_tokens", "stop": [strings], "eos_token_ids": [ids], "batch_size"}
  {"op": "loglikelihood", "id", "requests": [{"tokens": [ids], "continuation": n}], "batch_size"}
Messages: hello {protocol_version, command, hardware} at start; ready {id, model} after load;
progress {id, done, total}; generated {id, results: [{tokens, finish}]}; loglikelihoods {id, results:
[{logprob, is_greedy}]}; error {id, code, message}. End of stdin ends the worker (exit 0). A failed load is
fatal (exit 1). Token ids cross the boundary; text never does, except stop sequences (matched on bytes).
The model: every expert resident, natural routing, latent KV cache (see infer.py).
"""

from __future__ import annotations

import base64
import json
import math
import sys
import traceback
from typing import Any, Dict, List, Optional

import torch

from .config import load_config
from .generate import generate
from .infer import RopeTable
from .loglikelihood import LoglikelihoodRequest, loglikelihoods
from .main import error_of
from .model import DeepseekV2, Layout
from .protocol import PROTOCOL_VERSION, SpecError
from .train import DTYPES, _build, _read_weights, hardware_info, resolve_device, set_experts_impl


class Session:
    def __init__(self, model: DeepseekV2, rope: RopeTable, token_bytes: List[bytes], max_positions: int) -> None:
        self.model = model
        self.rope = rope
        self.token_bytes = token_bytes
        self.max_positions = max_positions


def emit(msg_type: str, **fields: Any) -> None:
    sys.__stdout__.write(json.dumps({"type": msg_type, **fields}, separators=(",", ":"), allow_nan=False) + "\n")
    sys.__stdout__.flush()


def _field(req: Dict[str, Any], key: str, ok: bool, allowed: str) -> None:
    if not ok:
        raise SpecError(f"request.{key} is {json.dumps(req.get(key))[:200]}; it must be {allowed}")


def _is_int(v: Any, lo: int = 0) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= lo


def _token_list(req: Dict[str, Any], key: str, value: Any, vocab: int) -> List[int]:
    if not (isinstance(value, list) and len(value) > 0 and all(_is_int(t) and t < vocab for t in value)):
        raise SpecError(f"request.{key} must be a non-empty list of token ids in [0, {vocab})")
    return value


def load(req: Dict[str, Any]) -> Session:
    for key in ("model_dir",):
        _field(req, key, isinstance(req.get(key), str) and len(req[key]) > 0, "a directory path")
    device_name = req.get("device", "cuda")
    _field(req, "device", device_name in ("cpu", "cuda"), "'cpu' or 'cuda'")
    dtype_name = req.get("dtype", "bf16")
    _field(req, "dtype", dtype_name in DTYPES, "'fp32' or 'bf16'")
    impl = req.get("experts_impl", "auto")
    _field(req, "experts_impl", impl in ("auto", "grouped_mm", "segments"), "'auto', 'grouped_mm' or 'segments'")
    raw_bytes = req.get("token_bytes")
    _field(req, "token_bytes", isinstance(raw_bytes, list) and all(isinstance(b, str) for b in raw_bytes), "a list of base64 strings, one per token id")
    device = resolve_device(device_name)
    dtype = DTYPES[dtype_name]
    cfg = load_config(req["model_dir"])
    if len(raw_bytes) > cfg.vocab_size:
        raise SpecError(f"request.token_bytes has {len(raw_bytes)} tokens; the model's vocabulary has {cfg.vocab_size}")
    token_bytes = [base64.b64decode(b, validate=True) for b in raw_bytes] + [b""] * (cfg.vocab_size - len(raw_bytes))
    model = _build(cfg, _read_weights(req["model_dir"]), Layout.all_frozen(cfg), device, dtype)
    model.eval()
    chosen = set_experts_impl(model, impl, device, dtype)
    with open(f"{req['model_dir']}/config.json", "r", encoding="utf-8") as f:
        raw_cfg = json.load(f)
    max_positions = int(raw_cfg.get("max_position_embeddings", 4096))
    emit("ready", id=req.get("id"), model={
        "vocab_size": cfg.vocab_size,
        "max_positions": max_positions,
        "eos_token_id": raw_cfg.get("eos_token_id") if _is_int(raw_cfg.get("eos_token_id")) else None,
        "device": device.type,
        "dtype": dtype_name,
        "experts_impl": chosen,
        "kv_cache": "mla_latent",
    })
    return Session(model, RopeTable(cfg, device), token_bytes, max_positions)


def _batch_size(req: Dict[str, Any]) -> int:
    b = req.get("batch_size", 32)
    _field(req, "batch_size", _is_int(b, 1), "an integer >= 1")
    return b


def serve_generate(s: Session, req: Dict[str, Any]) -> None:
    vocab = s.model.cfg.vocab_size
    prompts = req.get("prompts")
    _field(req, "prompts", isinstance(prompts, list) and len(prompts) > 0, "a non-empty list of token id lists")
    ids = [_token_list(req, f"prompts[{i}]", p, vocab) for i, p in enumerate(prompts)]
    max_new = req.get("max_new_tokens")
    _field(req, "max_new_tokens", _is_int(max_new, 1), "an integer >= 1")
    longest = max(len(p) for p in ids)
    if longest + max_new > s.max_positions:
        raise SpecError(f"request.prompts: a prompt of {longest} tokens + max_new_tokens {max_new} exceeds the model's {s.max_positions} positions")
    stop = req.get("stop", [])
    _field(req, "stop", isinstance(stop, list) and all(isinstance(x, str) for x in stop), "a list of strings")
    eos = req.get("eos_token_ids", [])
    _field(req, "eos_token_ids", isinstance(eos, list) and all(_is_int(t) and t < vocab for t in eos), f"a list of token ids in [0, {vocab})")
    rid = req.get("id")
    results = generate(s.model, s.rope, ids, max_new, s.token_bytes, [x.encode("utf-8") for x in stop], eos, _batch_size(req),
                       lambda done, total: emit("progress", id=rid, done=done, total=total))
    emit("generated", id=rid, results=[{"tokens": g.tokens, "finish": g.finish} for g in results])


def serve_loglikelihood(s: Session, req: Dict[str, Any]) -> None:
    vocab = s.model.cfg.vocab_size
    raw = req.get("requests")
    _field(req, "requests", isinstance(raw, list) and len(raw) > 0, "a non-empty list of {tokens, continuation}")
    parsed: List[LoglikelihoodRequest] = []
    for i, r in enumerate(raw):
        if not isinstance(r, dict):
            raise SpecError(f"request.requests[{i}] must be an object {{tokens, continuation}}")
        tokens = _token_list(req, f"requests[{i}].tokens", r.get("tokens"), vocab)
        c = r.get("continuation")
        if not (_is_int(c, 1) and c < len(tokens)):
            raise SpecError(f"request.requests[{i}].continuation is {json.dumps(c)}; it must be an integer in [1, {len(tokens) - 1}] (tokens holds context + continuation)")
        if len(tokens) > s.max_positions:
            raise SpecError(f"request.requests[{i}].tokens has {len(tokens)} tokens; the model has {s.max_positions} positions")
        parsed.append(LoglikelihoodRequest(tokens, c))
    rid = req.get("id")
    results = loglikelihoods(s.model, s.rope, parsed, _batch_size(req), lambda done, total: emit("progress", id=rid, done=done, total=total))
    for i, r in enumerate(results):
        if not math.isfinite(r.logprob):
            raise ValueError(f"requests[{i}]: loglikelihood is {r.logprob} (not finite)")
    emit("loglikelihoods", id=rid, results=[{"logprob": r.logprob, "is_greedy": r.is_greedy} for r in results])


def main() -> int:
    sys.stdout = sys.stderr  # stray prints must not corrupt the message stream
    emit("hello", protocol_version=PROTOCOL_VERSION, command="serve_eval", hardware=hardware_info("cuda" if torch.cuda.is_available() else "cpu"))
    session: Optional[Session] = None
    for line in sys.stdin:
        if not line.strip():
            continue
        rid: Any = None
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise SpecError("a request must be a JSON object")
            rid = req.get("id")
            if not (rid is None or _is_int(rid)):
                raise SpecError("request.id must be a non-negative integer")
            op = req.get("op")
            if op == "load":
                if session is not None:
                    raise SpecError("request.op 'load': a model is already loaded; start another worker for another model")
                try:
                    session = load(req)
                except Exception as exc:  # a worker without a model is of no use: report and exit
                    code, message = error_of(exc)
                    if code == "internal":
                        traceback.print_exc(file=sys.stderr)
                    emit("error", id=rid, code=code, message=message)
                    return 1
            elif op in ("generate", "loglikelihood"):
                if session is None:
                    raise SpecError(f"request.op {op!r} before 'load'")
                (serve_generate if op == "generate" else serve_loglikelihood)(session, req)
            else:
                raise SpecError(f"request.op is {json.dumps(op)}; allowed: 'load', 'generate', 'loglikelihood'")
        except json.JSONDecodeError as exc:
            emit("error", id=None, code="bad_spec", message=f"request is not valid JSON: {exc}")
        except Exception as exc:  # one bad request fails alone
            code, message = error_of(exc)
            if code == "internal":
                traceback.print_exc(file=sys.stderr)
            emit("error", id=rid, code=code, message=message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
