"""Small widgets shared by the pages: items, errors, shared state in the URL."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import streamlit as st

from explorer.data import Dataset
from explorer.errors import OUT_OF_MEMORY_MESSAGE, ExplorerError, OutOfMemoryError
from explorer.figures import charts, render

log = logging.getLogger("latent_explorer")
F = TypeVar("F", bound=Callable[..., Any])


def guarded(func: F) -> F:
    """Show errors as ``st.error`` with a next step; never a traceback on the page."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ExplorerError as exc:
            st.error(str(exc), icon=":material/error:")
        except MemoryError:
            st.error(str(OutOfMemoryError(OUT_OF_MEMORY_MESSAGE)), icon=":material/error:")
        except Exception as exc:
            # Streamlit's own control-flow exceptions (rerun, stop) must pass through.
            if type(exc).__module__.startswith("streamlit"):
                raise
            log.exception("unexpected error")
            st.error(
                f"Something went wrong ({type(exc).__name__}: {exc}). The details are in the "
                "server log; try another setting or reload the page.",
                icon=":material/error:",
            )
        return None

    return wrapper  # type: ignore[return-value]


def scale_for(data: Dataset) -> int:
    """Nearest-neighbour zoom so items show at about 112 px wide, crisp."""
    width = data.item_shape[-1]
    return max(1, 112 // max(width, 1))


def show_items(
    data: Dataset, items: np.ndarray, captions: Sequence[str], key: str, columns: int | None = None
) -> None:
    """Images side by side (``columns`` per row), series as lines, tabular rows as bars."""
    shown = data.to_display(items)
    if data.kind == "image":
        per_row = columns or len(shown)
        scale = scale_for(data)
        for start in range(0, len(shown), per_row):
            row = zip(st.columns(per_row), shown[start:start + per_row], captions[start:start + per_row])
            for col, image, caption in row:
                col.image(render.upscale(image, scale), caption=caption, clamp=True,
                          width=image.shape[1] * scale)
    elif data.kind == "series":
        st.plotly_chart(charts.series_lines(shown, captions), key=key, width="stretch")
    else:
        st.plotly_chart(charts.feature_bars(shown, captions, data.feature_names), key=key, width="stretch")


def show_strip(
    data: Dataset, items: np.ndarray, caption: str, key: str, ncols: int | None = None
) -> bytes | None:
    """A row or grid of decoded items; returns the PNG for images (for a download button).
    Series and tabular items show six evenly spaced items instead."""
    if data.kind != "image":
        pick = np.linspace(0, len(items) - 1, min(6, len(items))).round().astype(int)
        show_items(data, items[pick], [f"{caption} [{i}]" for i in pick], key)
        return None
    tiled = render.tile(data.to_display(items), ncols=ncols or len(items))
    st.image(render.upscale(tiled, max(1, scale_for(data) // 2)), caption=caption, clamp=True,
             width="stretch")
    return render.to_png(tiled, scale=2)


def selected_points(event: Any) -> list[dict]:
    """The points of an ``st.plotly_chart`` selection event (a dict or the widget's state)."""
    if isinstance(event, dict):
        return event.get("selection", {}).get("points", [])
    return getattr(getattr(event, "selection", None), "points", None) or []


def point_index(point: dict) -> int | None:
    """The item index a selected point carries in its ``customdata`` (see ``plots``), or None
    for overlays that carry none."""
    custom = point.get("customdata")
    index = custom[0] if isinstance(custom, list | tuple) else custom
    return None if index is None else int(index)


def query_value(name: str, cast: Callable[[str], Any], default: Any, lo: Any = None, hi: Any = None,
                choices: Sequence[Any] | None = None) -> Any:
    """A typed value from the URL, clamped to ``[lo, hi]`` (a widget's range, so a
    hand-edited link cannot crash or leave it), or the default when absent, malformed, not
    finite or not among ``choices``."""
    raw = st.query_params.get(name)
    if raw is None:
        return default
    try:
        value = cast(raw)
    except (TypeError, ValueError, OverflowError):
        return default
    if isinstance(value, float) and not np.isfinite(value):
        return default
    if choices is not None and value not in choices:
        return default
    if lo is not None and value < lo:
        return lo
    if hi is not None and value > hi:
        return hi
    return value


def share_state(**values: Any) -> None:
    """Write the state that reproduces the current view into the URL."""
    for name, value in values.items():
        if value is None:
            st.query_params.pop(name, None)
        elif st.query_params.get(name) != str(value):
            st.query_params[name] = str(value)
