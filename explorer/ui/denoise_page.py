"""Denoising: noisy, denoised and clean side by side, against classic filters."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer import charts
from explorer.denoise import DenoiseResult, denoise
from explorer.ui import resources
from explorer.ui.model_picker import open_model
from explorer.ui.widgets import guarded, query_value, share_state, show_strip

NOISES = {"gaussian": "Gaussian (std)", "masking": "masking (share zeroed)",
          "salt_pepper": "salt and pepper (share hit)", "patch": "patch (side / image side)"}


@st.cache_data(max_entries=16, show_spinner=False)
def result_for(path: str, mtime: float, display: str, noise: str, level: float, n: int,
               seed: int) -> DenoiseResult:
    view = resources.view(path, mtime, display)
    return denoise(resources.model(path, mtime).model, view.x[:n], noise, level, seed)


@guarded
def denoise_page() -> None:
    st.title("Denoising")
    opened = open_model(default="mnist-denoising-ae", images_only=True)
    if opened is None:
        return
    sidebar = st.sidebar
    noise = sidebar.selectbox("noise", list(NOISES), format_func=NOISES.get,
                              index=list(NOISES).index(query_value("noise", str, "gaussian"))
                              if query_value("noise", str, "gaussian") in NOISES else 0, key="dn_noise")
    level = sidebar.slider("noise level", 0.05, 0.9, query_value("level", float, 0.3), 0.05, key="dn_level")
    seed = int(sidebar.number_input("noise seed", 0, 1_000_000, 0, key="dn_seed"))
    n = int(sidebar.slider("test images scored", 16, min(1000, len(opened.view.z)), 200, key="dn_n"))
    share_state(noise=noise, level=level)
    cfg = opened.ckpt.config
    trained_for = (f"It was trained on {cfg.noise.replace('_', ' ')} noise at level {cfg.noise_level:g}."
                   if cfg.noise != "none" else
                   "It was not trained to denoise: it reconstructs whatever it is given, noise included.")
    st.caption(f"{opened.entry.path.name}: {trained_for} The filters get their best setting for these "
               "very images (tuned on the clean truth), so they are a generous baseline.")
    with st.spinner("Denoising…"):
        result = result_for(*opened.key, noise, level, n, seed)
    left, right = st.columns([2, 3], gap="medium")
    with left:
        st.plotly_chart(charts.metric_bars(result.psnr, "dB", highlight="autoencoder",
                                           title=f"mean PSNR over {n} test images (higher is better)"),
                        key="dn_psnr", width="stretch")
    with right:
        shown = min(10, n)
        clean = opened.view.x[:shown].numpy()
        rows = [("clean", clean), ("noisy", result.noisy[:shown]), ("autoencoder", result.denoised[:shown]),
                *((name, images[:shown]) for name, images in result.filtered.items())]
        show_strip(opened.view.data, np.concatenate([images for _, images in rows]),
                   "rows: " + ", ".join(name for name, _ in rows), key="dn_strip", ncols=shown)
