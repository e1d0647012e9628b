"""A data set as one ``.npz`` of plain arrays (never pickled): how a model trained on an
upload keeps its data, so it evaluates on the same items anywhere, later."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from explorer.data.base import Dataset
from explorer.errors import DataError
from explorer.store.io import atomic_write_npz


def write_dataset(path: Path, data: Dataset) -> Path:
    arrays: dict[str, np.ndarray] = {"name": np.array(data.name), "kind": np.array(data.kind),
                                     "x_train": data.x_train.numpy(), "x_test": data.x_test.numpy()}
    for part in ("train", "test"):
        labels = getattr(data, f"y_{part}")
        if labels is not None:
            arrays[f"y_{part}"] = labels.numpy()
    if data.class_names:
        arrays["class_names"] = np.array(data.class_names)
    if data.feature_names:
        arrays["feature_names"] = np.array(data.feature_names)
    return atomic_write_npz(path, arrays)


def read_dataset(path: Path) -> Dataset:
    """The data set ``write_dataset`` stored at ``path``."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: f[key] for key in f.files}
        names = {key: tuple(str(v) for v in arrays[key]) if key in arrays else None
                 for key in ("class_names", "feature_names")}
        labels = {part: torch.from_numpy(arrays[f"y_{part}"]) if f"y_{part}" in arrays else None
                  for part in ("train", "test")}
        kind = str(arrays["kind"])
        if kind not in ("image", "tabular", "series"):
            raise ValueError(f"unknown kind {kind!r}")
        return Dataset(name=str(arrays["name"]), kind=kind,
                       x_train=torch.from_numpy(arrays["x_train"]), y_train=labels["train"],
                       x_test=torch.from_numpy(arrays["x_test"]), y_test=labels["test"],
                       class_names=names["class_names"], feature_names=names["feature_names"])
    except (OSError, EOFError, KeyError, ValueError) as exc:
        raise DataError(f"{path} is not a readable stored data set ({exc}); the checkpoint's data "
                        "copy is damaged. Give the data again with --data.") from None
