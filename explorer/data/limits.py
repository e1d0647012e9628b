"""What an upload may be: its size, and the counts inside it, each checked before the bytes
it describes are read. One limit bounds them all, ``$LATENT_EXPLORER_MAX_DATA_BYTES``."""

from __future__ import annotations

from explorer.checks import env_limit
from explorer.errors import DataError

MIN_SAMPLES = 4
# Zip bombs: a small upload must not unpack into something that exhausts memory.
MAX_ZIP_MEMBERS = 50_000
MAX_DATA_BYTES_ENV = "LATENT_EXPLORER_MAX_DATA_BYTES"
# 512 MiB: all of MNIST as float64 takes 360 MiB; reading and splitting needs a few times more.
DEFAULT_MAX_DATA_BYTES = 1 << 29
MAX_IMAGE_PIXELS = 25_000_000  # one image file: 5000 x 5000, checked from its header
MAX_CSV_CELLS = 20_000_000  # a parsed cell costs ~50 bytes of Python objects


def max_data_bytes() -> int:
    """The most bytes one upload may hold or unpack to: ``$LATENT_EXPLORER_MAX_DATA_BYTES``."""
    return env_limit(MAX_DATA_BYTES_ENV, DEFAULT_MAX_DATA_BYTES, "bytes", DataError)


def size_text(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def too_big(what: str, n: int) -> DataError:
    limit = max_data_bytes()
    return DataError(
        f"{what} {size_text(n)}; the limit is {size_text(limit)}. Use less data, or raise the limit "
        f"with {MAX_DATA_BYTES_ENV}=BYTES."
    )


def require_samples(name: str, n: int, advice: str) -> None:
    if n < MIN_SAMPLES:
        raise DataError(
            f"{name} has only {n} samples, too few to split into train and test; "
            f"at least {MIN_SAMPLES} are needed ({advice})."
        )


def corrupt(filename: str, exc: Exception, how: str) -> DataError:
    return DataError(f"{filename} is corrupt or truncated ({exc}); save it again with {how}.")
