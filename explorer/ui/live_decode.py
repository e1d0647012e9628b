"""Decoding under the pointer, in the page: a components-v2 component (plain JS, no build,
no network) that turns the map point under the pointer into a code and decodes it every
animation frame, with no message to the server (a Streamlit round trip alone is ~100 ms).

It is mounted twice: once with the decoder program (``explorer.figures.live``, megabytes of
weights, sent once per model: an unchanged element is only a hash to Streamlit on later
reruns) and once with the map's inverse and trust data (``explorer.figures.live_map``) next to the
canvas it draws on; ``follow_sliders`` mounts it beside a panel's sliders, whose image then
follows a drag in the page. The page's maths mirrors ``explorer.figures.live.run_program`` and
``explorer.projection`` step by step; ``window.__leLive`` exposes it (decode, inverse,
trust, and per-frame time stamps) for the browser tests and ``bench/live_decode.py``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from explorer.data import Dataset
from explorer.projection import ProjectionConfig
from explorer.store.catalog import ModelEntry
from explorer.ui import resources

_HTML = """
<div class="le-live">
  <canvas class="le-live-canvas" width="0" height="0"></canvas>
  <div class="le-live-text">
    <div class="le-live-title">Live decode</div>
    <div class="le-live-cap">Move the pointer over the map.</div>
    <div class="le-live-trust"></div>
  </div>
</div>
"""

_CSS = """
.le-live { display: flex; gap: 12px; align-items: center; font: 14px sans-serif; }
.le-live-text { flex: 1; }
.le-live-canvas { flex: none; image-rendering: pixelated; border: 1px solid #ccc; border-radius: 4px;
  background: #000; }
.le-live-title { font-weight: 600; margin-bottom: 4px; }
.le-live-cap, .le-live-trust { color: #555; }
.le-live-trust b { padding: 0 6px; border-radius: 8px; color: #fff; }
"""

# The page's program is a file of its own so editors and `node --check` read it as JavaScript.
_JS = Path(__file__).with_name("live_decode.js").read_text(encoding="utf-8")
_component = st.components.v2.component("latent_live_decode", html=_HTML, css=_CSS, js=_JS)


@dataclass(frozen=True, eq=False)
class LiveSource:
    """What the page needs to decode under the pointer; the ids change only with the model
    (``program``) or the map (``map``), so the page decodes base64 once per payload."""

    program_id: str
    program: dict[str, object]
    map_id: str
    map: dict[str, object]


def live_source(entry: ModelEntry, data: Dataset, cfg: ProjectionConfig) -> LiveSource | str:
    """The live decode's payloads for this model and map, or one line saying why the page
    cannot decode them (then a click decodes on the server, as always)."""
    path, mtime = str(entry.path), resources.stamp(entry.path)
    program = resources.page_program(path, mtime)
    if isinstance(program, str):
        return program
    if data.kind != "image":
        return f"Decoding under the pointer draws images; {data.name} items are {data.kind}."
    page_map = resources.page_map(path, mtime, entry.display_data, cfg)
    if isinstance(page_map, str):
        return page_map
    program_id = f"{path}@{mtime}"
    return LiveSource(program_id, program, f"{program_id}|{entry.display_data}|{cfg!r}", page_map)


def live_panel(source: LiveSource | str, target: str, scale: int) -> None:
    """The live decode beside the chart mounted with ``key=target``, or the reason it is off."""
    if isinstance(source, str):
        st.caption(f":material/info: {source} Click the map to decode a spot.")
        return
    # Weights first: the view finds them by id when the pointer first moves.
    _component(data={"role": "program", "id": source.program_id, "program": source.program},
               key="live_program")
    _component(data={"role": "view", "program_id": source.program_id, "map_id": source.map_id,
                     "map": source.map, "target": target, "scale": scale,
                     "shape": source.program["output_shape"]},
               key="live_view")


def follow_sliders(source: LiveSource, container: str, labels: list[str], recipe: dict[str, object],
                   caption: str, scale: int) -> None:
    """Decode in the page while the sliders labelled ``labels`` inside ``st.container(key=
    container)`` are dragged, into that container's image captioned ``caption...``; the
    server still decodes the value a drag ends on. ``recipe``: ``{"kind": "path", "za",
    "zb", "path"}`` (one slider, t) or ``{"kind": "dims", "base", "dims"}`` (slider i sets z[dims[i]])."""
    _component(data={"role": "follow", "program_id": source.program_id, "container": container,
                     "labels": labels, "recipe": recipe, "caption": caption, "scale": scale},
               key=f"live_follow_{container}")
