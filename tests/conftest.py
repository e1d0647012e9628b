from __future__ import annotations

import explorer  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)
import os
from pathlib import Path

import pytest
import torch

from explorer.cli import main as cli
from explorer.config import DataConfig
from explorer.data import Dataset, load_dataset

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# The app's background UMAP compile outlives the AppTest that starts it: it would write into
# later tests' redirected stderr, and a run that ends mid-compile aborts in LLVM (exit 134).
# Inherited by the app servers the browser tests start.
os.environ.setdefault("LATENT_EXPLORER_WARM_UMAP", "0")


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


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> Path:
    """A runs folder of small digits models for the app's pages (trained once per session)."""
    root = tmp_path_factory.mktemp("runs")
    for name in ("ae", "vae"):
        assert cli(["train", "--data", "digits", "--model", name, "--latent-dim", "2", "--epochs", "3",
                    "--out", str(root / f"digits-{name}-2d"), "--quiet"]) == 0
    assert cli(["train", "--data", "digits", "--model", "vae", "--latent-dim", "5", "--epochs", "2",
                "--out", str(root / "digits-vae-5d"), "--quiet"]) == 0
    assert cli(["train", "--data", "digits", "--model", "denoising_ae", "--latent-dim", "8", "--epochs", "3",
                "--out", str(root / "digits-denoising-ae"), "--quiet"]) == 0
    assert cli(["train", "--data", "digits", "--model", "svae", "--latent-dim", "3", "--epochs", "3",
                "--out", str(root / "digits-svae-3d"), "--quiet"]) == 0
    return root


@pytest.fixture
def env(runs, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_EXPLORER_RUNS", str(runs))
    monkeypatch.setenv("LATENT_EXPLORER_CACHE", str(tmp_path / "cache"))
    return runs
