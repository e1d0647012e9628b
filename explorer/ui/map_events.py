"""What the map's own events add to ``st.plotly_chart``, through one small component
(Streamlit components v2: plain JS in the page, no build, no network):

- thumbnails on hover: plotly's hover labels hold text only, so it listens to
  ``plotly_hover`` and shows the hovered item's tile from one sprite image;
- clicks on 3-D maps: ``st.plotly_chart`` reports selections of 2-D traces only, so it
  listens to ``plotly_click`` on ``scatter3d`` points and sends the item's index back."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping

import numpy as np
import streamlit as st

from explorer.data import Dataset
from explorer.figures import render

MAX_ITEMS = 10_000
TILE_PX = 28

_JS = """
export default function (component) {
  const { data, setTriggerValue } = component;
  let tip = document.getElementById("le-hover-tip");
  if (!tip) {
    tip = document.createElement("div");
    tip.id = "le-hover-tip";
    tip.style.cssText = "position:fixed;z-index:1000;pointer-events:none;display:none;" +
      "background:#fff;border:1px solid #999;border-radius:4px;padding:4px;" +
      "box-shadow:0 2px 6px rgba(0,0,0,.25);font:12px sans-serif;text-align:center";
    tip.innerHTML = '<canvas class="le-img" style="display:block;image-rendering:pixelated"></canvas>' +
      '<div class="le-cap"></div>';
    document.body.appendChild(tip);
  }
  // 3-D hover events carry no mouse position (plotly's scatter3d passes no DOM event): keep
  // the pointer's last position from the page itself, once per window.
  if (!window.__lePointer) {
    window.__lePointer = { x: 0, y: 0 };
    window.addEventListener("pointermove", (e) => {
      window.__lePointer.x = e.clientX;
      window.__lePointer.y = e.clientY;
    }, { capture: true, passive: true });
  }
  const img = tip.querySelector(".le-img");
  const cap = tip.querySelector(".le-cap");
  // The hovered tile is copied from the sprite into a small canvas: a moved tooltip then
  // repaints 84 x 84 pixels, not the whole sprite scaled up (2-3 ms a move in software).
  const w = data.tile_w, h = data.tile_h, s = data.scale;
  img.width = w * s; img.height = h * s;
  const pen = img.getContext("2d");
  pen.imageSmoothingEnabled = false;
  const sheet = new Image();
  sheet.src = data.sprite;
  let size = null;  // the tooltip's size: measured once (reading it forces a page layout)
  const show = (ev) => {
    const p = ev.points && ev.points[0];
    const index = p ? Number(Array.isArray(p.customdata) ? p.customdata[0] : p.customdata) : -1;
    if (!(index >= 0) || index >= data.n || !sheet.complete) { tip.style.display = "none"; return; }
    const col = index % data.cols, row = Math.floor(index / data.cols);
    pen.clearRect(0, 0, w * s, h * s);
    pen.drawImage(sheet, col * w, row * h, w, h, 0, 0, w * s, h * s);
    cap.textContent = (data.captions && data.captions[index]) || `#${index}`;
    const e = ev.event && ev.event.clientX !== undefined ? ev.event : null;
    const x = e ? e.clientX : window.__lePointer.x, y = e ? e.clientY : window.__lePointer.y;
    tip.style.display = "block";
    if (!size) size = [tip.offsetWidth, tip.offsetHeight];
    // Beside the pointer, flipped to its other side near the window's right or bottom edge.
    const right = x + 16 + size[0] > window.innerWidth;
    const below = y + 16 + size[1] > window.innerHeight;
    tip.style.left = (right ? x - 16 - size[0] : x + 16) + "px";
    tip.style.top = (below ? y - 16 - size[1] : y + 16) + "px";
  };
  const hide = () => { tip.style.display = "none"; };
  const pick = (ev) => {
    const p = ev.points && ev.points[0];
    if (!p || !p.data || p.data.type !== "scatter3d") return;  // 2-D clicks arrive as selections
    const index = Number(Array.isArray(p.customdata) ? p.customdata[0] : p.customdata);
    if (index >= 0) setTriggerValue("picked", index);
  };
  const attach = () => {
    const gd = document.querySelector(`.st-key-${data.target} .js-plotly-plot`);
    if (!gd || !gd.on) return false;
    if (gd.__leHoverSprite !== data.sprite_id) {
      if (gd.removeAllListeners) {
        gd.removeAllListeners("plotly_hover");
        gd.removeAllListeners("plotly_unhover");
        gd.removeAllListeners("plotly_click");
      }
      gd.on("plotly_hover", show);
      gd.on("plotly_unhover", hide);
      gd.on("plotly_click", pick);
      gd.__leHoverSprite = data.sprite_id;
    }
    return true;
  };
  // The chart may be drawn after this component or redrawn on a rerun: keep attaching.
  const timer = setInterval(attach, 500);
  attach();
  return () => { clearInterval(timer); hide(); };
}
"""

_component = st.components.v2.component("latent_map_events", html="<span></span>", js=_JS)


@st.cache_data(max_entries=8, show_spinner=False)
def sprite(x: np.ndarray, kind: str, item_shape: tuple[int, ...]) -> tuple[str, int, int, int, int]:
    """One PNG holding every item's thumbnail (images as they are, series as sparklines),
    base64-encoded, with (tile height, tile width, columns, items)."""
    if kind == "image":
        images = x.reshape((-1, *item_shape)).astype(np.float32)
        images = images[:, 0] if images.shape[1] == 1 else np.moveaxis(images, 1, -1)
    else:
        images = render.sparklines(x.reshape((-1, *item_shape)))
    images = images[:MAX_ITEMS]
    cols = int(np.ceil(np.sqrt(len(images))))
    png = render.to_png(render.tile(images, ncols=cols, pad=0))
    height, width = images.shape[1:3]
    return "data:image/png;base64," + base64.b64encode(png).decode(), height, width, cols, len(images)


def map_events(data: Dataset, captions: list[str], target: str, key: str,
               on_pick: Callable[[int], None]) -> None:
    """Attach hover thumbnails and 3-D click picking to the chart mounted with ``key=target``;
    ``on_pick(index)`` runs (as a widget callback, before the rerun) for a clicked 3-D item."""
    if data.kind == "tabular":  # rows are shown in the hover text itself
        uri, height, width, cols, n = "", 0, 0, 0, 0
    else:
        uri, height, width, cols, n = sprite(data.x_test.numpy(), data.kind, data.item_shape)

    def picked() -> None:
        index = _trigger_value(st.session_state.get(key), "picked")
        if index is not None:
            on_pick(int(index))

    _component(data={"sprite": uri, "sprite_id": f"{len(uri)}:{uri[-32:]}", "tile_h": height,
                     "tile_w": width, "cols": cols, "n": n,
                     "scale": max(1, round(84 / max(height, width, 1))), "target": target,
                     "captions": captions[:n]}, key=key, on_picked_change=picked)


def _trigger_value(state: object, name: str) -> object:
    if isinstance(state, Mapping):
        return state.get(name)
    return getattr(state, name, None)
