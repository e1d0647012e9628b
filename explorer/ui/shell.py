"""What every page of the app shares: its head (the layout's CSS and an early start on
loading Plotly's chart code), and pages imported only when they are first opened."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path

import streamlit as st

# Lecture halls project at 1024×768: beside a 300 px sidebar Streamlit's own padding (5rem
# each side, 6rem on top) would leave the map and its tabs about 560 px. Narrow screens get
# a narrower sidebar and thin padding; wide ones keep Streamlit's look.
LAYOUT_CSS = """<style>
/* This element itself: no room in the page (it holds only this style and a script). */
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > #le-head) { display: none; }
/* Items side by side (A, t, B) keep their crisp size where it fits and shrink to their
   column where it does not, instead of overlapping the next one. */
[data-testid="stImage"], [data-testid="stImageContainer"] { max-width: 100%; }
[data-testid="stImage"] img { max-width: 100%; height: auto; }
@media (max-width: 1280px) {
  [data-testid="stMainBlockContainer"] { padding: 1.25rem 1rem 2rem 1rem; }
  [data-testid="stSidebar"] { width: 240px !important; min-width: 240px !important; }
  [data-testid="stSidebarContent"] { padding-left: 0.25rem; padding-right: 0.25rem; }
}
</style>"""

STREAMLIT_JS = Path(st.__file__).parent / "static" / "static" / "js"


def plotly_chunk(js_dir: Path = STREAMLIT_JS) -> str | None:
    """The file name of Streamlit's Plotly chart code (named by its content's hash), or None
    where this Streamlit has no such file."""
    found = sorted(js_dir.glob("PlotlyChart.*.js"))
    return found[0].name if found else None


def preload_script(chunk: str | None) -> str:
    """A script that asks the browser to fetch and compile ``chunk`` now (a module preload,
    once per page). Streamlit fetches its 4.7 MB only when the first chart's message has
    arrived, and compiling it held every map back by ~0.3 s in headless Chromium; preloaded
    with the page's first message, it is ready by then. Empty when there is no chunk."""
    if chunk is None:
        return ""
    path = json.dumps(f"static/js/{chunk}")
    return ("<script>(() => { const href = new URL(" + path + ", document.baseURI).href;"
            " if (document.querySelector(`link[rel=modulepreload][href=\"${href}\"]`)) return;"
            " const link = document.createElement('link'); link.rel = 'modulepreload';"
            " link.href = href; document.head.appendChild(link); })();</script>")


def app_head() -> None:
    """The layout's CSS and the Plotly preload, as one invisible element."""
    st.html(LAYOUT_CSS + '<i id="le-head"></i>' + preload_script(plotly_chunk()),
            unsafe_allow_javascript=True)


def lazy_page(target: str) -> Callable[[], None]:
    """The page ``"module:function"`` (under ``explorer.ui``), imported when it first runs: the
    app opens on one page, and importing all eleven took 5.9 s of its first run on a 2-core
    machine where the Explore page's own imports take 3.7 s."""
    module, function = target.split(":")

    def page() -> None:
        getattr(importlib.import_module(f"explorer.ui.{module}"), function)()

    page.__name__ = function  # Streamlit names a page (and its URL, where none is given) by it
    return page
