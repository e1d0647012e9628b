"""Interpolation lab: linear, spherical and data-following paths between two items, decoded,
and what the prior, the data and the decoder say at each step."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.apps.interpolation import CodeGraph, PathProfile, path_profiles
from explorer.figures import charts, overlays, plots
from explorer.ui import resources
from explorer.ui.model_picker import OpenModel, open_model
from explorer.ui.widgets import guarded, query_value, share_state, show_strip

LABELS = {"linear": "linear", "spherical": "spherical (slerp)", "data": "data-following"}
COLORS = {"linear": "#222222", "spherical": "#7b3294", "data": "#d95f02"}

EXPLANATION = """
Three ways from item **A** to item **B**: the **straight line**; **slerp**, the great circle
with the norm interpolated, which keeps the path off the low-norm centre; and the
**data-following** path, the shortest path on a graph that joins each test code to its k
nearest codes, so it hops from one real encoding to the next. Each is cut into the same number
of steps. Along each, three numbers say how much to trust the decode:
- **log N(z; 0, I)**: a VAE's decoder was trained where the prior puts its mass. The density is
  highest at the origin, so a path through the centre scores *higher* here, even though in many
  dimensions almost no code lies near the centre: read it beside the distance to the data.
- **distance to the nearest code**: an AE's decoder only ever saw the codes of real items; far
  from all of them it draws whatever its weights happen to give.
- **decoder change**: pixel L2 between consecutive decodes. A spike is a jump from one kind of
  item to another; a flat line a smooth morph.
"""


@st.cache_resource(max_entries=8, show_spinner="Joining each code to its nearest codes…")
def code_graph(path: str, mtime: float, display: str, k: int) -> CodeGraph:
    return CodeGraph(resources.view(path, mtime, display).z, k)


@st.cache_data(max_entries=32, show_spinner=False)
def profiles_of(path: str, mtime: float, display: str, k: int, a: int, b: int,
                steps: int) -> dict[str, PathProfile]:
    return path_profiles(resources.model(path, mtime).model, code_graph(path, mtime, display, k), a, b, steps)


def default_b(labels: np.ndarray | None, a: int, n: int) -> int:
    """The first item of another class than A's (an interpolation worth looking at), else A + 1."""
    if labels is not None:
        others = np.flatnonzero(labels != labels[a])
        if len(others):
            return int(others[0])
    return (a + 1) % n


@guarded
def interpolation_page() -> None:
    st.title("Interpolation lab")
    opened = open_model()
    if opened is None:
        return
    with st.expander("What the three paths and the three numbers show", expanded=False):
        st.markdown(EXPLANATION)
    view = opened.view
    n = len(view.z)
    controls = st.columns(4)
    a = int(controls[0].number_input("from item A", 0, n - 1, query_value("a", int, 0, lo=0, hi=n - 1),
                                     key="il_a"))
    b = int(controls[1].number_input("to item B", 0, n - 1,
                                     query_value("b", int, default_b(view.labels, a, n), lo=0, hi=n - 1),
                                     key="il_b"))
    steps = controls[2].slider("steps", 4, 32, query_value("steps", int, 12, lo=4, hi=32), key="il_steps")
    k = controls[3].slider("neighbours per code (k)", 3, 30, query_value("k", int, 10, lo=3, hi=30),
                           key="il_k", help="The graph the data-following path walks on joins each code "
                                            "to its k nearest codes: a small k keeps the path close to "
                                            "the codes, a large one allows longer hops.")
    share_state(a=a, b=b, steps=steps, k=k)
    profiles = profiles_of(*opened.key, k, a, b, steps)
    left, right = st.columns(2, gap="medium")
    with left:
        path_map(opened, profiles, a, b)
    with right:
        for kind, profile in profiles.items():
            hops = f", through {len(profile.hops)} codes" if len(profile.hops) else ""
            show_strip(view.data, profile.frames, f"{LABELS[kind]}{hops}: A → B", key=f"il_strip_{kind}")
    measures(profiles)


def path_map(opened: OpenModel, profiles: dict[str, PathProfile], a: int, b: int) -> None:
    view = opened.view
    cfg = resources.overview_map(opened.ckpt.config.latent_dim)
    proj = resources.projection(*opened.key, cfg)
    fig = plots.latent_scatter(proj.embedding, labels=view.labels, label_names=view.data.class_names,
                               selected=[a, b], axis_name=cfg.method, height=460)
    for kind, profile in profiles.items():
        fig = overlays.add_path(fig, proj.projector.transform(profile.codes), name=LABELS[kind],
                             color=COLORS[kind])
    st.plotly_chart(fig, key="il_map", width="stretch")
    if cfg.method != "raw":
        dim = opened.ckpt.config.latent_dim
        st.caption(f"The paths are drawn on the {cfg.method.upper()} map of {dim}-D codes: a path that looks "
                   "short here may be long in the code space, and the reverse.")


def measures(profiles: dict[str, PathProfile]) -> None:
    st.subheader("Along the paths")
    series = {
        "log_prior": ("log N(z; 0, I) (nats)", "prior log-density", 0),
        "nearest_code": ("distance to the nearest code", "distance to the data", 0),
        "decoder_change": ("pixel L2 to the previous decode", "decoder change", 1),
    }
    for col, (field, (y_title, title, first)) in zip(st.columns(3), series.items()):
        values = {LABELS[kind]: getattr(p, field) for kind, p in profiles.items()}
        col.plotly_chart(charts.along_path(values, y_title, title, first_step=first,
                                           colors={LABELS[k]: c for k, c in COLORS.items()},
                                           from_zero=field != "log_prior"),
                         key=f"il_{field}", width="stretch")
    summaries = {LABELS[kind]: p.summary() for kind, p in profiles.items()}
    names = list(next(iter(summaries.values())))
    st.table({"measure": [n.replace("_", " ") for n in names],
              **{label: [f"{s[n]:.3g}" for n in names] for label, s in summaries.items()}})
    st.caption("length: in code space; jump: the largest decoder change over the mean, 1 for an even "
               "morph; hops: codes the data-following path passes through.")
