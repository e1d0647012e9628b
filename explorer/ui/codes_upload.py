"""Open codes computed elsewhere from the browser: upload a codes file and it becomes a folder
of the user's runs that Explore and Neighbours open (``explorer.store.codes_import``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from explorer.errors import ExplorerError
from explorer.store.catalog import runs_dir
from explorer.store.codes_import import CODES_SUFFIXES, import_codes, read_codes_bytes


def codes_upload_panel() -> None:
    with st.expander("Open codes computed elsewhere (no model needed)", icon=":material/upload_file:"):
        upload = st.file_uploader(
            "Codes, one per row: .npz (z and optional labels y), .csv or .parquet (one column per "
            "dimension)", type=[s.lstrip(".") for s in CODES_SUFFIXES], key="codes_upload")
        cols = st.columns(2)
        labels = cols[0].text_input("label column (CSV or Parquet, optional)", key="codes_labels") or None
        stem = Path(upload.name).stem if upload is not None else ""
        name = cols[1].text_input("folder name", value=stem, key=f"codes_name_{stem}").strip()
        st.caption("The codes map, colour, cluster and export like a model's; decoding needs a decoder, "
                   "so it is off for them. Items to pair with the codes: `python -m explorer import "
                   "--codes FILE --data SOURCE`.")
        if upload is None or not st.button("Import codes", key="codes_import", disabled=not name):
            return
        if Path(name).name != name or name.startswith("."):
            st.error(f"{name!r} is not a folder name: use letters, digits, - and _ only.")
            return
        try:
            with st.spinner("Reading the codes and computing their default maps…"):
                codes = read_codes_bytes(upload.getvalue(), upload.name, labels)
                out = import_codes(codes, runs_dir() / name, labels=labels)
        except ExplorerError as exc:
            st.error(str(exc))
            return
        st.success(f"Imported {len(codes.z):,} codes of {codes.z.shape[1]} numbers as {out.name}: "
                   f"[open it on Explore](./?model={out.name}), or pick it in the sidebar.")
