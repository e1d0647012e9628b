"""``python -m explorer``: everything the app does, from a shell. Every command takes
``--json``; bad input exits 2 with one line saying what to fix.

``parser`` builds the command line, ``common`` holds what the commands share, ``models`` and
``lab`` the commands (grouped by what they work on, not one module each: most are a dozen
lines, and one module per command would scatter their shared helpers)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from explorer.cli import lab, models
from explorer.cli.common import UsageError
from explorer.cli.models import app_command
from explorer.cli.parser import build_parser
from explorer.errors import OUT_OF_MEMORY_MESSAGE, ExplorerError, OutOfMemoryError


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        result = COMMANDS[args.command](args)
    except ExplorerError as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except _out_of_memory():
        print(f"error: {OutOfMemoryError(OUT_OF_MEMORY_MESSAGE)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(_as_text(result))
    return 0


def _one_line(exc: Exception) -> str:
    """A message on one line, whatever a path or a library's text put in it."""
    return " ".join(str(exc).split())


def _out_of_memory() -> tuple[type[BaseException], ...]:
    """MemoryError, and torch's device OOM once torch is loaded (the CLI imports it lazily)."""
    torch = sys.modules.get("torch")
    return (MemoryError,) if torch is None else (MemoryError, torch.OutOfMemoryError)


def _as_text(result: Any) -> str:
    if isinstance(result, list):
        return "\n".join(
            "  ".join(str(v) for v in item.values() if v is not None) if isinstance(item, dict)
            else str(item)
            for item in result
        )
    if isinstance(result, dict):
        return "\n".join(
            f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}" for k, v in result.items()
        )
    return str(result)


COMMANDS = {
    "import": models.cmd_import,
    "app": models.cmd_app,
    "devices": models.cmd_devices,
    "models": models.cmd_models,
    "data": models.cmd_data,
    "train": models.cmd_train,
    "evaluate": models.cmd_evaluate,
    "encode": models.cmd_encode,
    "project": models.cmd_project,
    "knn": models.cmd_knn,
    "finetune": lab.cmd_finetune,
    "regularity": lab.cmd_regularity,
    "beta": lab.cmd_beta,
    "samplers": lab.cmd_samplers,
    "stretch": lab.cmd_stretch,
    "interpolate": lab.cmd_interpolate,
    "denoise": lab.cmd_denoise,
    "arithmetic": lab.cmd_arithmetic,
    "anomaly": lab.cmd_anomaly,
}

__all__ = ["COMMANDS", "UsageError", "app_command", "build_parser", "main"]
