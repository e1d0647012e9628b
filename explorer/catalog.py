"""Where models live: the shipped ``pretrained/`` zoo and the user's ``runs/``. Each
model folder may carry precomputed codes and projections of its display data, so opening
it costs a file read instead of an encode and a UMAP fit."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.checkpoint import read_config
from explorer.config import ProjectionConfig
from explorer.data import Dataset
from explorer.data.sample import PRETRAINED_DIR
from explorer.errors import CheckpointError
from explorer.io import atomic_write_bytes
from explorer.latent import encode_all
from explorer.models import Autoencoder
from explorer.projection import project

RUNS_DIR = Path("runs")
CODES_FILE = "codes.npz"
PROJECTIONS_DIR = "projections"


@dataclass(frozen=True)
class ModelEntry:
    """One loadable model folder, described from its config alone (no weights read)."""

    path: Path
    source: str  # "pretrained" or "runs"
    model_name: str
    latent_dim: int
    data_name: str
    display_data: str
    summary: str
    metrics: tuple[tuple[str, float], ...]

    @property
    def label(self) -> str:
        return f"{self.path.name} ({self.source})"

    @property
    def variational(self) -> bool:
        from explorer.models import MODELS

        spec = MODELS.get(self.model_name)
        return bool(spec and spec.variational)


def list_models(runs_dir: Path = RUNS_DIR, pretrained_dir: Path = PRETRAINED_DIR) -> list[ModelEntry]:
    """Every readable checkpoint under the two folders; unreadable ones are skipped here and
    reported when someone tries to open them."""
    entries = []
    for source, root in (("pretrained", pretrained_dir), ("runs", runs_dir)):
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            try:
                config = read_config(folder)
            except CheckpointError:
                continue
            data_name = config.get("data", {}).get("name", "?")
            entries.append(ModelEntry(
                path=folder, source=source, model_name=config["model"].get("name", "?"),
                latent_dim=int(config["model"].get("latent_dim", 0)), data_name=data_name,
                display_data=config.get("display_data", data_name),
                summary=config.get("summary", ""),
                metrics=tuple(sorted((k, float(v)) for k, v in config.get("metrics", {}).items())),
            ))
    return entries


def write_precomputed(folder: Path, model: Autoencoder, data: Dataset,
                      projections: list[ProjectionConfig]) -> None:
    """Store the test split's codes and fill the folder's projection cache."""
    mu, logvar = encode_all(model, data.x_test, with_logvar=True)
    arrays = {"z": mu.numpy()}
    if logvar is not None:
        arrays["logvar"] = logvar.numpy()
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(folder / CODES_FILE, buffer.getvalue())
    for cfg in projections:
        project(arrays["z"], cfg, cache_dir=folder / PROJECTIONS_DIR)


def read_precomputed_codes(folder: Path, n_items: int) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The stored codes if they exist and cover ``n_items`` items, else None."""
    path = folder / CODES_FILE
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as f:
        z = f["z"]
        logvar = f["logvar"] if "logvar" in f.files else None
    return (z, logvar) if len(z) == n_items else None
