"""Data sources: each is a function ``DataConfig -> Dataset``."""

from __future__ import annotations

from collections.abc import Callable

from explorer.config import DataConfig
from explorer.data import builtin
from explorer.data.base import Dataset, Kind, split
from explorer.data.sample import load_mnist_sample
from explorer.data.torchvision_sets import DATA_ROOT_ENV, TORCHVISION_SETS, resolve_root
from explorer.errors import DataError

SOURCES: dict[str, Callable[[DataConfig], Dataset]] = {
    "digits": builtin.load_digits,
    "mnist_sample": load_mnist_sample,
    "swiss_roll": builtin.load_swiss_roll,
    "moons": builtin.load_moons,
    "blobs": builtin.load_blobs,
    "wine": builtin.load_wine,
    "breast_cancer": builtin.load_breast_cancer,
    "sines": builtin.load_sines,
    # MNIST, Fashion-MNIST, KMNIST, EMNIST letters, CIFAR-10, CelebA: local files via torchvision.
    **{spec.name: spec.load for spec in TORCHVISION_SETS},
}


def load_dataset(cfg: DataConfig) -> Dataset:
    """Load the source ``cfg.name``; ``"upload"`` reads the user's file at ``cfg.path``."""
    if cfg.name == "upload":
        from explorer.data.uploads import load_upload_path

        if not cfg.path:
            raise DataError("An upload needs a file: pass its path (--data FILE).")
        return load_upload_path(cfg)
    if cfg.name not in SOURCES:
        raise DataError(
            f"Unknown data source {cfg.name!r}. Choose one of {', '.join(SOURCES)}, "
            "or give the path of a .npz, .npy, .csv, image or .zip file."
        )
    return SOURCES[cfg.name](cfg)


__all__ = ["DATA_ROOT_ENV", "Dataset", "Kind", "SOURCES", "load_dataset", "resolve_root", "split"]
