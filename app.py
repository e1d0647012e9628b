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
from explorer.ui.timeline_page import timeline_page
from explorer.ui.train_page import train_page

configure_numba_cache(user_cache() / "numba")  # before anything imports umap
# An emoji favicon: a :material: one is fetched from the internet on every rerun.
st.set_page_config(page_title="Latent Explorer", page_icon="🧭", layout="wide")
# Lecture halls project at 1024×768: beside a 300 px sidebar Streamlit's own padding (5rem
# each side, 6rem on top) would leave the map and its tabs about 560 px. Narrow screens get
# a narrower sidebar and thin padding; wide ones keep Streamlit's look.
st.html("""<style>
/* Items side by side (A, t, B) keep their crisp size where it fits and shrink to their
   column where it does not, instead of overlapping the next one. */
[data-testid="stImage"], [data-testid="stImageContainer"] { max-width: 100%; }
[data-testid="stImage"] img { max-width: 100%; height: auto; }
@media (max-width: 1280px) {
  [data-testid="stMainBlockContainer"] { padding: 1.25rem 1rem 2rem 1rem; }
  [data-testid="stSidebar"] { width: 240px !important; min-width: 240px !important; }
  [data-testid="stSidebarContent"] { padding-left: 0.25rem; padding-right: 0.25rem; }
}
</style>""")
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
