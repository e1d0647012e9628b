"""Streamlit pages and widgets. No math here: everything is called from ``explorer``."""
