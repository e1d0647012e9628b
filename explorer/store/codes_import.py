"""Codes computed elsewhere (embeddings from another tool, a model of your own) as a folder
every page and command opens: ``import_codes`` reads an ``.npz``, ``.csv`` or ``.parquet``
of codes, with optional labels and the items they belong to, and writes ``config.json``,
``imported_codes.npz`` and ``data.npz`` through the one atomic save.

Without items, each code stands for itself: the folder's items are the code vectors, so
hover texts, exports and neighbours show them."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from explorer.config import DataConfig, ModelConfig, TrainConfig, to_dict
from explorer.data import Dataset
from explorer.data.base import encode_labels, split
from explorer.data.file_formats import read_csv, read_npz
from explorer.data.limits import max_data_bytes
from explorer.data.uploads import read_bounded
from explorer.errors import DataError
from explorer.models.stored_codes import CODES_MODEL_NAME, IMPORTED_CODES_FILE, StoredCodes
from explorer.store.checkpoint import FORMAT_VERSION, library_versions, save_folder
from explorer.store.io import atomic_write_npz

CODES_SUFFIXES = (".npz", ".csv", ".parquet")
MIN_CODES = 4  # a train/test split needs a few of each


@dataclass(frozen=True, eq=False)
class CodesFile:
    filename: str
    z: np.ndarray  # (n, latent_dim) float32
    labels: np.ndarray | None  # raw label values, one per code
    columns: tuple[str, ...]  # one name per code dimension


def read_codes(path: str | Path, labels: str | None = None) -> CodesFile:
    """The codes in ``path``: an ``.npz`` with the codes as its only array (or ``x``) and
    labels as ``y``; a ``.csv`` or ``.parquet`` with one numeric column per dimension and
    ``labels`` naming the label column, if any."""
    path = Path(path).expanduser()
    _check_suffix(path.name)
    return read_codes_bytes(read_bounded(path), path.name, labels)


def _check_suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in CODES_SUFFIXES:
        raise DataError(f"{filename}: codes must be a {', '.join(CODES_SUFFIXES)} file, "
                        f"not {suffix or '(no extension)'!r}.")
    return suffix


def read_codes_bytes(data: bytes, filename: str, labels: str | None = None) -> CodesFile:
    """``read_codes`` of a file's bytes (an upload), the kind told by ``filename``."""
    suffix = _check_suffix(filename)
    if not data:
        raise DataError(f"{filename} is empty (0 bytes).")
    if len(data) > max_data_bytes():
        raise DataError(f"{filename} holds {len(data):,} bytes, over the data limit; "
                        "LATENT_EXPLORER_MAX_DATA_BYTES raises it.")
    if suffix == ".npz":
        if labels not in (None, "y"):
            raise DataError(f"{filename}: in an .npz the labels are the array 'y'; drop --labels "
                            f"{labels!r} or save with np.savez(path, z=codes, y=labels).")
        z, y, _ = read_npz(data, filename)
        columns = None
    elif suffix == ".csv":
        z, y, columns = read_csv(data, filename, labels)
    else:
        z, y, columns = _read_parquet(data, filename, labels)
    return _checked(filename, z, y, columns)


def _read_parquet(data: bytes, filename: str,
                  labels: str | None) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"{filename} is not a readable Parquet file ({str(exc)[:200]}).") from None
    names = list(table.column_names)
    if labels is not None and labels not in names:
        raise DataError(f"{filename} has no column {labels!r}; its columns: {', '.join(names[:20])}.")
    y = table.column(labels).to_numpy(zero_copy_only=False) if labels is not None else None
    columns = tuple(n for n in names if n != labels)
    for name in columns:
        kind = table.schema.field(name).type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            raise DataError(f"{filename}: column {name!r} holds {kind}, not numbers; name it with "
                            "--labels if it is the label, or drop it.")
    if not columns:
        raise DataError(f"{filename} has no numeric columns to read codes from.")
    z = np.stack([table.column(n).to_numpy(zero_copy_only=False) for n in columns], axis=1)
    return z, y, columns


def _checked(filename: str, z: np.ndarray, y: np.ndarray | None,
             columns: tuple[str, ...] | None) -> CodesFile:
    if z.dtype.kind not in "biuf":
        raise DataError(f"{filename}: codes must be numbers, got dtype {z.dtype}.")
    if z.ndim != 2:
        raise DataError(f"{filename}: codes have shape {z.shape}; expected one code per row, "
                        "(n, latent_dim).")
    if len(z) < MIN_CODES or z.shape[1] < 1:
        raise DataError(f"{filename}: {len(z)} codes of {z.shape[1]} numbers; at least "
                        f"{MIN_CODES} codes are needed.")
    z = z.astype(np.float32)
    bad = int(np.count_nonzero(~np.isfinite(z)))
    if bad:
        raise DataError(f"{filename}: {bad} code values are NaN or infinite (or too large for "
                        "float32); clean them first.")
    if y is not None:
        y = np.asarray(y).reshape(-1)
        if len(y) != len(z):
            raise DataError(f"{filename}: {len(z)} codes but {len(y)} labels.")
        if y.dtype.kind == "O":
            if any(v is None for v in y):
                raise DataError(f"{filename}: some labels are missing; label every code.")
            y = y.astype(str)
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise DataError(f"{filename}: some labels are NaN or infinite; label every code.")
    names = tuple(columns) if columns else tuple(f"z{i + 1}" for i in range(z.shape[1]))
    return CodesFile(filename, z, y, names)


def _items_for(codes: CodesFile, data: Dataset, filename: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The items the codes belong to, in the codes' order: the data's test split, or all of
    its items (train, then test)."""
    n = len(codes.z)
    test, train = data.x_test.numpy(), data.x_train.numpy()
    y_test = None if data.y_test is None else data.y_test.numpy()
    if n == len(test):
        return test, y_test
    if n == len(train) + len(test):
        y = None if y_test is None or data.y_train is None else np.concatenate([data.y_train.numpy(), y_test])
        return np.concatenate([train, test]), y
    raise DataError(f"{filename} holds {n:,} codes, but {data.name} has {len(test):,} test items and "
                    f"{len(train) + len(test):,} in all; give one code per test item, or per item "
                    "(train first, then test).")


def import_codes(source: str | Path | CodesFile, out: str | Path, *, labels: str | None = None,
                 data: str | DataConfig | Dataset | None = None, overwrite: bool = False,
                 on_progress: Callable[[str], None] | None = None) -> Path:
    """Write a codes-only folder at ``out`` from the codes file at ``source`` (or codes
    already read: ``labels`` is then the column they were read with)."""
    from explorer.store.byo import resolve_data, write_default_maps

    codes = source if isinstance(source, CodesFile) else read_codes(source, labels)
    name = Path(codes.filename).stem or "codes"
    if data is None:
        items, kind, item_labels, data_cfg = codes.z, "tabular", None, DataConfig(name="upload", path=name)
        features: tuple[str, ...] | None = codes.columns
    else:
        dataset, data_cfg, _ = resolve_data(data)
        items, item_labels = _items_for(codes, dataset, codes.filename)
        kind, features, name = dataset.kind, dataset.feature_names, dataset.name
    raw = codes.labels if codes.labels is not None else item_labels
    if raw is None:
        y, class_names = None, None
    elif codes.labels is None and data is not None and dataset.class_names:
        y, class_names = raw.astype(np.int64), dataset.class_names
    else:
        y, class_names = encode_labels(raw)
    stored = split(name, kind, items, y, 0.2, 0, class_names, features if kind == "tabular" else None)
    cfg = ModelConfig(name=CODES_MODEL_NAME, input_shape=tuple(items.shape[1:]),
                      latent_dim=codes.z.shape[1], hidden=(), channels=())
    # The lookup table pairs each item of the split with its code, as it will on every load.
    table = StoredCodes(cfg, items, codes.z)
    paired = {part: table.encode(getattr(stored, f"x_{part}")).numpy() for part in ("train", "test")}
    config: dict[str, Any] = {
        "format_version": FORMAT_VERSION, "model": to_dict(cfg), "data": to_dict(data_cfg),
        "train": to_dict(TrainConfig()), "metrics": {}, "history": {}, "versions": library_versions(),
        "codes": {"file": codes.filename, "labels": labels, "columns": list(codes.columns),
                  "with_items": data is not None},
        "summary": f"imported codes: {len(codes.z):,} codes of {codes.z.shape[1]} numbers, no decoder",
    }

    def write_codes(tmp: Path) -> None:
        atomic_write_npz(tmp / IMPORTED_CODES_FILE, paired)

    folder = save_folder(out, config, write_codes, overwrite=overwrite, dataset=stored)
    return write_default_maps(folder, stored, on_progress)
