"""The user's own data: ``.npz``, ``.npy``, ``.csv``, image files and ``.zip`` folders of images.

Everything is read in memory from bytes, so the CLI (a path) and the Streamlit uploader
(bytes and a name) share one code path, and nothing is unpacked to disk.

How an array becomes items (``n`` is the number of samples):

==========================  ===============================================================
shape                       kind
==========================  ===============================================================
``(n, d)``                  tabular, each column standardized; image ``(1, s, s)`` instead
                            when ``d == s * s`` with ``s >= 8`` and the values are pixels
``(n, H, W)``               image ``(1, H, W)`` when ``H, W >= 8`` and the values are
                            pixels, else series ``(T=H, C=W)``
``(n, H, W, C)``            image, channels last when ``C`` is 1 or 3
``(n, C, H, W)``            image, channels first when ``C`` is 1 or 3
==========================  ===============================================================

"Pixels" means values in [0, 1], or whole numbers in [0, 255] (uint8, or what a CSV of
pixel intensities holds). A float ``(n, T, C)`` array with other values is a series.
An ``.npz`` may hold a string ``kind`` ("image", "tabular" or "series") to override the
guess. Images are scaled to [0, 1]: values already in [0, 1] (a 0/1 mask too, whatever its
dtype) are kept, anything else up to 255 is divided by 255; image values outside [0, 255]
are an error. Series are standardized per channel.
Array images keep their size and channels; ``cfg.image_size`` and ``cfg.color`` apply to
decoded image files.

Every size is checked before the bytes it describes are read, inflated or decoded: the file
itself, each ``.npy`` header (shape times item size), each ``.npz`` or ``.zip`` member, an
image's pixel count and the decoded images together. One limit bounds them all,
``$LATENT_EXPLORER_MAX_DATA_BYTES`` (default 512 MiB); special files (FIFOs, devices, folders)
and link loops are refused by ``os.stat`` before anything is opened.
"""

from __future__ import annotations

import errno
import math
import os
import stat
from pathlib import Path

import numpy as np

from explorer.config import DataConfig
from explorer.data.base import Dataset, Kind, encode_labels, split, standardize
from explorer.data.file_formats import (
    IMAGE_SUFFIXES,
    KINDS,
    check_decoded,
    decode_image,
    read_csv,
    read_image_zip,
    read_npy,
    read_npz,
)
from explorer.data.limits import MIN_SAMPLES, max_data_bytes, require_samples, too_big
from explorer.errors import DataError, DataNotFoundError

SUFFIXES = (".npz", ".npy", ".csv", ".zip", *IMAGE_SUFFIXES)
MIN_IMAGE_SIDE = 8


def load_upload_path(cfg: DataConfig) -> Dataset:
    """Read the file at ``cfg.path`` (the CLI's ``--data FILE``)."""
    if not cfg.path:
        raise DataError("An upload needs a file: pass its path (--data FILE).")
    path = Path(cfg.path).expanduser()
    return load_upload_bytes(read_bounded(path), path.name, cfg)


def read_bounded(path: Path) -> bytes:
    """The bytes of a regular file within the size limit, checked by ``os.stat`` before it
    is opened."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataNotFoundError(f"No file at {path}; check the path.") from None
    except OSError as exc:
        reason = "it is a loop of symbolic links" if exc.errno == errno.ELOOP else exc.strerror or exc
        raise DataError(f"Cannot read {path}: {reason}. Pass a data file.") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(
            f"{path} is a folder. Pass one file ({', '.join(SUFFIXES)}), "
            "or zip a folder of images (one subfolder per class) and pass the .zip."
        )
    if not stat.S_ISREG(info.st_mode):
        raise DataError(f"{path} is not a regular file (a device, FIFO or socket); pass a data file.")
    limit = max_data_bytes()
    if info.st_size > limit:
        raise too_big(f"{path} holds", info.st_size)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)  # the file may have grown since stat
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if len(data) > limit:
        raise too_big(f"{path} holds", len(data))
    return data


def load_upload_bytes(data: bytes, filename: str, cfg: DataConfig) -> Dataset:
    """Read one uploaded file, chosen by its extension; the data set is named after its stem."""
    suffix = Path(filename).suffix.lower()
    name = Path(filename).stem or "upload"
    if suffix not in SUFFIXES:
        raise DataError(
            f"{filename}: unsupported file type {suffix or '(no extension)'!r}. "
            f"Upload one of {', '.join(SUFFIXES)}."
        )
    if not data:
        raise DataError(f"{filename} is empty (0 bytes); upload the file again or pick another.")
    if len(data) > max_data_bytes():
        raise too_big(f"{filename} holds", len(data))
    if suffix == ".npz":
        x, y, kind = read_npz(data, filename)
        return from_arrays(name, x, y, cfg, kind)
    if suffix == ".npy":
        return from_arrays(name, read_npy(data, filename), None, cfg)
    if suffix == ".csv":
        x, y, feature_names = read_csv(data, filename, cfg.label_column)
        return from_arrays(name, x, y, cfg, feature_names=feature_names)
    if suffix == ".zip":
        x, y = read_image_zip(data, filename, cfg)
        return from_arrays(name, x, y, cfg, "image")
    raise DataError(
        f"{filename} is a single image; a data set needs at least {MIN_SAMPLES}. "
        "Upload several images at once, or a .zip of them."
    )


def load_image_files(files: list[tuple[str, bytes]], cfg: DataConfig) -> Dataset:
    """Several uploaded image files (name, bytes) as one unlabelled image data set."""
    for filename, _ in files:
        if Path(filename).suffix.lower() not in IMAGE_SUFFIXES:
            raise DataError(
                f"{filename} is not an image; upload {', '.join(IMAGE_SUFFIXES)} files (or a .zip of them)."
            )
    require_samples("images", len(files), "select more image files")
    check_decoded("the images", len(files), cfg)
    # Sorted so the split does not depend on the order the browser listed the files in.
    images = [decode_image(data, filename, cfg) for filename, data in sorted(files)]
    return from_arrays("images", np.stack(images), None, cfg, "image")


def from_arrays(
    name: str,
    x: np.ndarray,
    y: np.ndarray | None,
    cfg: DataConfig,
    kind: str | None = None,
    feature_names: tuple[str, ...] | None = None,
) -> Dataset:
    """Validate ``x`` and labels ``y``, pick the kind (see the module docstring) and split."""
    _check_array(name, x)
    # Subsample before encoding so the class names list only classes that remain.
    x, y = _subsample(x, _check_labels(name, y, len(x)), cfg)
    codes, class_names = (None, None) if y is None else encode_labels(y)
    require_samples(name, len(x), "add more samples")
    kind = kind or _infer_kind(x)
    if kind not in KINDS:
        raise DataError(f"{name}: unknown kind {kind!r}; use one of {', '.join(KINDS)}.")
    items = {"image": _as_image, "tabular": _as_tabular, "series": _as_series}[kind](name, x)
    return split(
        name,
        kind,
        items,
        codes,
        cfg.test_fraction,
        cfg.seed,
        class_names,
        feature_names if kind == "tabular" else None,
    )


def _infer_kind(x: np.ndarray) -> Kind:
    """Guess image, tabular or series from the shape and the values (module docstring)."""
    if x.ndim == 4:
        return "image"
    if x.ndim == 3:
        big_enough = min(x.shape[1:]) >= MIN_IMAGE_SIDE
        return "image" if big_enough and _pixel_scale(x, whole=True) else "series"
    side = math.isqrt(x.shape[1])
    square = side * side == x.shape[1] and side >= MIN_IMAGE_SIDE
    return "image" if square and _pixel_scale(x, whole=True) else "tabular"


def _check_array(name: str, x: np.ndarray) -> None:
    if x.dtype.kind not in "biuf":
        raise DataError(f"{name}: the data must be numbers, got dtype {x.dtype}; save x as a numeric array.")
    if x.ndim < 2 or x.ndim > 4:
        raise DataError(
            f"{name}: the data has shape {x.shape}; expected one sample per row: (n, features), "
            "(n, H, W), (n, H, W, C), (n, C, H, W) or a series (n, T, C)."
            + (" Reshape a single feature with x.reshape(-1, 1)." if x.ndim == 1 else "")
        )
    if 0 in x.shape[1:]:
        raise DataError(f"{name}: the data has shape {x.shape}, so each sample is empty.")
    bad = int(np.count_nonzero(~np.isfinite(x))) if x.dtype.kind == "f" else 0
    if bad:
        raise DataError(f"{name}: the data holds {bad} NaN or infinite values; clean or impute them first.")


def _check_labels(name: str, y: np.ndarray | None, n: int) -> np.ndarray | None:
    """One number or string per sample, as a 1-D array (or None: unlabelled)."""
    if y is None:
        return None
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"{name}: labels must be one value per sample, shape (n,); got {y.shape}.")
    if len(y) != n:
        raise DataError(f"{name}: {n} samples but {len(y)} labels; give one label per sample.")
    if y.dtype.kind not in "biufUS":
        raise DataError(f"{name}: labels must be numbers or strings, got dtype {y.dtype}.")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise DataError(f"{name}: some labels are NaN or infinite; label every sample.")
    return y


def _subsample(x: np.ndarray, y: np.ndarray | None, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """A fixed-seed subset of ``cfg.max_samples``, in file order, for quick runs."""
    if cfg.max_samples is None or cfg.max_samples >= len(x):
        return x, y
    keep = np.sort(np.random.default_rng(cfg.seed).choice(len(x), cfg.max_samples, replace=False))
    return x[keep], None if y is None else y[keep]


def _pixel_scale(x: np.ndarray, whole: bool) -> float | None:
    """255 or 1 to divide pixels by, or None when the values are not pixel intensities.

    ``whole`` asks for whole numbers above 1, which tells a CSV of 0..255 pixels from
    measurements; when the caller already knows the data are images any [0, 255] will do.
    """
    lo, hi = float(x.min()), float(x.max())
    if lo >= 0 and hi <= 1:
        return 1.0
    if lo >= 0 and hi <= 255 and (not whole or bool(np.all(x == np.round(x)))):
        return 255.0
    return None


def _as_image(name: str, x: np.ndarray) -> np.ndarray:
    """``(n, C, H, W)`` in [0, 1]."""
    scale = _pixel_scale(x, whole=False)
    if scale is None:
        raise DataError(
            f"{name}: image values must lie in [0, 1] or [0, 255]; these span "
            f"{float(x.min()):g} to {float(x.max()):g}. Rescale them, or save kind='series' or "
            "kind='tabular' in the .npz if they are not images."
        )
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise DataError(
                f"{name}: flat images need a square number of pixels, got "
                f"{x.shape[1]}; save them as (n, H, W)."
            )
        x = x.reshape(len(x), 1, side, side)
    elif x.ndim == 3:
        x = x[:, None]
    elif x.shape[-1] in (1, 3):
        x = np.moveaxis(x, -1, 1)
    elif x.shape[1] not in (1, 3):
        raise DataError(
            f"{name}: images need 1 (grayscale) or 3 (RGB) channels as "
            f"(n, H, W, C) or (n, C, H, W); got shape {x.shape}."
        )
    return (x.astype(np.float32) / np.float32(scale)).astype(np.float32)


def _as_tabular(name: str, x: np.ndarray) -> np.ndarray:
    """``(n, D)`` with standardized columns, as the built-in tables."""
    return standardize(x.reshape(len(x), -1).astype(np.float64))


def _as_series(name: str, x: np.ndarray) -> np.ndarray:
    """``(n, T, C)`` standardized per channel, so channels in different units weigh alike."""
    if x.ndim == 4:
        raise DataError(f"{name}: a series must be (n, T) or (n, T, C); got shape {x.shape}.")
    x = x[:, :, None] if x.ndim == 2 else x
    return standardize(x.astype(np.float64), axis=(0, 1))
