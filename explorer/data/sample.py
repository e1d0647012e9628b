"""A small MNIST sample that ships in ``pretrained/``, so the app opens offline on a fresh
clone with real digits: 6,000 training and 4,000 test images drawn with a fixed seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from explorer.config import DataConfig
from explorer.data.base import Dataset
from explorer.errors import DataNotFoundError
from explorer.store.io import atomic_write_npz

PRETRAINED_DIR = Path(__file__).resolve().parents[2] / "pretrained"
SAMPLE_PATH = PRETRAINED_DIR / "mnist-sample.npz"
SAMPLE_SIZES = {"train": 6000, "test": 4000}


def load_mnist_sample(cfg: DataConfig) -> Dataset:
    if not SAMPLE_PATH.is_file():
        raise DataNotFoundError(
            f"The shipped MNIST sample {SAMPLE_PATH} is missing; rebuild it with "
            "`python scripts/build_pretrained.py --data-root PATH` or use --data mnist."
        )
    with np.load(SAMPLE_PATH, allow_pickle=False) as f:
        parts = {k: torch.from_numpy(f[k]) for k in ("x_train", "y_train", "x_test", "y_test")}
    as_x = lambda a: a.unsqueeze(1).float().div_(255.0)  # noqa: E731
    return Dataset(
        name="mnist_sample",
        kind="image",
        x_train=as_x(parts["x_train"]),
        y_train=parts["y_train"].long(),
        x_test=as_x(parts["x_test"]),
        y_test=parts["y_test"].long(),
        class_names=tuple(str(d) for d in range(10)),
    )


def write_mnist_sample(full: Dataset, seed: int = 0, path: Path = SAMPLE_PATH) -> Path:
    """Draw the sample from full MNIST and write it as compressed uint8 (about 2.5 MB)."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for part, n in SAMPLE_SIZES.items():
        x, y = getattr(full, f"x_{part}"), getattr(full, f"y_{part}")
        keep = np.sort(rng.choice(len(x), n, replace=False))
        arrays[f"x_{part}"] = (x[keep, 0] * 255).round().to(torch.uint8).numpy()
        arrays[f"y_{part}"] = y[keep].to(torch.uint8).numpy()
    return atomic_write_npz(path, arrays)
