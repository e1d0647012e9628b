"""The training timeline: scrub the epochs of a run and watch its map form."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from explorer.apps.beta_family import BETA_FAMILY_DIR
from explorer.data.sample import PRETRAINED_DIR
from explorer.figures import charts
from explorer.store.catalog import list_family, list_models
from explorer.store.checkpoint import read_config
from explorer.training.history import History
from explorer.training.timeline import TIMELINE_FILE, Timeline, aligned_frames, frame_titles, read_timeline
from explorer.ui import resources
from explorer.ui.model_picker import pick_model
from explorer.ui.widgets import guarded, share_state

HOW_TO_RECORD = ("Record one with `python -m explorer train ... --timeline`, or switch on **record a "
                 "timeline** on the Train page before training.")


def timeline_figure(timeline: Timeline, history: History) -> go.Figure:
    frames, axis = aligned_frames(timeline)
    return charts.timeline_map(frames, timeline.epochs, timeline.labels, timeline.class_names, axis,
                               start=timeline.final, titles=frame_titles(timeline, history))


@st.cache_data(max_entries=8, show_spinner=False)
def stored_timeline(path: str, mtime: float) -> tuple[Timeline, go.Figure]:
    """From the files alone (timeline.npz and config.json): no model, no data set loaded."""
    timeline = read_timeline(path)
    return timeline, timeline_figure(timeline, History.from_dict(read_config(path).get("history", {})))


def timeline_panel(fig: go.Figure, timeline: Timeline, key: str) -> None:
    st.plotly_chart(fig, key=key, width="stretch")
    dim = timeline.codes.shape[2]
    plane = ("the codes themselves" if dim <= 2 else
             f"the PCA plane of the final {dim}-D codes, the same plane for every epoch")
    st.caption(f"{len(timeline.items)} fixed test items after each of {timeline.n_frames - 1} epochs, "
               f"drawn on {plane}, on axes fixed over the whole run: drag the slider or press Play.")


@guarded
def timeline_page() -> None:
    st.title("Training timeline")
    st.markdown("The codes of the same test items after every epoch of a run, from the untrained "
                "encoder (epoch 0) to the saved weights: see the classes pull apart, and when.")
    entries = [e for e in list_models() + list_family(PRETRAINED_DIR / BETA_FAMILY_DIR)
               if (e.path / TIMELINE_FILE).is_file()]
    if not entries:
        st.info(f"No model here has a training timeline. {HOW_TO_RECORD}")
        return
    entry = pick_model(entries, default=entries[0].path.name)
    share_state(model=entry.path.name)
    timeline, fig = stored_timeline(str(entry.path), resources.stamp(entry.path))
    timeline_panel(fig, timeline, key="tl_map")
    st.caption(f"Only models with a timeline are listed. {HOW_TO_RECORD}")
