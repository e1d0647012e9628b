"""Where models live: the shipped ``pretrained/`` zoo and the user's ``runs/``. Each
model folder may carry precomputed codes and projections of its display data, so opening
it costs a file read instead of an encode and a UMAP fit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from explorer.data import Dataset
from explorer.data.sample import PRETRAINED_DIR
from explorer.errors import CheckpointError
from explorer.latent import encode_all
from explorer.models import Autoencoder
from explorer.models.stored_codes import CODES_MODEL_NAME
from explorer.projection import ProjectionConfig, cache_key, project
from explorer.store.checkpoint import read_config, stored_dataset
from explorer.store.io import atomic_write_npz

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
    variational: bool
    has_decoder: bool = True  # False for a folder of imported codes (models.stored_codes)

    @property
    def label(self) -> str:
        return f"{self.path.name} ({self.source})"



def _is_variational(config: dict) -> bool:
    """From the config alone: the family's, or what an imported ONNX folder recorded."""
    from explorer.models import MODELS

    spec = MODELS.get(config["model"].get("name", ""))
    if spec is not None:
        return spec.variational
    onnx = config.get("onnx")
    return bool(isinstance(onnx, dict) and onnx.get("variational") is True)


def runs_dir() -> Path:
    """Where the user's trained models go: ``$LATENT_EXPLORER_RUNS`` or ``./runs``."""
    return Path(os.environ.get("LATENT_EXPLORER_RUNS", "runs"))


def user_cache() -> Path:
    """Where computed projections are cached: ``$LATENT_EXPLORER_CACHE`` or ``./.cache``."""
    return Path(os.environ.get("LATENT_EXPLORER_CACHE", ".cache"))


OPEN_ENV = "LATENT_EXPLORER_OPEN"  # a model folder to open first: `python -m explorer app DIR` sets it


def opened_folder() -> Path | None:
    """The folder ``python -m explorer app DIR`` was started on, if any."""
    value = os.environ.get(OPEN_ENV)
    return Path(value).resolve() if value else None


def list_models(runs: Path | None = None, pretrained: Path = PRETRAINED_DIR) -> list[ModelEntry]:
    """Every readable checkpoint under the two folders, after the folder the app was opened
    on; unreadable ones are skipped here and reported when someone tries to open them."""
    entries = []
    sources: list[tuple[str, list[Path]]] = []
    opened = opened_folder()
    if opened is not None and opened.is_dir():
        sources.append(("opened", [opened]))
    for source, root in (("pretrained", pretrained), ("runs", runs or runs_dir())):
        if root.is_dir():
            sources.append((source, sorted(p for p in root.iterdir()
                                           if p.is_dir() and not p.name.startswith("."))))
    for source, folders in sources:
        for folder in folders:
            if source != "opened" and opened is not None and folder.resolve() == opened:
                continue  # listed once, first
            entry = _entry(folder, source)
            if entry is not None:
                entries.append(entry)
    return entries


def list_family(folder: Path) -> list[ModelEntry]:
    """The readable checkpoints inside a family folder (``beta_family``), which ``list_models``
    does not list one by one."""
    if not folder.is_dir():
        return []
    entries = (_entry(p, "pretrained") for p in sorted(folder.iterdir()) if p.is_dir())
    return [e for e in entries if e is not None]


def _entry(folder: Path, source: str) -> ModelEntry | None:
    try:
        config = read_config(folder)
    except CheckpointError:
        return None
    data_name = config.get("data", {}).get("name", "?")
    return ModelEntry(
        path=folder, source=source, model_name=config["model"].get("name", "?"),
        latent_dim=int(config["model"].get("latent_dim", 0)), data_name=data_name,
        display_data=config.get("display_data", data_name),
        summary=config.get("summary", ""),
        metrics=tuple(sorted((k, float(v)) for k, v in config.get("metrics", {}).items())),
        variational=_is_variational(config),
        has_decoder=config["model"].get("name") != CODES_MODEL_NAME,
    )


def write_precomputed(folder: Path, model: Autoencoder, data: Dataset,
                      projections: list[ProjectionConfig]) -> None:
    """Store the test split's codes and fill the folder's projection cache."""
    mu, logvar = encode_all(model, data.x_test, with_logvar=True)
    arrays = {"z": mu.numpy()}
    if logvar is not None:
        arrays["logvar"] = logvar.numpy()
    atomic_write_npz(folder / CODES_FILE, arrays)
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


def projection_cache_dir(folder: Path, z: np.ndarray, cfg: ProjectionConfig) -> Path:
    """The model folder's own precomputed projections when they hold this one (shipped
    models), else the user's cache, so opening a shipped model never writes into the repo."""
    shipped = folder / PROJECTIONS_DIR
    if (shipped / f"{cfg.method}-{cache_key(z, cfg)}.npz").is_file():
        return shipped
    return user_cache() / "projections"


LEGACY_DISPLAY_FILE = "display.npz"  # the test split only, as runs saved before data.npz kept it


def read_display_data(folder: Path, name: str) -> Dataset | None:
    """The data a model folder keeps with it (see ``checkpoint.stored_dataset``), or None."""
    stored = stored_dataset(folder)
    if stored is not None:
        return stored
    path = folder / LEGACY_DISPLAY_FILE
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as f:
        x = torch.from_numpy(f["x_test"])
        y = torch.from_numpy(f["y_test"]) if "y_test" in f.files else None
        names = tuple(str(v) for v in f["class_names"]) if "class_names" in f.files else None
        kind = str(f["kind"])
    # The display copy only has a test split; it also serves as "train" for code that needs one.
    return Dataset(name=name, kind=kind, x_train=x, y_train=y, x_test=x, y_test=y, class_names=names)
