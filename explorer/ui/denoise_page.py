"""Denoising (noisy, denoised and clean side by side, against classic filters) and
inpainting (mask a square, let the model fill it)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.apps.denoise import DenoiseResult, denoise, inpaint, square_mask
from explorer.figures import charts
from explorer.ui import resources
from explorer.ui.model_picker import open_model
from explorer.ui.widgets import guarded, query_value, share_state, show_items, show_strip

NOISES = {"gaussian": "Gaussian (std)", "masking": "masking (share zeroed)",
          "salt_pepper": "salt and pepper (share hit)", "patch": "patch (side / image side)"}


@st.cache_data(max_entries=16, show_spinner=False)
def result_for(path: str, mtime: float, display: str, noise: str, level: float, n: int,
               seed: int) -> DenoiseResult:
    view = resources.view(path, mtime, display)
    return denoise(resources.model(path, mtime).model, view.x[:n], noise, level, seed)


@guarded
def denoise_page() -> None:
    st.title("Denoise and inpaint")
    opened = open_model(default="mnist-denoising-ae", images_only=True)
    if opened is None:
        return
    sidebar = st.sidebar
    wanted = query_value("noise", str, "gaussian", choices=list(NOISES))
    noise = sidebar.selectbox("noise", list(NOISES), format_func=NOISES.get, key="dn_noise",
                              index=list(NOISES).index(wanted))
    shared_level = round(query_value("level", float, 0.3, lo=0.05, hi=0.9) * 20) / 20  # on the step
    level = sidebar.slider("noise level", 0.05, 0.9, shared_level, 0.05, key="dn_level")
    seed = int(sidebar.number_input("noise seed", 0, 1_000_000, 0, key="dn_seed"))
    n = int(sidebar.slider("test images scored", 16, min(1000, len(opened.view.z)), 200, key="dn_n"))
    share_state(noise=noise, level=level)
    cfg = opened.ckpt.config
    trained_for = (f"was trained on {NOISES[cfg.noise].split(' (')[0]} noise at level {cfg.noise_level:g}."
                   if cfg.noise != "none" else
                   "was not trained to denoise: it reconstructs whatever it is given, noise included.")
    st.caption(f"{opened.entry.path.name} {trained_for} The filters get their best setting for these "
               "very images (tuned on the clean truth), so they are a generous baseline.")
    with st.spinner("Denoising…"):
        result = result_for(*opened.key, noise, level, n, seed)
    left, right = st.columns([2, 3], gap="medium")
    with left:
        st.plotly_chart(charts.metric_bars(result.psnr, "dB", highlight="autoencoder",
                                           title=f"mean PSNR, {n} test images<br>(higher is better)"),
                        key="dn_psnr", width="stretch")
    with right:
        shown = min(10, n)
        clean = opened.view.x[:shown].numpy()
        rows = [("clean", clean), ("noisy", result.noisy[:shown]), ("autoencoder", result.denoised[:shown]),
                *((name, images[:shown]) for name, images in result.filtered.items())]
        show_strip(opened.view.data, np.concatenate([images for _, images in rows]),
                   "rows: " + ", ".join(name for name, _ in rows), key="dn_strip", ncols=shown)
    inpaint_panel(opened)


def position(col, label: str, largest: int, key: str) -> int:
    """A slider from 0 to ``largest``; none when the square already spans the image."""
    if largest == 0:
        col.caption(f"{label}: 0 (the square spans the image)")
        return 0
    return int(col.slider(label, 0, largest, largest // 2, key=key))


def inpaint_panel(opened) -> None:
    st.subheader("Inpainting: mask a square, let the model fill it")
    view = opened.view
    _, height, width = view.data.item_shape
    cols = st.columns(4)
    last = len(view.z) - 1
    index = int(cols[0].number_input("image", 0, last, query_value("item", int, 0, lo=0, hi=last),
                                     key="ip_item"))
    side = int(cols[1].slider("square side", 1, min(height, width), max(1, min(height, width) * 2 // 5),
                              key="ip_side"))
    top = position(cols[2], "top", height - side, "ip_top")
    left = position(cols[3], "left", width - side, "ip_left")
    share_state(item=index)
    image = view.x[index]
    mask = square_mask(tuple(image.shape), top, left, side)
    masked, filled = inpaint(opened.ckpt.model, image, mask)
    # The hole in mid-grey, so it shows against the black background.
    show_items(view.data, np.stack([image.numpy(), masked + 0.5 * mask.numpy(), filled]),
               ["original", "masked", "filled by the model"], key="ip_items", columns=6)
    if opened.ckpt.config.noise != "patch":
        st.caption("Models trained to fill patches (the masked, inpainting autoencoder) do this best; "
                   "others were never asked to and often draw a blur or another digit into the hole.")
