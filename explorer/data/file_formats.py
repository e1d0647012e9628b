"""Reading the files users bring, from bytes: ``.npy``, ``.npz`` (never unpickled), ``.csv``,
image files and ``.zip`` folders of images, each size checked (``explorer.data.limits``)
before what it describes is read, inflated or decoded."""

from __future__ import annotations

import csv
import io
import math
import warnings
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import PurePosixPath

import numpy as np

from explorer.config import DataConfig
from explorer.data.base import Kind
from explorer.data.limits import (
    MAX_CSV_CELLS,
    MAX_IMAGE_PIXELS,
    MAX_ZIP_MEMBERS,
    corrupt,
    max_data_bytes,
    require_samples,
    too_big,
)
from explorer.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
KINDS: tuple[Kind, ...] = ("image", "tabular", "series")
LABEL_COLUMNS = ("label", "y", "target", "class")
_NPY_MAGIC = b"\x93NUMPY"
_PICKLE_OPCODE = b"\x80"  # pickle protocols 2+ start with PROTO


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
        raise corrupt(filename, exc, how) from None
    if dtype.hasobject:
        raise _pickle_refused(filename)
    if any(d < 0 for d in shape):
        raise corrupt(filename, ValueError(f"negative shape {shape}"), how)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > max_data_bytes():
        raise too_big(f"{filename}: an array of shape {shape} and dtype {dtype} takes", nbytes)
    if nbytes > available:
        raise corrupt(filename, ValueError(f"the header announces {nbytes:,} bytes of data, "
                                           f"the file holds {available:,}"), how)
    return nbytes


def read_npy(data: bytes, filename: str) -> np.ndarray:
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
        raise corrupt(filename, exc, "np.save(path, x)") from None
    except (OSError, EOFError) as exc:
        raise corrupt(filename, exc, "np.save(path, x)") from None


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
        raise corrupt(filename, exc, "np.savez(path, x=..., y=...)") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise corrupt(filename, exc, "np.savez(path, x=..., y=...)") from None
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
        raise corrupt(filename, exc, how) from None


def _npz_kind(value: np.ndarray | None, filename: str) -> str | None:
    if value is None:
        return None
    kind = str(value.astype(str).reshape(-1)[0]) if value.dtype.kind in "US" and value.size == 1 else None
    if kind not in KINDS:
        raise DataError(f"{filename}: 'kind' must be one of {', '.join(KINDS)} as a string, got {value!r}.")
    return kind


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


def decode_image(data: bytes, member: str, cfg: DataConfig) -> np.ndarray:
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


def check_decoded(what: str, n: int, cfg: DataConfig) -> None:
    """``n`` images decoded at ``cfg.image_size`` must fit the limit before the first is decoded."""
    decoded = n * cfg.image_size**2 * (1 if cfg.color == "grayscale" else 3) * 4
    if decoded > max_data_bytes():
        raise too_big(f"{what}: {n:,} images of {cfg.image_size} x {cfg.image_size} pixels take",
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
        raise too_big(f"{filename} would unpack to", unpacked)
    return archive


def read_image_zip(data: bytes, filename: str, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """Images ``(n, C, H, W)`` and folder-name labels (ImageFolder layout) or None."""
    with _open_zip(data, filename, "a .zip of image files") as archive:
        members = sorted(m.filename for m in archive.infolist() if _is_image_member(m))
        require_samples(filename, len(members), f"add {', '.join(IMAGE_SUFFIXES)} images to the zip")
        check_decoded(filename, len(members), cfg)
        images = [decode_image(_unpack(archive, member, filename), member, cfg) for member in members]
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
