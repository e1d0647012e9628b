"""Files the app and the CLI write: tables of arrays as ``.npz`` or ``.csv`` bytes, and atomic
writes (write beside the target, then rename over it)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def npz_bytes(arrays: dict, compressed: bool = True) -> bytes:
    """Arrays as ``.npz`` bytes (never pickled), each its own entry; ``None`` entries left out."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(
        buffer, **{name: value for name, value in arrays.items() if value is not None})
    return buffer.getvalue()


def csv_bytes(columns: dict) -> bytes:
    """Arrays of one row per item as one CSV: a one-column array under its name, a wider one
    as ``name1, name2, ...`` (counted from 1, as imported code tables are); ``None`` columns
    left out; numbers as ``%.6g``."""
    import io

    import numpy as np

    header, blocks = [], []
    for name, value in columns.items():
        if value is None:
            continue
        arr = np.asarray(value)
        arr = arr.reshape(len(arr), -1)
        header += [name] if arr.shape[1] == 1 else [f"{name}{i + 1}" for i in range(arr.shape[1])]
        blocks.append(arr.astype(np.float64))
    buffer = io.StringIO()
    np.savetxt(buffer, np.hstack(blocks), delimiter=",", header=",".join(header), comments="", fmt="%.6g")
    return buffer.getvalue().encode()


def atomic_write_npz(path: str | Path, arrays: dict, compressed: bool = True) -> Path:
    """Arrays as an ``.npz`` (never pickled), written atomically."""
    return atomic_write_bytes(path, npz_bytes(arrays, compressed))


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
