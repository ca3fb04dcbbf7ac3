"""Long-lived evaluation worker: `python -m worker.serve_eval`, one JSON request per stdin line, one JSON
message per stdout line. Requests (load, then generate / loglikelihood) and messages (hello, ready, progress,
generated, loglikelihoods, error) are defined once in src/worker/eval-messages.ts and checked here against
protocol.schema.json, emitted from it (the TypeScript client is packages/eval/src/worker-backend.ts). A bad request
is answered with an error and the worker carries on; a failed load is fatal (exit 1); end of stdin ends the worker
(exit 0). Token ids cross the boundary; text never does, except stop sequences (matched on bytes).
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
from .protocol import PROTOCOL_VERSION, SCHEMAS, Emitter, SpecError, checked
from .train import DTYPES, _build, _read_weights, hardware_info, resolve_device, set_experts_impl


class Session:
    def __init__(self, model: DeepseekV2, rope: RopeTable, token_bytes: List[bytes], max_positions: int) -> None:
        self.model = model
        self.rope = rope
        self.token_bytes = token_bytes
        self.max_positions = max_positions


emit = Emitter(sys.__stdout__, "eval_message").emit  # sys.stdout itself is sent to stderr in main


def _is_int(v: Any, lo: int = 0) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= lo


def _in_vocab(key: str, ids: List[int], vocab: int) -> List[int]:
    """The schema checked the ids are integers >= 0; the model's vocabulary bounds them here."""
    if any(t >= vocab for t in ids):
        raise SpecError(f"request.{key} must be a non-empty list of token ids in [0, {vocab})")
    return ids


def load(req: Dict[str, Any]) -> Session:
    raw_bytes = req["token_bytes"]
    device = resolve_device(req["device"])
    dtype = DTYPES[req["dtype"]]
    cfg = load_config(req["model_dir"])
    if len(raw_bytes) > cfg.vocab_size:
        raise SpecError(f"request.token_bytes has {len(raw_bytes)} tokens; the model's vocabulary has {cfg.vocab_size}")
    token_bytes = [base64.b64decode(b, validate=True) for b in raw_bytes] + [b""] * (cfg.vocab_size - len(raw_bytes))
    model = _build(cfg, _read_weights(req["model_dir"]), Layout.all_frozen(cfg), device, dtype)
    model.eval()
    chosen = set_experts_impl(model, req["experts_impl"], device, dtype)
    with open(f"{req['model_dir']}/config.json", "r", encoding="utf-8") as f:
        raw_cfg = json.load(f)
    max_positions = int(raw_cfg.get("max_position_embeddings", 4096))
    emit("ready", id=req["id"], model={
        "vocab_size": cfg.vocab_size,
        "max_positions": max_positions,
        "eos_token_id": raw_cfg.get("eos_token_id") if _is_int(raw_cfg.get("eos_token_id")) else None,
        "device": device.type,
        "dtype": req["dtype"],
        "experts_impl": chosen,
        "kv_cache": "mla_latent",
    })
    return Session(model, RopeTable(cfg, device), token_bytes, max_positions)


def serve_generate(s: Session, req: Dict[str, Any]) -> None:
    vocab = s.model.cfg.vocab_size
    ids = [_in_vocab(f"prompts[{i}]", p, vocab) for i, p in enumerate(req["prompts"])]
    max_new = req["max_new_tokens"]
    longest = max(len(p) for p in ids)
    if longest + max_new > s.max_positions:
        raise SpecError(f"request.prompts: a prompt of {longest} tokens + max_new_tokens {max_new} exceeds the model's {s.max_positions} positions")
    if any(t >= vocab for t in req["eos_token_ids"]):
        raise SpecError(f"request.eos_token_ids must be a list of token ids in [0, {vocab})")
    rid = req["id"]
    results = generate(s.model, s.rope, ids, max_new, s.token_bytes, [x.encode("utf-8") for x in req["stop"]], req["eos_token_ids"], req["batch_size"],
                       lambda done, total: emit("progress", id=rid, done=done, total=total))
    emit("generated", id=rid, results=[{"tokens": g.tokens, "finish": g.finish} for g in results])


def serve_loglikelihood(s: Session, req: Dict[str, Any]) -> None:
    vocab = s.model.cfg.vocab_size
    parsed: List[LoglikelihoodRequest] = []
    for i, r in enumerate(req["requests"]):
        tokens = _in_vocab(f"requests[{i}].tokens", r["tokens"], vocab)
        c = r["continuation"]
        if c >= len(tokens):
            raise SpecError(f"request.requests[{i}].continuation is {json.dumps(c)}; it must be an integer in [1, {len(tokens) - 1}] (tokens holds context + continuation)")
        if len(tokens) > s.max_positions:
            raise SpecError(f"request.requests[{i}].tokens has {len(tokens)} tokens; the model has {s.max_positions} positions")
        parsed.append(LoglikelihoodRequest(tokens, c))
    rid = req["id"]
    results = loglikelihoods(s.model, s.rope, parsed, req["batch_size"], lambda done, total: emit("progress", id=rid, done=done, total=total))
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
            raw = json.loads(line)
            # an error about a request goes back under its id when it has a usable one
            rid = raw.get("id") if isinstance(raw, dict) and _is_int(raw.get("id")) else None
            if isinstance(raw, dict) and raw.get("op") == "load":
                if session is not None:
                    raise SpecError("request.op 'load': a model is already loaded; start another worker for another model")
                try:
                    session = load(checked(SCHEMAS["eval_request"], raw, "request"))
                except Exception as exc:  # a worker without a model is of no use: report and exit
                    code, message = error_of(exc)
                    if code == "internal":
                        traceback.print_exc(file=sys.stderr)
                    emit("error", id=rid, code=code, message=message)
                    return 1
            else:
                req = checked(SCHEMAS["eval_request"], raw, "request")
                if session is None:
                    raise SpecError(f"request.op {req['op']!r} before 'load'")
                (serve_generate if req["op"] == "generate" else serve_loglikelihood)(session, req)
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
