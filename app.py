"""Latent Explorer: `streamlit run app.py`."""

import explorer  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)
import streamlit as st

from explorer.store.catalog import user_cache
from explorer.projection import configure_numba_cache
from explorer.ui.shell import app_head, lazy_page

configure_numba_cache(user_cache() / "numba")  # before anything imports umap
# An emoji favicon: a :material: one is fetched from the internet on every rerun.
st.set_page_config(page_title="Latent Explorer", page_icon="🧭", layout="wide")
app_head()
st.navigation(
    {
        "Latent space": [
            st.Page(lazy_page("explore:explore_page"), title="Explore", icon=":material/scatter_plot:",
                    default=True),
            st.Page(lazy_page("compare:compare_page"), title="AE vs VAE", icon=":material/compare:",
                    url_path="compare"),
            st.Page(lazy_page("interpolation_page:interpolation_page"), title="Interpolation lab",
                    icon=":material/timeline:", url_path="interpolation"),
            st.Page(lazy_page("train_page:train_page"), title="Train", icon=":material/model_training:",
                    url_path="train"),
            st.Page(lazy_page("timeline_page:timeline_page"), title="Timeline",
                    icon=":material/slow_motion_video:", url_path="timeline"),
            st.Page(lazy_page("beta_page:beta_page"), title="Beta scrubber", icon=":material/tune:",
                    url_path="beta"),
        ],
        "What it is for": [
            st.Page(lazy_page("anomaly_page:anomaly_page"), title="Anomalies", icon=":material/report:",
                    url_path="anomalies"),
            st.Page(lazy_page("neighbours_page:neighbours_page"), title="Neighbours", icon=":material/hub:",
                    url_path="neighbours"),
            st.Page(lazy_page("denoise_page:denoise_page"), title="Denoise", icon=":material/auto_fix_high:",
                    url_path="denoise"),
            st.Page(lazy_page("arithmetic_page:arithmetic_page"), title="Arithmetic",
                    icon=":material/calculate:", url_path="arithmetic"),
            st.Page(lazy_page("finetune_page:finetune_page"), title="Few labels", icon=":material/school:",
                    url_path="labels"),
        ],
    }
).run()
