"""A checkpoint is a folder: ``config.json`` (format version, configs, metrics, history,
library versions) and ``model.safetensors``. Saves are atomic; loads validate everything
and never unpickle.

A checkpoint is data, never instructions: sizes are checked before anything is parsed or
loaded, every section's types before anything is built, and nothing in it chooses where the
program reads or writes: the data config's ``root`` (a folder on the machine that trained)
is dropped on load, so the user's ``--data-root`` or ``$LATENT_EXPLORER_DATA`` decides."""

from __future__ import annotations

import glob
import json
import numbers
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from explorer import __version__
from explorer.config import DataConfig, ModelConfig, TrainConfig, from_dict, to_dict
from explorer.data import Dataset
from explorer.data.stored import read_dataset, write_dataset
from explorer.errors import CheckpointError, CheckpointExistsError, ExplorerError, OutputPathError
from explorer.models import Autoencoder, build_model
from explorer.models.onnx_model import DECODER_FILE, ENCODER_FILE, load_onnx_model
from explorer.models.stored_codes import CODES_MODEL_NAME, IMPORTED_CODES_FILE, load_stored_codes
from explorer.store import folder_swap
from explorer.store.paths import check_folder_takes_files
from explorer.store.untrusted import parse_config_json, regular_size, unreadable_weights, weights_header
from explorer.training.timeline import TIMELINE_FILE, Timeline, write_timeline
from explorer.training.train import History

FORMAT_VERSION = 1
ONNX_MODEL_NAME = "onnx"  # the model name in the config of an imported encoder.onnx + decoder.onnx
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
DATA_FILE = "data.npz"  # the data of a model trained on an upload, stored with it


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
                    extra: dict[str, Any] | None = None, *, overwrite: bool = False,
                    dataset: Dataset | None = None, timeline: Timeline | None = None) -> Path:
    """Write a checkpoint folder and swap it into place atomically.

    ``folder`` must not exist, be an empty folder, or hold one of our checkpoints (replaced
    only with ``overwrite``); anything else is refused before a byte is written, so a user's
    own files are never touched. ``dataset``, for data that may not exist elsewhere later (an
    upload), is stored in the folder so the model evaluates anywhere; ``timeline`` (the codes
    of a test subset after each epoch) goes beside the weights as ``timeline.npz``.
    """
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

    def write_weights(tmp: Path) -> None:
        state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS_FILE))
        if timeline is not None:
            write_timeline(tmp / TIMELINE_FILE, timeline)

    return save_folder(folder, config, write_weights, overwrite=overwrite, dataset=dataset)


def save_folder(folder: str | Path, config: dict[str, Any], write_model: Callable[[Path], None], *,
                overwrite: bool = False, dataset: Dataset | None = None) -> Path:
    """The one atomic save of a model folder: ``write_model`` puts the model's files (weights,
    or an ONNX pair) in a temporary sibling, which then replaces ``folder`` in one step."""
    folder = check_save_target(folder, overwrite)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        recover(folder)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}{_PARTIAL}{os.getpid()}-", dir=folder.parent))
    except OSError as exc:
        raise OutputPathError(f"Cannot write a checkpoint to {folder}: {exc.strerror or exc}.") from None
    try:
        write_model(tmp)
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True))
        if dataset is not None:
            write_dataset(tmp / DATA_FILE, dataset)
        folder_swap.sync_tree(tmp)
        folder_swap.swap_into_place(tmp, folder, aside_name=f".{folder.name}{_PARTIAL}{os.getpid()}-old")
    except OSError as exc:
        raise OutputPathError(f"Cannot write a checkpoint to {folder}: {exc.strerror or exc}.") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the new files if the swap failed, else the old ones
    return folder


# Everything a checkpoint folder may hold: the files saves write and the app's precomputed
# codes, maps and model card. A folder holding anything else is the user's, never ours to replace.
CHECKPOINT_ENTRIES = frozenset({CONFIG_FILE, WEIGHTS_FILE, DATA_FILE, ENCODER_FILE, DECODER_FILE,
                                IMPORTED_CODES_FILE, TIMELINE_FILE, "display.npz", "codes.npz", "projections",
                                "README.md"})
# Sibling folders ``.<name>.partial-<pid>-<random>`` hold a save in progress, or after the swap
# the checkpoint it replaced; a kill can leave one behind, which the next save or load removes.
_PARTIAL = ".partial-"
_SPECIAL_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))


def check_save_target(folder: str | Path, overwrite: bool = False) -> Path:
    """``folder`` as an absolute path a checkpoint may be saved to, or an error saying why not.
    Call it before long work (training) so a bad ``--out`` fails in a second, not an hour."""
    path = Path(folder).expanduser()
    if not path.name or path.name in (".", "..") or path.resolve() == Path.cwd().resolve():
        raise OutputPathError(f"{folder!s} is not a folder name for a checkpoint; name a new folder, "
                              "e.g. runs/my-model.")
    path = path.parent.resolve() / path.name
    if any(path.is_relative_to(root) for root in _SPECIAL_ROOTS):
        raise OutputPathError(f"{path} is in a system folder; save checkpoints under your own folders.")
    if path.is_symlink():
        raise OutputPathError(f"{path} is a symbolic link; name a real folder for the checkpoint.")
    check_folder_takes_files(path.parent, path, create=True)
    if not path.exists():
        return path
    if not path.is_dir():
        raise OutputPathError(f"{path} exists and is not a folder; Latent Explorer will not replace it. "
                              "Choose another name.")
    try:
        entries = sorted(p.name for p in path.iterdir())
    except OSError as exc:
        raise OutputPathError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    foreign = [name for name in entries if name not in CHECKPOINT_ENTRIES]
    if foreign:
        shown = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
        raise OutputPathError(f"{path} holds files that are not part of a checkpoint ({shown}); "
                              "nothing was changed. Choose another name.")
    if entries and not overwrite:
        raise CheckpointExistsError(f"{path} already holds a checkpoint; pass --overwrite (or confirm "
                                    "in the app) to replace it, or choose another name.")
    return path


def recover(folder: str | Path) -> None:
    """Tidy what an interrupted save of ``folder`` left: where the folder itself is missing
    (a kill between the two renames of the non-atomic fallback) the complete checkpoint moved
    aside is put back; leftover partial folders of saves whose process is gone are deleted.
    Only folders named like ours and holding nothing but checkpoint files are touched; errors
    (a read-only folder of shipped models) are ignored, since tidying is never required."""
    folder = Path(folder)
    try:
        partials = sorted(folder.parent.glob(f".{glob.escape(folder.name)}{_PARTIAL}*"))
    except OSError:
        return
    for partial in partials:
        pid = partial.name[len(folder.name) + 1 + len(_PARTIAL):].split("-", 1)[0]
        if not pid.isdigit() or folder_swap.process_alive(int(pid)) or not _only_checkpoint_files(partial):
            continue
        try:
            complete = (partial / CONFIG_FILE).is_file() and any(
                (partial / name).is_file() for name in (WEIGHTS_FILE, DECODER_FILE, "codes.npz"))
            if complete and not folder.exists():
                os.rename(partial, folder)
            else:
                shutil.rmtree(partial)
        except OSError:
            continue


def _only_checkpoint_files(folder: Path) -> bool:
    try:
        return folder.is_dir() and not folder.is_symlink() and all(
            p.name in CHECKPOINT_ENTRIES for p in folder.iterdir())
    except OSError:
        return False


def read_config(folder: str | Path) -> dict[str, Any]:
    """The parsed, version- and type-checked ``config.json`` of a checkpoint folder: its
    model, data and training configs are valid (``explorer.config``), its metrics numbers."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder} is not a checkpoint folder (it does not exist or is a file).")
    path = folder / CONFIG_FILE
    if regular_size(path) is None:
        raise CheckpointError(f"{folder} has no {CONFIG_FILE}; it is not a Latent Explorer checkpoint.")
    config = parse_config_json(path)
    if not isinstance(config, dict) or "format_version" not in config or "model" not in config:
        raise CheckpointError(f"{path} is not a Latent Explorer checkpoint config.")
    version = config["format_version"]
    if type(version) is not int or version != FORMAT_VERSION:  # True == 1, but is no version
        raise CheckpointError(
            f"{folder} has checkpoint format {version!r}; this version of Latent Explorer reads "
            f"format {FORMAT_VERSION}. Re-train the model or use a matching version."
        )
    _check_sections(config, path)
    return config


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_sections(config: dict[str, Any], path: Path) -> None:
    """Every section has the type loading expects, and the configs are valid."""
    sections = {"model": ModelConfig, "data": DataConfig, "train": TrainConfig}
    for key in ("model", "data", "train", "metrics", "history", "versions"):
        if key in config and not isinstance(config[key], dict):
            raise CheckpointError(f"{path}: {key!r} must be a JSON object, got "
                                  f"{type(config[key]).__name__}; the checkpoint is corrupt.")
    try:
        for key, cls in sections.items():
            _from_section(cls, config.get(key, {}))
    except ExplorerError as exc:
        raise CheckpointError(f"{path}: the {key} config cannot be built ({exc}).") from None
    bad = [k for k, v in config.get("metrics", {}).items() if not _is_number(v)]
    if bad:
        raise CheckpointError(f"{path}: metric {bad[0]!r} is not a number; the checkpoint is corrupt.")
    if not all(isinstance(v, str) for v in config.get("versions", {}).values()):
        raise CheckpointError(f"{path}: 'versions' must map names to version strings.")
    _check_history(config.get("history", {}), path)


def _from_section(cls: type, values: dict[str, Any]) -> Any:
    """A config from its section; a data config without ``root`` (see the module docstring)."""
    if cls is DataConfig:
        values = {k: v for k, v in values.items() if k != "root"}
    return from_dict(cls, values)


def _check_history(history: dict[str, Any], path: Path) -> None:
    curves_ok = all(
        isinstance(history.get(part, {}), dict)
        and all(isinstance(v, list) and all(_is_number(x) for x in v) for v in history.get(part, {}).values())
        for part in ("train", "validation", "test")
    )
    scalars_ok = (
        (type(history.get("epochs_run", 0)) is int)
        and _is_number(history.get("seconds", 0.0))
        and isinstance(history.get("stop_reason", ""), str)
        and (history.get("best_epoch") is None or type(history["best_epoch"]) is int)
    )
    if not (curves_ok and scalars_ok):
        raise CheckpointError(f"{path}: the training history has values of the wrong type; the "
                              "checkpoint is corrupt.")


def load_checkpoint(folder: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the model from the config and load its weights, checking sizes before the
    weights are read and names and shapes after."""
    folder = Path(folder)
    recover(folder)
    config = read_config(folder)
    if (folder / ENCODER_FILE).exists() or config["model"].get("name") == ONNX_MODEL_NAME:
        onnx_section = config.get("onnx", {})
        if not isinstance(onnx_section, dict):
            raise CheckpointError(f"{folder}: 'onnx' must be a JSON object; the config is corrupt.")
        model = load_onnx_model(folder, _from_section(ModelConfig, config["model"]),
                                onnx_section.get("decoder_output", "mean"))
        return _checkpoint(model, config, folder)
    if config["model"].get("name") == CODES_MODEL_NAME:
        stored = stored_dataset(folder)
        if stored is None:
            raise CheckpointError(f"{folder} holds imported codes but no {DATA_FILE}; import them again.")
        return _checkpoint(load_stored_codes(folder, _from_section(ModelConfig, config["model"]), stored),
                           config, folder)
    try:
        model = build_model(from_dict(ModelConfig, config["model"]))
    except ExplorerError as exc:
        raise CheckpointError(f"{folder}: the model config cannot be built ({exc}).") from None
    weights_path = folder / WEIGHTS_FILE
    size = regular_size(weights_path)
    if size is None:
        raise CheckpointError(f"{folder} has no {WEIGHTS_FILE}; the checkpoint is incomplete.")
    _check_state(model, weights_header(weights_path, size), weights_path)
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise unreadable_weights(weights_path, exc) from None
    model.load_state_dict(state)
    model.to(device).eval()
    return _checkpoint(model, config, folder)


def _checkpoint(model: Autoencoder, config: dict[str, Any], folder: Path) -> Checkpoint:
    return Checkpoint(
        model=model,
        data=_from_section(DataConfig, config.get("data", {})),
        train=_from_section(TrainConfig, config.get("train", {})),
        metrics=config.get("metrics", {}),
        history=History.from_dict(config.get("history", {})),
        versions=config.get("versions", {}),
        path=folder,
    )


def stored_dataset(folder: str | Path) -> Dataset | None:
    """The data a checkpoint keeps with it (a model trained on an upload), or None."""
    path = Path(folder) / DATA_FILE
    return read_dataset(path) if path.is_file() else None


def _check_state(model: Autoencoder, state: dict[str, tuple[int, ...]], path: Path) -> None:
    """The tensor names and shapes a weights file holds are those the config's model has."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{path} does not match its config: missing {missing[:3]}, unexpected "
            f"{unexpected[:3]}. The weights belong to a different model."
        )
    for name, tensor in expected.items():
        if state[name] != tuple(tensor.shape):
            raise CheckpointError(
                f"{path}: {name} has shape {state[name]} but the config builds "
                f"{tuple(tensor.shape)}. The weights belong to a different model."
            )
