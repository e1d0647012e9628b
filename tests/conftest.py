from __future__ import annotations

import explorer  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)
from pathlib import Path

import pytest
import torch

from explorer.config import DataConfig
from explorer.data import Dataset, load_dataset

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def _deterministic() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def digits() -> Dataset:
    return load_dataset(DataConfig("digits"))


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    if not (SHARED_DATA / "MNIST" / "raw" / "train-images-idx3-ubyte").exists():
        pytest.skip(f"real MNIST not found under {SHARED_DATA}")
    return SHARED_DATA
