"""The one record every data source returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from explorer.config import Likelihood
from explorer.errors import DataError

Kind = Literal["image", "tabular", "series"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A data set split into train and test parts.

    ``x_*`` are float32 tensors of shape ``(n, *item_shape)``: images are ``(C, H, W)``
    with values in [0, 1], series are ``(T, C)``, tabular rows are ``(D,)``.
    ``y_*`` are int64 class labels or ``None``.
    """

    name: str
    kind: Kind
    x_train: torch.Tensor
    y_train: torch.Tensor | None
    x_test: torch.Tensor
    y_test: torch.Tensor | None
    class_names: tuple[str, ...] | None = None
    feature_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for part in ("train", "test"):
            x, y = getattr(self, f"x_{part}"), getattr(self, f"y_{part}")
            if x.dtype != torch.float32:
                raise DataError(f"{self.name}: x_{part} must be float32, got {x.dtype}.")
            if len(x) == 0:
                raise DataError(f"{self.name}: the {part} split is empty; provide more samples.")
            if not torch.isfinite(x).all():
                raise DataError(
                    f"{self.name}: the {part} split contains NaN or infinite values; "
                    "clean or impute them first."
                )
            if y is not None and len(y) != len(x):
                raise DataError(f"{self.name}: {len(x)} {part} samples but {len(y)} labels.")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DataError(f"{self.name}: train and test items have different shapes.")

    @property
    def item_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def n_features(self) -> int:
        return int(np.prod(self.item_shape))

    @property
    def likelihood(self) -> Likelihood:
        """Bernoulli (BCE) for intensities in [0, 1], Gaussian (MSE) for anything else."""
        in_unit = bool(self.x_train.min() >= 0 and self.x_train.max() <= 1)
        return "bernoulli" if self.kind == "image" and in_unit else "gaussian"

    @property
    def n_classes(self) -> int:
        if self.y_train is None:
            return 0
        return int(max(self.y_train.max(), self.y_test.max() if self.y_test is not None else 0)) + 1

    def label_name(self, label: int) -> str:
        if self.class_names is not None and 0 <= label < len(self.class_names):
            return self.class_names[label]
        return str(label)

    def class_label(self, name: int | str) -> int:
        """The label of the class called ``name``, or ``name`` itself if it is a label."""
        names = [self.label_name(c) for c in range(self.n_classes)]
        if str(name) in names:
            return names.index(str(name))
        if isinstance(name, int) and 0 <= name < len(names):
            return name
        raise DataError(f"{self.name} has no class {str(name)!r}; its classes are {', '.join(names)}.")

    def to_display(self, x: torch.Tensor | np.ndarray) -> np.ndarray:
        """Items as arrays a plot can show: images ``(n, H, W)`` or ``(n, H, W, 3)`` in
        [0, 1]; series ``(n, T, C)``; tabular rows ``(n, D)``."""
        arr = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        arr = arr.reshape((-1, *self.item_shape)).astype(np.float32)
        if self.kind != "image":
            return arr
        arr = np.clip(arr, 0.0, 1.0)
        return arr[:, 0] if arr.shape[1] == 1 else np.moveaxis(arr, 1, -1)


def split(
    name: str,
    kind: Kind,
    x: np.ndarray,
    y: np.ndarray | None,
    test_fraction: float,
    seed: int,
    class_names: tuple[str, ...] | None = None,
    feature_names: tuple[str, ...] | None = None,
) -> Dataset:
    """A fixed-seed random train/test split of whole arrays (stratified when labelled)."""
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_fraction < 1.0:
        raise DataError(f"test_fraction must be between 0 and 1, got {test_fraction}.")
    if len(x) < 4:
        raise DataError(f"{name}: {len(x)} samples are too few; at least 4 are needed.")
    index = np.arange(len(x))
    stratify = y if y is not None and _can_stratify(y, test_fraction) else None
    train_idx, test_idx = train_test_split(
        index, test_size=test_fraction, random_state=seed, stratify=stratify
    )
    as_x = lambda idx: torch.from_numpy(np.ascontiguousarray(x[idx], dtype=np.float32))  # noqa: E731
    as_y = lambda idx: None if y is None else torch.from_numpy(y[idx].astype(np.int64))  # noqa: E731
    return Dataset(
        name=name,
        kind=kind,
        x_train=as_x(train_idx),
        y_train=as_y(train_idx),
        x_test=as_x(test_idx),
        y_test=as_y(test_idx),
        class_names=class_names,
        feature_names=feature_names,
    )


def _can_stratify(y: np.ndarray, test_fraction: float) -> bool:
    counts = np.bincount(y)
    counts = counts[counts > 0]
    n_test = int(np.ceil(test_fraction * len(y)))
    return bool(counts.min() >= 2 and n_test >= len(counts) and len(y) - n_test >= len(counts))


def standardize(x: np.ndarray, axis: int | tuple[int, ...] = 0) -> np.ndarray:
    """Zero mean, unit variance along ``axis`` (constant features are centred, not divided)."""
    std = x.std(axis=axis, keepdims=True)
    return ((x - x.mean(axis=axis, keepdims=True)) / np.where(std > 0, std, 1.0)).astype(np.float32)


def encode_labels(raw: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map arbitrary label values (strings, floats) to 0..K-1 and their display names."""
    values, codes = np.unique(raw.astype(str) if raw.dtype.kind in "OUS" else raw, return_inverse=True)
    return codes.astype(np.int64), tuple(str(v) for v in values)
