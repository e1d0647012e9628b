"""Latent arithmetic: class-mean codes and analogies ``z_A - z_B + z_C``."""

from __future__ import annotations

import numpy as np

from explorer.errors import DataError


def group_mean(z: np.ndarray, members: np.ndarray, name: str) -> np.ndarray:
    """The mean code of the items ``members`` (indices into ``z``)."""
    members = np.asarray(members, dtype=np.int64).reshape(-1)
    if members.size == 0:
        raise DataError(f"Group {name} is empty; pick a class or at least one item for it.")
    if members.min() < 0 or members.max() >= len(z):
        raise DataError(f"Group {name} names items outside 0..{len(z) - 1}.")
    return z[members].mean(axis=0)


def class_means(z: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """The mean code of each class present in ``labels``."""
    return {int(c): z[labels == c].mean(axis=0) for c in np.unique(labels)}


def analogy(z: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``mean(A) - mean(B) + mean(C)``: what A is to B, applied to C (e.g. A = one item,
    B = its class, C = another class moves the item's style to the other class)."""
    return group_mean(z, a, "A") - group_mean(z, b, "B") + group_mean(z, c, "C")
