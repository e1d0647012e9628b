"""A checkpoint is a folder: ``config.json`` (format version, configs, metrics, history,
library versions) and ``model.safetensors``. Saves are atomic; loads validate everything
and never unpickle."""

from __future__ import annotations

import errno
import glob
import json
import os
import platform
import shutil
import sys
import tempfile
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
from explorer.train import History

FORMAT_VERSION = 1
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
                    dataset: Dataset | None = None) -> Path:
    """Write a checkpoint folder and swap it into place atomically.

    ``folder`` must not exist, be an empty folder, or hold one of our checkpoints (replaced
    only with ``overwrite``); anything else is refused before a byte is written, so a user's
    own files are never touched. ``dataset``, for data that may not exist elsewhere later (an
    upload), is stored in the folder so the model evaluates anywhere.
    """
    folder = check_save_target(folder, overwrite)
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
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        recover(folder)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}{_PARTIAL}{os.getpid()}-", dir=folder.parent))
    except OSError as exc:
        raise OutputPathError(f"Cannot write a checkpoint to {folder}: {exc.strerror or exc}.") from None
    try:
        state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS_FILE))
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True))
        if dataset is not None:
            write_dataset(tmp / DATA_FILE, dataset)
        _sync_tree(tmp)
        _swap_into_place(tmp, folder)
    except OSError as exc:
        raise OutputPathError(f"Cannot write a checkpoint to {folder}: {exc.strerror or exc}.") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the new files if the swap failed, else the old ones
    return folder


# Everything a checkpoint folder may hold: the files saves write and the app's precomputed
# codes, maps and model card. A folder holding anything else is the user's, never ours to replace.
CHECKPOINT_ENTRIES = frozenset({CONFIG_FILE, WEIGHTS_FILE, DATA_FILE, "display.npz", "codes.npz",
                                "projections", "README.md"})
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


def _sync_tree(folder: Path) -> None:
    """Flush the files and then the folder itself to disk, so that after the swap a power cut
    leaves the complete new checkpoint, not empty files."""
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_into_place(new: Path, folder: Path) -> None:
    """Put ``new`` at ``folder``. Where ``folder`` exists the two are exchanged in one atomic
    step (Linux renameat2), so the path holds the complete old or the complete new checkpoint
    at every instant; ``new`` then holds the old one, for the caller to delete. Elsewhere the
    old one is moved aside first, and ``recover`` puts it back if a kill comes in between."""
    if not folder.exists():
        os.rename(new, folder)
    elif not _exchange(new, folder):
        aside = folder.with_name(f".{folder.name}{_PARTIAL}{os.getpid()}-old")
        os.rename(folder, aside)
        os.rename(new, folder)
        os.rename(aside, new)
    _fsync_dir(folder.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False where the system cannot (not Linux, old kernel,
    a file system without RENAME_EXCHANGE)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(error, os.strerror(error))


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
        if not pid.isdigit() or _alive(int(pid)) or not _only_checkpoint_files(partial):
            continue
        try:
            complete = (partial / CONFIG_FILE).is_file() and (partial / WEIGHTS_FILE).is_file()
            if complete and not folder.exists():
                os.rename(partial, folder)
            else:
                shutil.rmtree(partial)
        except OSError:
            continue


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _only_checkpoint_files(folder: Path) -> bool:
    try:
        return folder.is_dir() and not folder.is_symlink() and all(
            p.name in CHECKPOINT_ENTRIES for p in folder.iterdir())
    except OSError:
        return False


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
    recover(folder)
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


def stored_dataset(folder: str | Path) -> Dataset | None:
    """The data a checkpoint keeps with it (a model trained on an upload), or None."""
    path = Path(folder) / DATA_FILE
    return read_dataset(path) if path.is_file() else None


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
