"""Image data sets read from local files with torchvision's own loaders (no internet here).

Each set is declared once in ``TORCHVISION_SETS``; ``explorer.data.SOURCES`` registers them
all. Files live under one root: ``--data-root``, else ``$LATENT_EXPLORER_DATA``, else
``./data``. Only MNIST ever tries a download (when its files are missing); the others never
do, so loading a checkpoint's data cannot reach for the network.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from explorer.config import DataConfig
from explorer.data.base import Dataset
from explorer.errors import DataError, DataNotFoundError

DATA_ROOT_ENV = "LATENT_EXPLORER_DATA"
DEFAULT_ROOT = "data"
# CelebA decodes one JPEG per kept face; past this much float32 data (about 43,000 RGB faces
# at 64x64) a run would hold gigabytes on the device: ask for a subset instead.
CELEBA_MAX_BYTES = 4 * 2**30

# idx: MNIST-style idx-ubyte files, read whole. cifar: pickled batches that torchvision
# unpickles only after their MD5 matches the official release. celeba: JPEG faces with
# checksummed text tables; only the kept faces are decoded.
Format = Literal["idx", "cifar", "celeba"]


def resolve_root(root: str | None) -> Path:
    """``root`` if given, else ``$LATENT_EXPLORER_DATA``, else ``./data``."""
    return Path(root or os.environ.get(DATA_ROOT_ENV) or DEFAULT_ROOT).expanduser()


@dataclass(frozen=True)
class TorchvisionSet:
    """One data set: which torchvision class reads it and which files it needs where."""

    name: str  # the source name (--data)
    title: str  # as people write it, for messages
    dataset: str  # the class in torchvision.datasets
    format: Format
    folder: str  # under ROOT, as torchvision expects it
    files: tuple[str, ...]  # in ``folder``; a trailing "/" marks a folder
    origin: str  # where the files come from, for the not-found message
    options: tuple[tuple[str, Any], ...] = ()  # more constructor arguments
    class_names: tuple[str, ...] | None = None  # None: the torchvision class's ``classes``
    first_label: int = 0  # the file's first real label (EMNIST letters count from 1 = "a")
    transposed: bool = False  # images stored column by column (EMNIST)
    attribute: str | None = None  # CelebA: the binary attribute that labels each face
    downloads: bool = False  # try torchvision's download when files are missing
    advice: str = ""  # appended to the not-found message

    def load(self, cfg: DataConfig) -> Dataset:
        """The official train/test split, pixels float32 in [0, 1] of shape ``(C, H, W)``;
        ``cfg.max_samples`` keeps a fixed-seed subset of each split."""
        root = resolve_root(cfg.root)
        _require_files(self, root)
        splits = _OPENERS[self.format](self, root, cfg)
        (x_train, y_train), (x_test, y_test) = (
            s.take(_keep(s.size, cfg, offset)) for offset, s in enumerate(splits)
        )
        return Dataset(
            name=self.name,
            kind="image",
            x_train=x_train,
            y_train=y_train,
            x_test=x_test,
            y_test=y_test,
            class_names=self.class_names or splits[0].classes,
        )


@dataclass(frozen=True)
class _Split:
    """One official split, opened and verified; pixels are made only for the kept items."""

    size: int
    labels: torch.Tensor  # int64, one per item
    classes: tuple[str, ...] | None
    pixels: Callable[[np.ndarray], torch.Tensor]  # kept indices -> uint8 (k, C, H, W)

    def take(self, keep: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pixels(keep).float().div_(255.0).contiguous()
        return x, self.labels[torch.from_numpy(keep)]


def _keep(n: int, cfg: DataConfig, offset: int) -> np.ndarray:
    """All indices, or a fixed-seed subset of ``cfg.max_samples`` in file order: quick runs
    stay reproducible and class-balanced on average."""
    if cfg.max_samples is None or cfg.max_samples >= n:
        return np.arange(n)
    rng = np.random.default_rng(cfg.seed + offset)
    return np.sort(rng.choice(n, cfg.max_samples, replace=False))


def _torchvision_class(spec: TorchvisionSet) -> type:
    import torchvision.datasets

    return getattr(torchvision.datasets, spec.dataset)


# ---- missing files ------------------------------------------------------------------------


def _require_files(spec: TorchvisionSet, root: Path) -> None:
    folder = root / spec.folder
    missing = [f for f in spec.files if not _present(folder / f, f.endswith("/"))]
    if not missing:
        return
    if not spec.downloads:
        some = len(missing) < len(spec.files)
        raise _not_found(spec, root, f" (missing {_listing(missing)})" if some else "")
    try:
        _torchvision_class(spec)(root=str(root), download=True, **dict(spec.options))
    except Exception as exc:  # any network failure: say where the files go
        raise _not_found(spec, root, f" and the download failed ({type(exc).__name__})") from None


def _present(path: Path, is_folder: bool) -> bool:
    return path.is_dir() if is_folder else path.is_file()


def _not_found(spec: TorchvisionSet, root: Path, why: str) -> DataNotFoundError:
    return DataNotFoundError(
        f"{spec.title} files not found under {root / spec.folder}{why}. Put {_listing(spec.files)} "
        f"there ({spec.origin}), or pass --data-root (or set {DATA_ROOT_ENV}) to the folder that "
        f"holds {spec.folder}.{spec.advice}"
    )


def _listing(names: list[str] | tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _not_official(
    spec: TorchvisionSet, root: Path, checksums: list[tuple[str, str]], exc: RuntimeError
) -> DataError:
    """torchvision refused the files (they exist: checked first): name those whose MD5 is not
    the official release's."""
    from torchvision.datasets.utils import check_integrity

    folder = root / spec.folder
    differ = [name for name, md5 in checksums if not check_integrity(folder / name, md5)]
    if not differ:
        return DataError(f"{spec.title}: torchvision cannot read the files under {folder} ({exc}).")
    return DataNotFoundError(
        f"{spec.title} files under {folder} are not the official ones (checksums differ: "
        f"{_listing(differ)}). Only byte-identical files of the official release are read; put "
        f"those there ({spec.origin})."
    )


# ---- the three formats --------------------------------------------------------------------


def _open_idx(spec: TorchvisionSet, root: Path, cfg: DataConfig) -> tuple[_Split, _Split]:
    return _idx_split(spec, root, train=True), _idx_split(spec, root, train=False)


def _idx_split(spec: TorchvisionSet, root: Path, train: bool) -> _Split:
    try:
        part = _torchvision_class(spec)(root=str(root), train=train, download=False, **dict(spec.options))
    except (AssertionError, RuntimeError, TypeError, ValueError) as exc:
        # The files exist (checked first), so they are not idx-ubyte: often still gzipped.
        raise DataError(
            f"{spec.title}: the files under {root / spec.folder} are not valid idx-ubyte files "
            f"({type(exc).__name__}: {exc}). Use the uncompressed originals (gunzip the .gz "
            "downloads)."
        ) from None
    # (torchvision would read a legacy processed/*.pt instead, with torch.load(weights_only=True),
    # which rebuilds tensors only, never arbitrary objects.)
    data = part.data
    # EMNIST's files store each image column by column; torchvision returns them as stored.
    images = (lambda keep: data[keep].transpose(1, 2)) if spec.transposed else (lambda keep: data[keep])
    return _Split(
        size=len(data),
        labels=part.targets.long() - spec.first_label,
        classes=tuple(part.classes[spec.first_label :]),
        pixels=lambda keep: images(torch.from_numpy(keep)).unsqueeze(1),
    )


def _open_cifar(spec: TorchvisionSet, root: Path, cfg: DataConfig) -> tuple[_Split, _Split]:
    return _cifar_split(spec, root, train=True), _cifar_split(spec, root, train=False)


def _cifar_split(spec: TorchvisionSet, root: Path, train: bool) -> _Split:
    # The batches are pickles, and a pickle can run code. torchvision's CIFAR10 unpickles them
    # only after checking each file's MD5 against the official release (the meta file too),
    # and with download=False it raises otherwise: only the release's own bytes are unpickled.
    cls = _torchvision_class(spec)
    try:
        part = cls(root=str(root), train=train, download=False, **dict(spec.options))
    except RuntimeError as exc:
        checksums = [(n, md5) for n, md5 in cls.train_list + cls.test_list]
        checksums.append((cls.meta["filename"], cls.meta["md5"]))
        raise _not_official(spec, root, checksums, exc) from None
    data = part.data  # (n, 32, 32, 3) uint8
    return _Split(
        size=len(data),
        labels=torch.tensor(part.targets, dtype=torch.int64),
        classes=tuple(part.classes),
        pixels=lambda keep: torch.from_numpy(data[keep]).permute(0, 3, 1, 2),
    )


def _open_celeba(spec: TorchvisionSet, root: Path, cfg: DataConfig) -> tuple[_Split, _Split]:
    from PIL import Image, ImageOps

    cls = _torchvision_class(spec)
    size, mode = cfg.image_size, "L" if cfg.color == "grayscale" else "RGB"

    def face(image: Image.Image) -> torch.Tensor:
        # Let the JPEG decoder scale down by DCT (far less work than a full decode) to no less
        # than the output size, then
        # crop the central square of the aligned face and resize it.
        image.draft(mode, (size, size))
        square = ImageOps.fit(image.convert(mode), (size, size), Image.Resampling.BILINEAR)
        pixels = torch.from_numpy(np.array(square, dtype=np.uint8))
        return pixels.unsqueeze(0) if mode == "L" else pixels.permute(2, 0, 1)

    try:
        # torchvision parses all five tables (202,599 rows each) on every construction, whatever
        # the split, which takes tens of seconds: open all rows once and split them here.
        part = cls(root=str(root), split="all", target_type=[], transform=face, download=False,
                   **dict(spec.options))
    except RuntimeError as exc:
        checksums = [(name, md5) for _, md5, name in cls.file_list if not name.endswith(".zip")]
        raise _not_official(spec, root, checksums, exc) from None
    if spec.attribute not in part.attr_names:
        raise DataError(f"{spec.title}: list_attr_celeba.txt has no {spec.attribute!r} column.")
    labels = part.attr[:, part.attr_names.index(spec.attribute)].long()
    # The official partition (torchvision has checked the file's MD5): rows of "NAME.jpg P",
    # P = 0 train, 1 validation (unused here), 2 test, in the same order as the other tables.
    partition = np.array((root / spec.folder / "list_eval_partition.txt").read_text().split()[1::2],
                         dtype=np.int64)

    def decode(rows: np.ndarray) -> torch.Tensor:
        channels = 1 if mode == "L" else 3
        if len(rows) * channels * size * size * 4 > CELEBA_MAX_BYTES:
            raise DataError(
                f"{spec.title}: {len(rows):,} faces at {channels}x{size}x{size} would take "
                f"{len(rows) * channels * size * size * 4 / 2**30:.1f} GiB; keep a subset with "
                "--max-samples (e.g. 20000)."
            )
        faces = []
        for i in rows.tolist():
            try:
                faces.append(part[i][0])
            except OSError as exc:  # a listed face is missing or not a readable image
                raise DataNotFoundError(
                    f"{spec.title}: cannot read {part.filename[i]} in "
                    f"{root / spec.folder / 'img_align_celeba'} ({type(exc).__name__}); put the "
                    "official aligned JPEGs there."
                ) from None
        return torch.stack(faces)

    def split(partition_id: int) -> _Split:
        rows = np.flatnonzero(partition == partition_id)
        return _Split(size=len(rows), labels=labels[torch.from_numpy(rows)], classes=None,
                      pixels=lambda keep: decode(rows[keep]))

    return split(0), split(2)


_OPENERS: dict[Format, Callable[[TorchvisionSet, Path, DataConfig], tuple[_Split, _Split]]] = {
    "idx": _open_idx,
    "cifar": _open_cifar,
    "celeba": _open_celeba,
}

_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
              "t10k-labels-idx1-ubyte")

TORCHVISION_SETS: tuple[TorchvisionSet, ...] = (
    TorchvisionSet(
        name="mnist", title="MNIST", dataset="MNIST", format="idx", folder="MNIST/raw",
        files=_IDX_FILES, origin="gunzipped from ossci-datasets.s3.amazonaws.com/mnist",
        class_names=tuple(str(d) for d in range(10)), downloads=True,
    ),
    TorchvisionSet(
        name="fashion_mnist", title="Fashion-MNIST", dataset="FashionMNIST", format="idx",
        folder="FashionMNIST/raw", files=_IDX_FILES,
        origin="gunzipped from github.com/zalandoresearch/fashion-mnist",
    ),
    TorchvisionSet(
        name="kmnist", title="Kuzushiji-MNIST", dataset="KMNIST", format="idx", folder="KMNIST/raw",
        files=_IDX_FILES, origin="gunzipped from github.com/rois-codh/kmnist",
    ),
    TorchvisionSet(
        name="emnist_letters", title="EMNIST letters", dataset="EMNIST", format="idx",
        folder="EMNIST/raw",
        files=tuple(f"emnist-letters-{part}-{kind}" for part in ("train", "test")
                    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte")),
        origin="gunzipped from the gzip folder of NIST's EMNIST release",
        options=(("split", "letters"),), first_label=1, transposed=True,
    ),
    TorchvisionSet(
        name="cifar10", title="CIFAR-10", dataset="CIFAR10", format="cifar",
        folder="cifar-10-batches-py",
        files=(*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta"),
        origin="the official cifar-10-python.tar.gz from www.cs.toronto.edu/~kriz/cifar.html, "
        "extracted unchanged",
    ),
    TorchvisionSet(
        name="celeba", title="CelebA", dataset="CelebA", format="celeba", folder="celeba",
        files=("img_align_celeba/", "list_eval_partition.txt", "list_attr_celeba.txt",
               "identity_CelebA.txt", "list_bbox_celeba.txt", "list_landmarks_align_celeba.txt"),
        origin="the aligned faces 000001.jpg to 202599.jpg in img_align_celeba/ and the official "
        "text files, from mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
        # "Male" is the annotation with the strongest whole-face signal that is near balanced
        # (42 % of faces): a map coloured by it shows whether the codes organise faces at all,
        # and its class means give the classic attribute-arithmetic direction.
        class_names=("female", "male"), attribute="Male",
        advice=" CelebA holds 202,599 faces: keep a subset with --max-samples (e.g. 20000) and "
        "use --image-size 64 (and --color rgb).",
    ),
)
