"""Latent Explorer: `streamlit run app.py`."""

import explorer  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)
import streamlit as st

from explorer.catalog import user_cache
from explorer.projection import configure_numba_cache

from explorer.ui.compare import compare_page
from explorer.ui.explore import explore_page
from explorer.ui.train_page import train_page

configure_numba_cache(user_cache() / "numba")  # before anything imports umap
# An emoji favicon: a :material: one is fetched from the internet on every rerun.
st.set_page_config(page_title="Latent Explorer", page_icon="🧭", layout="wide")
st.navigation(
    [
        st.Page(explore_page, title="Explore", icon=":material/scatter_plot:", default=True),
        st.Page(compare_page, title="AE vs VAE", icon=":material/compare:", url_path="compare"),
        st.Page(train_page, title="Train", icon=":material/model_training:", url_path="train"),
    ]
).run()
