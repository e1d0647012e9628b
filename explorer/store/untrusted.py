"""Reading the bytes of a checkpoint someone else wrote without trusting them: a file is
sized before it is opened, JSON is read with a size and a nesting bound, and a safetensors
file's header (tensor shapes and offsets) is checked against the file's length before any
weights are. Every failure is a ``CheckpointError`` that names the file and what is wrong."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from explorer.errors import CheckpointError

MAX_CONFIG_BYTES = 10 * 2**20  # a config with a long history is well under 1 MiB
MAX_JSON_DEPTH = 32  # the deepest a saved config nests is 4
MAX_WEIGHTS_HEADER_BYTES = 2**20  # safetensors' JSON header: ~100 bytes per tensor


def regular_size(path: Path) -> int | None:
    """The size of the regular file at ``path``; None for nothing, a folder, a FIFO or a device."""
    try:
        info = os.stat(path)
    except OSError:  # missing, a link loop, no permission
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def parse_config_json(path: Path) -> Any:
    size = regular_size(path) or 0
    if size > MAX_CONFIG_BYTES:
        raise CheckpointError(f"{path} is {size / 2**20:.1f} MiB; a checkpoint config is at most "
                              f"{MAX_CONFIG_BYTES // 2**20} MiB, so this is not one.")
    try:
        with open(path, "rb") as handle:
            config = json.loads(handle.read(MAX_CONFIG_BYTES + 1).decode("utf-8"))
    except RecursionError:
        raise CheckpointError(f"{path} nests too deeply to be a checkpoint config.") from None
    except (ValueError, OSError) as exc:  # JSONDecodeError, UnicodeDecodeError, a 5000-digit number
        reason = " ".join(str(exc).split())[:200]
        raise CheckpointError(f"{path} is not valid JSON ({reason}); the checkpoint is corrupt.") from None
    if json_depth(config) > MAX_JSON_DEPTH:
        raise CheckpointError(f"{path} nests deeper than {MAX_JSON_DEPTH} levels; it is not a "
                              "checkpoint config.")
    return config


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value``, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def unreadable_weights(path: Path, reason: Any) -> CheckpointError:
    return CheckpointError(f"{path} is not a readable safetensors file ({reason}). The checkpoint "
                           "is corrupt or was not written by Latent Explorer.")


def weights_header(path: Path, size: int) -> dict[str, tuple[int, ...]]:
    """Each tensor's shape from a safetensors file's header (an 8-byte length, then JSON),
    read before any weights are, with the file's size checked against the bytes it announces."""
    with open(path, "rb") as handle:
        head = handle.read(8)
        length = int.from_bytes(head, "little") if len(head) == 8 else -1
        if not 0 < length <= min(MAX_WEIGHTS_HEADER_BYTES, size - 8):
            raise unreadable_weights(path, f"a header of {length:,} bytes in a file of {size:,}")
        try:
            header = json.loads(handle.read(length).decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            reason = " ".join(str(exc).split())[:100]
            raise unreadable_weights(path, f"the header is not JSON: {reason}") from None
    if not isinstance(header, dict):
        raise unreadable_weights(path, "the header is not a JSON object")
    shapes, end = {}, 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)
                and isinstance(offsets, list) and len(offsets) == 2
                and all(type(o) is int for o in offsets)):
            raise unreadable_weights(path, f"tensor {name!r} has no valid shape and offsets")
        shapes[name], end = tuple(shape), max(end, offsets[1])
    if 8 + length + end != size:
        raise unreadable_weights(path, f"the header announces {end:,} bytes of weights; the file holds "
                                f"{size - 8 - length:,}, so it is truncated or padded")
    return shapes
