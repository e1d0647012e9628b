"""Driving pages through Streamlit's AppTest and reading what they drew."""

from __future__ import annotations

import base64

import numpy as np
import plotly.io
from streamlit.testing.v1 import AppTest


def page(script: str, **query: str) -> AppTest:
    """The page as a user sees it once the work it started in the background is done."""
    at = AppTest.from_string(script, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return settled(at.run())


def settled(at: AppTest) -> AppTest:
    """Wait for the shared background work the last run started, then redraw the page with
    its results, as the page's live progress does in a browser."""
    from explorer.ui.resources import shared_work

    while running := shared_work().running():
        for job in running:
            job.join(120)
        at.run()
    return at


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def figure(at: AppTest, index: int = 0):
    return plotly.io.from_json(at.get("plotly_chart")[index].proto.spec)


def axis_values(values) -> np.ndarray:
    """A trace's x or y as numbers: plotly serializes numeric arrays as base64 typed arrays."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(() if values is None else values, dtype=np.float64)


def n_points(trace) -> int:
    x = trace.x
    return len(axis_values(x)) if isinstance(x, dict) else 0 if x is None else len(x)


def trace_names(at: AppTest) -> set[str]:
    return {t.name for t in figure(at).data}


def captions(at: AppTest) -> list[str]:
    return [c for image in at.get("image") for c in image.captions]


def goto(at: AppTest, url_path: str) -> AppTest:
    """Switch to the ``st.navigation`` page served at ``url_path`` ("" for the default) as a
    click in the sidebar does: the new page opens with an empty URL query. AppTest's own
    ``switch_page`` finds file pages only, and these pages are functions."""
    at._page_hash = next(h for h, info in at._registered_pages.items()
                         if info.get("url_pathname") == url_path)
    for key in list(at.query_params):
        del at.query_params[key]
    return at.run()
