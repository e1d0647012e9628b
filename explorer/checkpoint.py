"""A checkpoint is a folder: ``config.json`` (format version, configs, metrics, history,
library versions) and ``model.safetensors``. Saves are atomic; loads validate everything
and never unpickle."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from explorer import __version__
from explorer.config import DataConfig, ModelConfig, TrainConfig, from_dict, to_dict
from explorer.errors import CheckpointError, ExplorerError
from explorer.models import Autoencoder, build_model
from explorer.train import History

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


@dataclass
class Checkpoint:
    model: Autoencoder
    data: DataConfig
    train: TrainConfig
    metrics: dict[str, float] = field(default_factory=dict)
    history: History = field(default_factory=History)
    versions: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    @property
    def config(self) -> ModelConfig:
        return self.model.cfg


def library_versions() -> dict[str, str]:
    import numpy
    import safetensors

    return {"explorer": __version__, "torch": torch.__version__, "numpy": numpy.__version__,
            "safetensors": safetensors.__version__, "python": platform.python_version()}


def save_checkpoint(folder: str | Path, model: Autoencoder, data: DataConfig, train: TrainConfig,
                    metrics: dict[str, float] | None = None, history: History | None = None,
                    extra: dict[str, Any] | None = None) -> Path:
    """Write the checkpoint to a temporary sibling folder, then swap it into place, so a
    crash mid-save never leaves a half-written checkpoint at ``folder``."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "format_version": FORMAT_VERSION,
        "model": to_dict(model.cfg),
        "data": to_dict(data),
        "train": to_dict(train),
        "metrics": metrics or {},
        "history": (history or History()).to_dict(),
        "versions": library_versions(),
        **(extra or {}),
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS_FILE))
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True))
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def read_config(folder: str | Path) -> dict[str, Any]:
    """The parsed, version-checked ``config.json`` of a checkpoint folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder} is not a checkpoint folder (it does not exist or is a file).")
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"{folder} has no {CONFIG_FILE}; it is not a Latent Explorer checkpoint.")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}); the checkpoint is corrupt.") from None
    if not isinstance(config, dict) or "format_version" not in config or "model" not in config:
        raise CheckpointError(f"{path} is not a Latent Explorer checkpoint config.")
    version = config["format_version"]
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{folder} has checkpoint format {version}; this version of Latent Explorer reads "
            f"format {FORMAT_VERSION}. Re-train the model or use a matching version."
        )
    return config


def load_checkpoint(folder: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the model from the config and load its weights, checking names and shapes."""
    folder = Path(folder)
    config = read_config(folder)
    try:
        model_cfg = from_dict(ModelConfig, config["model"])
        model = build_model(model_cfg)
    except (TypeError, ValueError, ExplorerError) as exc:
        raise CheckpointError(f"{folder}: the model config cannot be built ({exc}).") from None
    weights_path = folder / WEIGHTS_FILE
    if not weights_path.is_file():
        raise CheckpointError(f"{folder} has no {WEIGHTS_FILE}; the checkpoint is incomplete.")
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"{weights_path} is not a readable safetensors file ({exc}). The checkpoint is "
            "corrupt or was not written by Latent Explorer."
        ) from None
    _check_state(model, state, weights_path)
    model.load_state_dict(state)
    model.to(device).eval()
    return Checkpoint(
        model=model,
        data=from_dict(DataConfig, config.get("data", {})),
        train=from_dict(TrainConfig, config.get("train", {})),
        metrics=config.get("metrics", {}),
        history=History.from_dict(config.get("history", {})),
        versions=config.get("versions", {}),
        path=folder,
    )


def _check_state(model: Autoencoder, state: dict[str, torch.Tensor], path: Path) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{path} does not match its config: missing {missing[:3]}, unexpected "
            f"{unexpected[:3]}. The weights belong to a different model."
        )
    for name, tensor in expected.items():
        if state[name].shape != tensor.shape:
            raise CheckpointError(
                f"{path}: {name} has shape {tuple(state[name].shape)} but the config builds "
                f"{tuple(tensor.shape)}. The weights belong to a different model."
            )
