"""Choosing the model a page works on: one sidebar select, shared by every page through
the URL's ``model`` parameter."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from explorer.store.catalog import ModelEntry, list_models, opened_folder
from explorer.store.checkpoint import Checkpoint
from explorer.ui import resources
from explorer.ui.widgets import query_value, share_state

DEFAULT_MODEL = "mnist-vae-2d"
NO_MODELS = (
    "No models yet. Train one on the **Train** page, or rebuild the shipped ones with "
    "`python scripts/build_pretrained.py --data-root PATH`."
)


def pick_model(
    entries: list[ModelEntry],
    key: str = "model",
    label: str = "Model",
    default: str = DEFAULT_MODEL,
    where=st.sidebar,
) -> ModelEntry:
    """A model chosen in a select box: the one in the URL's ``key`` parameter, else the one
    this session chose last on any page (``st.navigation`` drops a page's widgets and its
    URL when the user leaves it; a plain session key survives), else ``default``."""
    names = [e.path.name for e in entries]
    remembered = st.session_state.get(f"chosen_{key}")
    wanted = query_value(key, str, None, choices=names) or remembered
    target = wanted if wanted in names else default
    choice = where.selectbox(
        label,
        names,
        index=names.index(target) if target in names else 0,
        key=f"pick_{key}",
        # Only the user's own runs are marked: "(pretrained)" would not fit a projector's sidebar.
        format_func=lambda n: n if entries[names.index(n)].source == "pretrained" else f"{n} (yours)",
    )
    # Only a choice (or a link) is carried to the other pages: a page that was never told
    # otherwise opens on its own default (the denoising AE on Denoise).
    if remembered is not None or wanted is not None or choice != default:
        st.session_state[f"chosen_{key}"] = choice
    return entries[names.index(choice)]


@dataclass(frozen=True)
class OpenModel:
    entry: ModelEntry
    mtime: float
    ckpt: Checkpoint
    view: resources.View

    @property
    def key(self) -> tuple[str, float, str]:
        """What the cached resources of this model are keyed by."""
        return str(self.entry.path), self.mtime, self.entry.display_data


def open_model(default: str = DEFAULT_MODEL, images_only: bool = False,
               needs_decoder: bool = True) -> OpenModel | None:
    """The model picked in the sidebar with its display data and codes, loaded (cached);
    None (with a note on the page) when there is no model to pick, or the page decodes and
    the pick is a folder of imported codes."""
    entries = list_models()
    if not entries:
        st.info(NO_MODELS)
        return None
    opened = opened_folder()
    entry = pick_model(entries, default=opened.name if opened is not None else default)
    share_state(model=entry.path.name)
    mtime = resources.stamp(entry.path)
    with st.spinner("Loading the model and its codes…"):
        ckpt = resources.model(str(entry.path), mtime)
        view = resources.view(str(entry.path), mtime, entry.display_data)
    if images_only and view.data.kind != "image":
        st.info(f"This page works on images; {entry.path.name} models {view.data.kind} data. "
                "Pick a model of images in the sidebar.")
        return None
    if needs_decoder and not ckpt.model.has_decoder:
        st.info(f"{entry.path.name} holds imported codes only, without a decoder, and this page "
                "decodes. Open it on Explore or Neighbours, or pick a model in the sidebar.",
                icon=":material/info:")
        return None
    return OpenModel(entry, mtime, ckpt, view)
