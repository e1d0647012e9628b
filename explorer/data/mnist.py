"""MNIST through torchvision, read from local files (this machine has no internet)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from explorer.config import DataConfig
from explorer.data.base import Dataset
from explorer.errors import DataNotFoundError

DATA_ROOT_ENV = "LATENT_EXPLORER_DATA"
DEFAULT_ROOT = "data"


def resolve_root(root: str | None) -> Path:
    """``root`` if given, else ``$LATENT_EXPLORER_DATA``, else ``./data``."""
    return Path(root or os.environ.get(DATA_ROOT_ENV) or DEFAULT_ROOT).expanduser()


def load_mnist(cfg: DataConfig) -> Dataset:
    """The 60,000/10,000 canonical split, pixels in [0, 1], shape ``(1, 28, 28)``.

    Reads ``ROOT/MNIST/raw``; tries a download only where the files are missing.
    """
    from torchvision.datasets import MNIST

    root = resolve_root(cfg.root)
    parts = []
    for train in (True, False):
        try:
            parts.append(MNIST(root=str(root), train=train, download=False))
        except RuntimeError:
            try:
                parts.append(MNIST(root=str(root), train=train, download=True))
            except Exception as exc:  # any network failure: say where the files go
                raise DataNotFoundError(
                    f"MNIST files not found under {root / 'MNIST' / 'raw'} and the download "
                    f"failed ({type(exc).__name__}). Put train-images-idx3-ubyte, "
                    "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte "
                    f"there, or pass --data-root (or set {DATA_ROOT_ENV}) to the folder "
                    "that holds MNIST/raw."
                ) from None
    (x_train, y_train), (x_test, y_test) = (_tensors(p, cfg, i) for i, p in enumerate(parts))
    return Dataset(
        name="mnist",
        kind="image",
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=tuple(str(d) for d in range(10)),
    )


def _tensors(part, cfg: DataConfig, offset: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = part.data.unsqueeze(1).float().div_(255.0)
    y = part.targets.long()
    if cfg.max_samples is not None and cfg.max_samples < len(x):
        # A fixed-seed subset keeps quick runs reproducible and class-balanced on average.
        rng = np.random.default_rng(cfg.seed + offset)
        keep = torch.from_numpy(np.sort(rng.choice(len(x), cfg.max_samples, replace=False)))
        x, y = x[keep], y[keep]
    return x.contiguous(), y
