"""The training timeline: the codes of a fixed subset of test items after every epoch, so the
map can be replayed as it forms. Recorded by an ``on_epoch`` observer of the trainer (the
loop itself is unchanged, and so are the weights it trains: encoding draws no random numbers)
and stored beside the weights as ``timeline.npz``, plain arrays, never pickled."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.data import Dataset
from explorer.errors import CheckpointError
from explorer.latent import encode_all
from explorer.models import Autoencoder
from explorer.store.io import atomic_write_npz
from explorer.training.history import History

TIMELINE_FILE = "timeline.npz"
TIMELINE_ITEMS = 500
# 500 items x 500 epochs x 64 dims of float32 is 64 MB: anything past this is not ours.
MAX_TIMELINE_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Timeline:
    """``codes[f]`` holds the codes of the test items ``items`` after epoch ``epochs[f]``
    (epoch 0: the untrained encoder). ``final`` is the frame the saved weights give: the last
    one, or the best epoch's when early stopping restored it."""

    epochs: np.ndarray  # (frames,) int64
    codes: np.ndarray  # (frames, items, latent_dim) float32
    items: np.ndarray  # (items,) int64, indices into the test split
    labels: np.ndarray | None  # (items,) int64
    class_names: tuple[str, ...] | None
    final: int

    @property
    def n_frames(self) -> int:
        return len(self.epochs)


def timeline_items(n_test: int, n: int = TIMELINE_ITEMS, seed: int = 0) -> np.ndarray:
    """A fixed subset of the test split, the same for the same seed and split size, sorted."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_test, min(n, n_test), replace=False)).astype(np.int64)


class TimelineRecorder:
    """Encodes the subset once before training and again at the end of every epoch; pass
    ``record`` as the trainer's ``on_epoch`` and call ``finish`` with the trained model."""

    def __init__(self, model: Autoencoder, data: Dataset, n_items: int = TIMELINE_ITEMS,
                 seed: int = 0) -> None:
        self.model = model
        self.items = timeline_items(len(data.x_test), n_items, seed)
        self.x = data.x_test[self.items]
        self.labels = None if data.y_test is None else data.y_test.numpy()[self.items].astype(np.int64)
        self.class_names = tuple(data.class_names) if data.class_names else None
        self.epochs: list[int] = []
        self.frames: list[np.ndarray] = []
        self.record(0)

    def _encode(self) -> np.ndarray:
        was_training = self.model.training  # encode_all leaves the model in eval mode
        codes = encode_all(self.model, self.x).numpy().astype(np.float32)
        self.model.train(was_training)
        return codes

    def record(self, epoch: int, history: History | None = None) -> None:
        self.epochs.append(epoch)
        self.frames.append(self._encode())

    def finish(self) -> Timeline:
        """The timeline, with ``final`` set to the frame the model's current weights give. A
        model rolled back after the last epoch (early stopping's best weights, a divergence)
        matches an earlier frame; weights that match none get a frame of their own."""
        final = self._encode()
        epochs, frames = list(self.epochs), list(self.frames)
        matches = [f for f, codes in enumerate(frames) if np.array_equal(codes, final)]
        if not matches:
            epochs.append(epochs[-1])
            frames.append(final)
        return Timeline(np.array(epochs, dtype=np.int64), np.stack(frames), self.items, self.labels,
                        self.class_names, matches[-1] if matches else len(frames) - 1)


def write_timeline(path: Path, timeline: Timeline) -> Path:
    arrays = {"epochs": timeline.epochs, "codes": timeline.codes, "items": timeline.items,
              "final": np.array(timeline.final, dtype=np.int64)}
    if timeline.labels is not None:
        arrays["labels"] = timeline.labels
    if timeline.class_names:
        arrays["class_names"] = np.array(timeline.class_names)
    return atomic_write_npz(path, arrays)


def read_timeline(folder: str | Path) -> Timeline | None:
    """The timeline stored in a checkpoint folder, None if it has none, or a CheckpointError
    for a file that is not a timeline this program wrote (checked before it is trusted)."""
    path = Path(folder) / TIMELINE_FILE
    if not path.is_file():
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_TIMELINE_BYTES:
            raise ValueError(f"it unpacks to {unpacked:,} bytes, more than a timeline holds")
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: f[key] for key in f.files}
        timeline = Timeline(
            epochs=arrays["epochs"].astype(np.int64), codes=arrays["codes"].astype(np.float32),
            items=arrays["items"].astype(np.int64),
            labels=arrays["labels"].astype(np.int64) if "labels" in arrays else None,
            class_names=tuple(str(c) for c in arrays["class_names"]) if "class_names" in arrays else None,
            final=int(arrays["final"]))
        _check(timeline)
    except (OSError, EOFError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path} is not a readable training timeline ({exc}); delete it or "
                              "train again with the timeline on.") from None
    return timeline


def _check(t: Timeline) -> None:
    if t.codes.ndim != 3 or t.epochs.shape != (len(t.codes),) or t.items.shape != (t.codes.shape[1],):
        raise ValueError(f"codes of shape {t.codes.shape} do not match {len(t.epochs)} epochs and "
                         f"{len(t.items)} items")
    if t.labels is not None and t.labels.shape != t.items.shape:
        raise ValueError(f"{len(t.labels)} labels for {len(t.items)} items")
    if not 0 <= t.final < len(t.epochs):
        raise ValueError(f"final frame {t.final} of {len(t.epochs)}")
    if not np.isfinite(t.codes).all():
        raise ValueError("codes that are not finite")


def aligned_frames(timeline: Timeline) -> tuple[np.ndarray, str]:
    """Every frame's 2-D map positions in one coordinate system, (frames, items, 2), and the
    axis name: the codes themselves for a 2-D latent, else the PCA plane fitted on the final
    frame, so a point's motion between frames is the code's motion, not a refitted map's."""
    from explorer.projection import PCAProjector

    frames, items, dim = timeline.codes.shape
    if dim == 2:
        return timeline.codes.copy(), "raw"
    if dim == 1:
        return np.concatenate([timeline.codes, np.zeros_like(timeline.codes)], axis=2), "raw"
    pca = PCAProjector(2).fit(timeline.codes[timeline.final])
    return pca.transform(timeline.codes.reshape(-1, dim)).reshape(frames, items, 2), "pca"


def frame_titles(timeline: Timeline, history: History) -> list[str]:
    """A title for each frame: its epoch and that epoch's mean training loss."""
    train = history.train.get("total", [])
    titles = []
    for f, epoch in enumerate(timeline.epochs):
        epoch = int(epoch)
        text = "epoch 0, untrained" if epoch == 0 else f"epoch {epoch}"
        if 0 < epoch <= len(train):
            text += f" · training loss {train[epoch - 1]:.4g}"
        if f == timeline.final and timeline.final != timeline.n_frames - 1:
            text += " · the saved weights"
        titles.append(text)
    return titles
