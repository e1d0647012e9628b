"""Latent arithmetic: class-mean codes and analogies ``z_A - z_B + z_C``."""

from __future__ import annotations

import numpy as np

from explorer.data import Dataset
from explorer.errors import DataError


def checked_members(members: np.ndarray, n_items: int, name: str) -> np.ndarray:
    """``members`` as item indices, or a DataError if group ``name`` is empty or out of range."""
    members = np.asarray(members, dtype=np.int64).reshape(-1)
    if members.size == 0:
        raise DataError(f"Group {name} is empty; pick a class or at least one item for it.")
    if members.min() < 0 or members.max() >= n_items:
        raise DataError(f"Group {name} names items outside 0..{n_items - 1}.")
    return members


def group_mean(z: np.ndarray, members: np.ndarray, name: str) -> np.ndarray:
    """The mean code of the items ``members`` (indices into ``z``)."""
    return z[checked_members(members, len(z), name)].mean(axis=0)


def class_means(z: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """The mean code of each class present in ``labels``."""
    return {int(c): z[labels == c].mean(axis=0) for c in np.unique(labels)}


def analogy(z: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``mean(A) - mean(B) + mean(C)``: what A is to B, applied to C (e.g. A = one item,
    B = its class, C = another class moves the item's style to the other class)."""
    return group_mean(z, a, "A") - group_mean(z, b, "B") + group_mean(z, c, "C")


def group_members(data: Dataset, spec: str, name: str) -> np.ndarray:
    """Test items of group ``name`` from a command-line ``spec``: a class name (every test item
    of that class) or ``items:I,J,...`` (those test items)."""
    if spec.startswith("items:"):
        try:
            members = np.array([int(v) for v in spec[len("items:"):].split(",") if v.strip()], dtype=np.int64)
        except (ValueError, OverflowError):
            raise DataError(f"Group {name}: items:I,J,... takes whole numbers, got {spec!r}.") from None
        return checked_members(members, len(data.x_test), name)
    if data.y_test is None:
        raise DataError(f"{data.name} has no labels, so group {name} cannot be a class; give "
                        "items:I,J,... instead.")
    return np.flatnonzero(data.y_test.numpy() == data.class_label(spec))
