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

import csv
import errno
import io
import math
import os
import stat
import warnings
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import numpy as np

from explorer.config import DataConfig
from explorer.data.base import Dataset, Kind, encode_labels, split, standardize
from explorer.errors import DataError, DataNotFoundError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
SUFFIXES = (".npz", ".npy", ".csv", ".zip", *IMAGE_SUFFIXES)
KINDS: tuple[Kind, ...] = ("image", "tabular", "series")
LABEL_COLUMNS = ("label", "y", "target", "class")
MIN_SAMPLES = 4
MIN_IMAGE_SIDE = 8
# Zip bombs: a small upload must not unpack into something that exhausts memory.
MAX_ZIP_MEMBERS = 50_000
MAX_DATA_BYTES_ENV = "LATENT_EXPLORER_MAX_DATA_BYTES"
# 512 MiB: all of MNIST as float64 takes 360 MiB; reading and splitting needs a few times more.
DEFAULT_MAX_DATA_BYTES = 1 << 29
MAX_IMAGE_PIXELS = 25_000_000  # one image file: 5000 x 5000, checked from its header
MAX_CSV_CELLS = 20_000_000  # a parsed cell costs ~50 bytes of Python objects

_NPY_MAGIC = b"\x93NUMPY"
_PICKLE_OPCODE = b"\x80"  # pickle protocols 2+ start with PROTO


def max_data_bytes() -> int:
    """The most bytes one upload may hold or unpack to: ``$LATENT_EXPLORER_MAX_DATA_BYTES``."""
    text = os.environ.get(MAX_DATA_BYTES_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_DATA_BYTES
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if limit < 1:
        raise DataError(f"{MAX_DATA_BYTES_ENV} must be a whole number of bytes, got {text!r}.")
    return limit


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _too_big(what: str, n: int) -> DataError:
    limit = max_data_bytes()
    return DataError(
        f"{what} {_size(n)}; the limit is {_size(limit)}. Use less data, or raise the limit "
        f"with {MAX_DATA_BYTES_ENV}=BYTES."
    )


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
        raise _too_big(f"{path} holds", info.st_size)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)  # the file may have grown since stat
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if len(data) > limit:
        raise _too_big(f"{path} holds", len(data))
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
        raise _too_big(f"{filename} holds", len(data))
    if suffix == ".npz":
        x, y, kind = read_npz(data, filename)
        return from_arrays(name, x, y, cfg, kind)
    if suffix == ".npy":
        return from_arrays(name, _read_npy(data, filename), None, cfg)
    if suffix == ".csv":
        x, y, feature_names = read_csv(data, filename, cfg.label_column)
        return from_arrays(name, x, y, cfg, feature_names=feature_names)
    if suffix == ".zip":
        x, y = _read_image_zip(data, filename, cfg)
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
    _require_samples("images", len(files), "select more image files")
    _check_decoded("the images", len(files), cfg)
    # Sorted so the split does not depend on the order the browser listed the files in.
    images = [_decode_image(data, filename, cfg) for filename, data in sorted(files)]
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
    _require_samples(name, len(x), "add more samples")
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


def _require_samples(name: str, n: int, advice: str) -> None:
    if n < MIN_SAMPLES:
        raise DataError(
            f"{name} has only {n} samples, too few to split into train and test; "
            f"at least {MIN_SAMPLES} are needed ({advice})."
        )


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


# --- NumPy files ----------------------------------------------------------------------------


def _pickle_refused(filename: str) -> DataError:
    return DataError(
        f"{filename}: pickled (object) arrays are refused for safety, because loading a pickle "
        "can run arbitrary code. Save plain numeric or string arrays instead, e.g. "
        "np.savez(path, x=x.astype('float32'), y=np.asarray(labels))."
    )


def _npy_header(stream: io.IOBase, available: int, filename: str, how: str) -> int:
    """Check the ``.npy`` header at the start of ``stream`` against the size limit and the
    ``available`` bytes, before any array is allocated; the array's size in bytes."""
    try:
        version = np.lib.format.read_magic(stream)
        read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read(stream)
    except (ValueError, SyntaxError, TypeError, EOFError, OSError, RecursionError,
            zipfile.BadZipFile, zlib.error) as exc:
        raise _corrupt(filename, exc, how) from None
    if dtype.hasobject:
        raise _pickle_refused(filename)
    if any(d < 0 for d in shape):
        raise _corrupt(filename, ValueError(f"negative shape {shape}"), how)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > max_data_bytes():
        raise _too_big(f"{filename}: an array of shape {shape} and dtype {dtype} takes", nbytes)
    if nbytes > available:
        raise _corrupt(filename, ValueError(f"the header announces {nbytes:,} bytes of data, "
                                            f"the file holds {available:,}"), how)
    return nbytes


def _read_npy(data: bytes, filename: str) -> np.ndarray:
    if data.startswith(_PICKLE_OPCODE):
        raise _pickle_refused(filename)
    if not data.startswith(_NPY_MAGIC):
        raise DataError(f"{filename} is not a NumPy .npy file; save one with np.save(path, x).")
    stream = io.BytesIO(data)
    _npy_header(stream, len(data), filename, "np.save(path, x)")
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise _pickle_refused(filename) from None
        raise _corrupt(filename, exc, "np.save(path, x)") from None
    except (OSError, EOFError) as exc:
        raise _corrupt(filename, exc, "np.save(path, x)") from None


def read_npz(data: bytes, filename: str) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """``x`` (or the only array), optional labels ``y`` and an optional string ``kind``."""
    # np.load opens the zip itself; this only applies the size limits first.
    how = "np.savez(path, x=..., y=...)"
    with _open_zip(data, filename, f"an .npz saved with {how}") as archive:
        for member in archive.infolist():
            _check_npz_member(archive, member, filename, how)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except ValueError as exc:
        if "pickle" in str(exc):
            raise _pickle_refused(filename) from None
        raise _corrupt(filename, exc, "np.savez(path, x=..., y=...)") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise _corrupt(filename, exc, "np.savez(path, x=..., y=...)") from None
    for key, value in arrays.items():
        # NpzFile hands back raw bytes for members that are not .npy arrays.
        if isinstance(value, bytes) and value.startswith(_PICKLE_OPCODE):
            raise _pickle_refused(filename)
        if not isinstance(value, np.ndarray):
            raise DataError(
                f"{filename}: entry {key!r} is not a NumPy array; save the file "
                "with np.savez(path, x=..., y=...)."
            )
    kind = _npz_kind(arrays.pop("kind", None), filename)
    y = arrays.pop("y", None)
    if "x" not in arrays and len(arrays) != 1:
        found = ", ".join(sorted(arrays)) or "none besides y/kind"
        raise DataError(
            f"{filename}: name the data array 'x' (found {found}); save with np.savez(path, x=..., y=...)."
        )
    key = "x" if "x" in arrays else next(iter(arrays))
    extra = sorted(set(arrays) - {key})
    if extra:
        raise DataError(
            f"{filename}: unexpected arrays {', '.join(extra)}; an .npz holds x, "
            "optional labels y and an optional kind."
        )
    return arrays[key], y, kind


def _check_npz_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, filename: str,
                      how: str) -> None:
    """A member's ``.npy`` header, read by inflating only its first bytes: its array must fit
    the limit and the member's own declared size (zipfile never inflates past that)."""
    try:
        with archive.open(member) as stream:
            if stream.read(len(_NPY_MAGIC)) != _NPY_MAGIC:
                return  # not an array: np.load hands back its bytes, refused below
            stream.seek(0)
            _npy_header(stream, member.file_size, f"{filename}: {member.filename}", how)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError,
            zlib.error) as exc:
        raise _corrupt(filename, exc, how) from None


def _npz_kind(value: np.ndarray | None, filename: str) -> str | None:
    if value is None:
        return None
    kind = str(value.astype(str).reshape(-1)[0]) if value.dtype.kind in "US" and value.size == 1 else None
    if kind not in KINDS:
        raise DataError(f"{filename}: 'kind' must be one of {', '.join(KINDS)} as a string, got {value!r}.")
    return kind


def _corrupt(filename: str, exc: Exception, how: str) -> DataError:
    return DataError(f"{filename} is corrupt or truncated ({exc}); save it again with {how}.")


# --- CSV ------------------------------------------------------------------------------------


def read_csv(
    data: bytes, filename: str, label_column: str | None
) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...]]:
    """Numeric features, raw label values (or None) and the feature column names."""
    rows = _csv_rows(data, filename)
    header = [cell.strip() or f"column {i + 1}" for i, cell in enumerate(rows[0])]
    if all(_is_number(cell) for cell in rows[0]):
        raise DataError(
            f"{filename}: the first row holds numbers, not column names; add a header row naming each column."
        )
    body = rows[1:]
    if not body:
        raise DataError(f"{filename} has a header but no data rows.")
    for i, row in enumerate(body, start=1):
        if len(row) != len(header):
            raise DataError(
                f"{filename}: data row {i} has {len(row)} cells but the header has "
                f"{len(header)}; give every row one cell per column."
            )
    cells = np.char.strip(np.array(body, dtype=str))
    label = _label_index(header, label_column, filename)
    features = [j for j in range(len(header)) if j != label]
    if not features:
        raise DataError(f"{filename}: no feature columns besides the label column.")
    x = np.stack([_numeric_column(cells[:, j], header[j], filename) for j in features], axis=1)
    y = None if label is None else _label_values(cells[:, label], header[label], filename)
    return x, y, tuple(header[j] for j in features)


def _csv_rows(data: bytes, filename: str) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # spreadsheets on Windows write cp1252; numbers are ASCII
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    rows, cells = [], 0
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            cells += len(row)
            if cells > MAX_CSV_CELLS:
                raise DataError(
                    f"{filename} holds more than {MAX_CSV_CELLS:,} cells, the most a CSV may; "
                    "save large data as .npy or .npz, which are read without parsing text."
                )
            if row:
                rows.append(row)
    except csv.Error as exc:
        raise DataError(f"{filename} is not a readable CSV file ({exc}).") from None
    if not rows:
        raise DataError(f"{filename} holds no rows; add a header row and data rows.")
    return rows


def _label_index(header: list[str], label_column: str | None, filename: str) -> int | None:
    """``label_column`` if given, else a column named label/y/target/class, else None."""
    lowered = [name.lower() for name in header]
    if label_column is not None:
        if label_column in header:
            return header.index(label_column)
        if label_column.lower() in lowered:
            return lowered.index(label_column.lower())
        raise DataError(f"{filename}: no label column {label_column!r}; the columns are {', '.join(header)}.")
    return next((i for i, name in enumerate(lowered) if name in LABEL_COLUMNS), None)


def _numeric_column(cells: np.ndarray, column: str, filename: str) -> np.ndarray:
    try:
        values = np.where(cells == "", "nan", cells).astype(np.float64)
    except ValueError:
        # NumPy does not say which cell failed; find it for the message.
        values = np.array(
            [_cell_number(c, row, column, filename) for row, c in enumerate(cells.tolist(), start=1)]
        )
    missing = int(np.count_nonzero(~np.isfinite(values)))
    if missing:
        raise DataError(
            f"{filename}: column {column!r} has {missing} empty, NaN or infinite "
            f"cells in {len(cells)} rows; fill them or drop those rows."
        )
    return values


def _cell_number(cell: str, row: int, column: str, filename: str) -> float:
    if not cell:
        return math.nan
    try:
        return float(cell)
    except ValueError:
        raise DataError(
            f"{filename}: column {column!r} is not numeric (data row {row}: {cell!r}). Remove "
            "it, encode it as numbers, or name it as the label column."
        ) from None


def _label_values(cells: np.ndarray, column: str, filename: str) -> np.ndarray:
    """Numbers sort as numbers (2 before 10); anything else stays text."""
    empty = int(np.count_nonzero(cells == ""))
    if empty:
        raise DataError(
            f"{filename}: label column {column!r} has {empty} empty cells in "
            f"{len(cells)} rows; label every row or drop those rows."
        )
    if not all(_is_number(cell) for cell in cells):
        return cells
    values = cells.astype(np.float64)
    return values.astype(np.int64) if np.all(values == np.round(values)) else values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- images ---------------------------------------------------------------------------------


def _decode_image(data: bytes, member: str, cfg: DataConfig) -> np.ndarray:
    """One image file as ``(C, cfg.image_size, cfg.image_size)`` float32 in [0, 1]."""
    from PIL import Image

    size = cfg.image_size
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its pixel limit; a bomb should fail, not thrash.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                pixels = image.width * image.height
                if pixels > MAX_IMAGE_PIXELS:
                    raise DataError(
                        f"image {member!r} is {image.width} x {image.height} pixels; the limit "
                        f"is {MAX_IMAGE_PIXELS:,} pixels. Shrink it first."
                    )
                image = image.convert("L" if cfg.color == "grayscale" else "RGB")
                image = image.resize((size, size), Image.Resampling.BILINEAR)
    except DataError:
        raise
    except Exception as exc:  # Pillow decoders raise many exception types; all mean a bad file
        raise DataError(
            f"cannot read image {member!r} ({type(exc).__name__}: {exc}); "
            "remove it or save it again as PNG or JPEG."
        ) from None
    pixels = np.asarray(image, dtype=np.float32) / np.float32(255.0)
    return pixels[None] if pixels.ndim == 2 else np.moveaxis(pixels, -1, 0)


def _check_decoded(what: str, n: int, cfg: DataConfig) -> None:
    """``n`` images decoded at ``cfg.image_size`` must fit the limit before the first is decoded."""
    decoded = n * cfg.image_size**2 * (1 if cfg.color == "grayscale" else 3) * 4
    if decoded > max_data_bytes():
        raise _too_big(f"{what}: {n:,} images of {cfg.image_size} x {cfg.image_size} pixels take",
                       decoded)


def _open_zip(data: bytes, filename: str, what: str) -> zipfile.ZipFile:
    """Open a zip in memory, refusing archives that would unpack to too much."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataError(f"{filename} is not a valid zip archive ({exc}); it should be {what}.") from None
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise DataError(
            f"{filename} holds {len(members):,} files; the limit is "
            f"{MAX_ZIP_MEMBERS:,}. Upload fewer files or pack the arrays in an .npz."
        )
    unpacked = sum(member.file_size for member in members)
    if unpacked > max_data_bytes():
        archive.close()
        raise _too_big(f"{filename} would unpack to", unpacked)
    return archive


def _read_image_zip(data: bytes, filename: str, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """Images ``(n, C, H, W)`` and folder-name labels (ImageFolder layout) or None."""
    with _open_zip(data, filename, "a .zip of image files") as archive:
        members = sorted(m.filename for m in archive.infolist() if _is_image_member(m))
        _require_samples(filename, len(members), f"add {', '.join(IMAGE_SUFFIXES)} images to the zip")
        _check_decoded(filename, len(members), cfg)
        images = [_decode_image(_unpack(archive, member, filename), member, cfg) for member in members]
    return np.stack(images), _folder_labels(members, filename)


def _unpack(archive: zipfile.ZipFile, member: str, filename: str) -> bytes:
    try:
        return archive.read(member)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError) as exc:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression.
        raise DataError(
            f"{filename}: cannot unpack {member!r} ({exc}); zip the images again "
            "with plain compression and no password."
        ) from None


def _is_image_member(member: zipfile.ZipInfo) -> bool:
    path = PurePosixPath(member.filename)
    # macOS adds __MACOSX/ and ._name resource forks; other dot files are not images either.
    hidden = any(part.startswith(".") or part == "__MACOSX" for part in path.parts)
    return not member.is_dir() and not hidden and path.suffix.lower() in IMAGE_SUFFIXES


def _folder_labels(members: Iterable[str], filename: str) -> np.ndarray | None:
    """The first folder below the folders every image shares, when every image has one."""
    folders = [PurePosixPath(member).parts[:-1] for member in members]
    shared = 0
    while all(len(f) > shared and f[shared] == folders[0][shared] for f in folders):
        shared += 1
    below = [f[shared:] for f in folders]
    if not any(below):
        return None
    if not all(below):
        raise DataError(
            f"{filename}: some images sit in class folders and some do not; put "
            "every image in a folder named after its class, or none of them."
        )
    return np.array([f[0] for f in below])
