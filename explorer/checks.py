"""The checks every config runs on its options: each returns the value normalized, or
raises a ``ConfigError`` naming the option, the value and what is allowed."""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from typing import Any

from explorer.errors import ConfigError

MAX_SEED = 2**32 - 1  # NumPy's and scikit-learn's seeds are 32-bit


def fail(name: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"{name} must be {allowed}, got {value!r}.")


def check_whole(name: str, value: Any, lo: int, hi: int) -> int:
    """``value`` as an int in lo..hi; bools and floats are refused (True is not 1 epoch)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise fail(name, value, f"a whole number between {lo} and {hi}")
    if not lo <= value <= hi:
        raise fail(name, int(value), f"between {lo} and {hi}")
    return int(value)


def check_number(name: str, value: Any, lo: float, hi: float, lo_open: bool = False,
                 hi_open: bool = False) -> float:
    """``value`` as a finite float in the interval; NaN, infinities and bools are refused."""
    interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise fail(name, value, f"a number in {interval}")
    value = float(value)
    above = value > lo if lo_open else value >= lo
    below = value < hi if hi_open else value <= hi
    if not (math.isfinite(value) and above and below):  # NaN fails every comparison
        raise fail(name, value, f"in {interval}")
    return value


def check_optional(check, name: str, value: Any, *limits: Any) -> Any:
    return None if value is None else check(name, value, *limits)


def check_text(name: str, value: Any, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise fail(name, value, "a non-empty string" + (" or null" if optional else ""))
    return value


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise fail(name, value, f"one of {', '.join(choices)}")
    return value


def check_sizes(name: str, value: Any, lo_len: int, hi_len: int, hi: int) -> tuple[int, ...]:
    """A list or tuple of lo_len..hi_len whole numbers, each from 1 to ``hi``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise fail(name, value, f"a list of whole numbers between 1 and {hi}")
    if not lo_len <= len(value) <= hi_len:
        raise fail(name, tuple(value), f"{lo_len} to {hi_len} whole numbers")
    return tuple(check_whole(f"{name} entries", v, 1, hi) for v in value)


def check_seed(value: Any) -> int:
    """A random seed, for the commands whose seed no config holds."""
    return check_whole("seed", value, 0, MAX_SEED)


def store(config: Any, **values: Any) -> None:
    """Store normalized values on a frozen dataclass (JSON turns tuples into lists)."""
    for name, value in values.items():
        object.__setattr__(config, name, value)


def env_limit(name: str, default: int, unit: str, error: type[Exception] = ConfigError) -> int:
    """A limit from environment variable ``name``: a whole number of ``unit`` of at least 1,
    ``default`` when unset or blank; anything else raises ``error`` naming the variable."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if limit < 1:
        raise error(f"{name} must be a whole number of {unit} (at least 1), got {text!r}.")
    return limit
