"""Latent Explorer: `streamlit run app.py`."""

import explorer  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)
import streamlit as st

from explorer.catalog import user_cache
from explorer.projection import configure_numba_cache

from explorer.ui.anomaly_page import anomaly_page
from explorer.ui.arithmetic_page import arithmetic_page
from explorer.ui.beta_page import beta_page
from explorer.ui.compare import compare_page
from explorer.ui.denoise_page import denoise_page
from explorer.ui.explore import explore_page
from explorer.ui.finetune_page import finetune_page
from explorer.ui.interpolation_page import interpolation_page
from explorer.ui.neighbours_page import neighbours_page
from explorer.ui.shell import app_head
from explorer.ui.timeline_page import timeline_page
from explorer.ui.train_page import train_page

configure_numba_cache(user_cache() / "numba")  # before anything imports umap
# An emoji favicon: a :material: one is fetched from the internet on every rerun.
st.set_page_config(page_title="Latent Explorer", page_icon="🧭", layout="wide")
app_head()
st.navigation(
    {
        "Latent space": [
            st.Page(explore_page, title="Explore", icon=":material/scatter_plot:", default=True),
            st.Page(compare_page, title="AE vs VAE", icon=":material/compare:", url_path="compare"),
            st.Page(interpolation_page, title="Interpolation lab", icon=":material/timeline:",
                    url_path="interpolation"),
            st.Page(train_page, title="Train", icon=":material/model_training:", url_path="train"),
            st.Page(timeline_page, title="Timeline", icon=":material/slow_motion_video:",
                    url_path="timeline"),
            st.Page(beta_page, title="Beta scrubber", icon=":material/tune:", url_path="beta"),
        ],
        "What it is for": [
            st.Page(anomaly_page, title="Anomalies", icon=":material/report:", url_path="anomalies"),
            st.Page(neighbours_page, title="Neighbours", icon=":material/hub:", url_path="neighbours"),
            st.Page(denoise_page, title="Denoise", icon=":material/auto_fix_high:", url_path="denoise"),
            st.Page(arithmetic_page, title="Arithmetic", icon=":material/calculate:",
                    url_path="arithmetic"),
            st.Page(finetune_page, title="Few labels", icon=":material/school:", url_path="labels"),
        ],
    }
).run()
