"""Worker entry point: `python -m worker.main [--spec FILE]` (spec JSON from FILE or stdin).

Writes newline-delimited JSON messages to stdout: hello, then ready/step/checkpoint/done for a train
run, done for a merge, or error {code, message}. Exit status 0 after done, 1 after an error.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback

import torch

from .checkpoint import CheckpointError
from .config import ConfigError
from .data import DataError
from .merge import merge
from .protocol import PROTOCOL_VERSION, Emitter, SpecError, parse_spec
from .safetensors_io import SafetensorsError
from .train import WorkerError, hardware_info, run_select, run_train

OOM_ERRORS = tuple(e for e in (getattr(torch.cuda, "OutOfMemoryError", None), getattr(torch, "OutOfMemoryError", None)) if e is not None)


def error_of(exc: BaseException) -> tuple[str, str]:
    """Maps an exception to (code, message) for the error message."""
    if isinstance(exc, WorkerError):
        return exc.code, str(exc)
    if isinstance(exc, SpecError):
        return "bad_spec", str(exc)
    if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
        return "file_not_found", str(exc)
    if isinstance(exc, ConfigError):
        return "unsupported_model", str(exc)
    if isinstance(exc, (SafetensorsError, CheckpointError)):
        return "bad_checkpoint", str(exc)
    if isinstance(exc, DataError):
        return "bad_data", str(exc)
    if (OOM_ERRORS and isinstance(exc, OOM_ERRORS)) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc)):
        return "out_of_memory", f"out of GPU memory: {str(exc).splitlines()[0]}"
    return "internal", f"{type(exc).__name__}: {exc}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", help="run spec JSON file (default: read stdin)")
    args = parser.parse_args()
    out = Emitter(sys.stdout)
    sys.stdout = sys.stderr  # stray prints must not corrupt the message stream
    try:
        if args.spec:
            with open(args.spec, "r", encoding="utf-8") as f:
                text = f.read()
        else:
            text = sys.stdin.read()
    except OSError as e:
        out.emit("error", code="file_not_found", message=f"cannot read the spec file: {e}")
        return 1
    command = "unknown"
    raw = None
    try:
        raw = json.loads(text)
        if isinstance(raw, dict) and isinstance(raw.get("command"), str):
            command = raw["command"]
    except json.JSONDecodeError:
        pass
    device = raw.get("device", "cuda") if command in ("train", "select") and isinstance(raw, dict) else "cpu"
    out.emit("hello", protocol_version=PROTOCOL_VERSION, command=command, hardware=hardware_info(str(device)))
    try:
        kind, spec = parse_spec(text)
        if kind == "train":
            run_train(spec, out)
        elif kind == "select":
            run_select(spec, out)
        else:
            out.emit("done", command="merge", result=merge(spec.base_dir, spec.adapter_dir, spec.output_dir))
        return 0
    except Exception as exc:  # every failure becomes one error message and exit status 1
        code, message = error_of(exc)
        if code == "internal":
            traceback.print_exc(file=sys.stderr)
        out.emit("error", code=code, message=message)
        return 1


if __name__ == "__main__":
    sys.exit(main())
