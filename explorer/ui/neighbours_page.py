"""Neighbours and clusters: who sits next to whom in latent space, and how well the codes
classify and cluster."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from explorer.apps.metrics import projection_trustworthiness
from explorer.apps.neighbours import NeighbourReport, check_labelled, nearest, neighbour_report
from explorer.figures import charts, overlays, plots
from explorer.latent import encode_all
from explorer.projection import ProjectionConfig
from explorer.training.jobs import Report, stopping_report
from explorer.ui import job_panel, resources
from explorer.ui.model_picker import OpenModel, open_model
from explorer.ui.widgets import guarded, point_index, query_value, selected_points, share_state, show_items


def report_work(opened: OpenModel, k: int) -> Callable[[Report, Callable[[], bool]], NeighbourReport]:
    """The page's classifying and clustering, as work for ``resources.shared_work`` (the model
    and data are read here, in the page's thread)."""
    model, view = opened.ckpt.model, opened.view
    data = view.data
    y_train = None if data.y_train is None else data.y_train.numpy()

    def work(report: Report, should_stop: Callable[[], bool]) -> NeighbourReport:
        report(0.0, f"encoding the {len(data.x_train):,} training items")
        train_codes = encode_all(model, data.x_train).numpy()
        return neighbour_report(train_codes, y_train, view.z, view.labels, k, x_train=data.x_train.numpy(),
                                x_test=data.x_test.numpy(), progress=stopping_report(report, should_stop))

    return work


@st.cache_data(max_entries=8, show_spinner=False)
def trust(path: str, mtime: float, display: str, cfg: ProjectionConfig) -> float:
    return projection_trustworthiness(resources.view(path, mtime, display).z,
                                      resources.projection(path, mtime, display, cfg).embedding, k=5)


@guarded
def neighbours_page() -> None:
    st.title("Neighbours and clusters")
    opened = open_model(needs_decoder=False)
    if opened is None:
        return
    k = st.sidebar.slider("k (neighbours)", 1, 50, query_value("k", int, 5, lo=1, hi=50), key="nb_k")
    share_state(k=k)
    view = opened.view
    check_labelled(None if view.data.y_train is None else view.data.y_train.numpy(), view.labels, k)
    result = job_panel.shared_result(resources.shared_work(), ("neighbours", *opened.key, k),
                                     report_work(opened, k), "classifying and clustering the codes",
                                     "Stop classifying")
    if result is None:
        return
    names = [view.data.label_name(c) for c in range(len(result.confusion))]
    cfg = resources.overview_map(opened.ckpt.config.latent_dim)
    top, bottom = st.columns(4), st.columns(4)
    top[0].metric(f"{k}-NN accuracy, codes", f"{result.knn_accuracy:.1%}")
    top[1].metric("raw inputs", f"{result.knn_accuracy_raw:.1%}")
    top[2].metric(f"PCA-{view.z.shape[1]}", f"{result.knn_accuracy_pca:.1%}")
    top[3].metric(f"{cfg.method.upper()} map trust (k=5)", f"{trust(*opened.key, cfg):.3f}")
    for col, (name, key) in zip(bottom, (("k-means ARI", "ari"), ("k-means NMI", "nmi"),
                                         ("GMM ARI", "gmm_ari"), ("GMM NMI", "gmm_nmi"))):
        col.metric(name, f"{result.clustering[key]:.2f}")
    st.caption(
        f"A {k}-nearest-neighbour classifier fit on the codes of {len(view.data.x_train):,} training "
        f"items, tested on {len(view.z):,} test items, against the same classifier on the raw inputs "
        "and on PCA of the same size. ARI/NMI: agreement of k-means and Gaussian-mixture clusters "
        "(one per class) with the labels, 1 is perfect. Trust: are the map's neighbours also "
        "neighbours in the codes (1 is perfect)?"
    )
    left, right = st.columns([1, 1], gap="medium")  # the 10×10 counts need half the page
    with left:
        neighbour_map(opened, cfg, k)
    with right:
        st.plotly_chart(charts.confusion_heatmap(result.confusion, names, f"{k}-NN on the codes"),
                        key="nb_confusion", width="stretch")


def neighbour_map(opened: OpenModel, cfg: ProjectionConfig, k: int) -> None:
    view = opened.view
    emb = resources.projection(*opened.key, cfg).embedding
    item = query_value("item", int, 0)
    clicked = [i for i in map(point_index, selected_points(st.session_state.get("nb_map"))) if i is not None]
    if clicked:
        item = clicked[-1]
    item = min(max(item, 0), len(view.z) - 1)
    share_state(item=item)
    order, distance = nearest(view.z, item, k)
    fig = plots.latent_scatter(emb, labels=view.labels, label_names=view.data.class_names,
                               selected=[item], axis_name=cfg.method)
    fig = overlays.add_points(fig, emb[order], name=f"{k} nearest in latent space", symbol="circle-open",
                           color="#d62728", size=11, line_width=2)
    st.plotly_chart(fig, on_select="rerun", selection_mode=("points",), key="nb_map", width="stretch")
    st.caption("Click a point: its nearest neighbours *in latent space* (not on this map) are "
               "ringed in red and shown below, nearest first.")
    labels = view.labels
    caption = (lambda i: f"#{i}") if labels is None else (
        lambda i: f"#{i} · {view.data.label_name(int(labels[i]))}")
    show_items(view.data, view.x[[item]].numpy(), [f"picked {caption(item)}"], key="nb_item", columns=4)
    shown = order[:12]
    show_items(view.data, view.x[shown].numpy(),
               [f"{caption(i)}, d {d:.2f}" for i, d in zip(shown, distance)], key="nb_neighbours",
               columns=4)
    if len(order) > len(shown):
        st.caption(f"Showing the nearest {len(shown)} of {len(order)}.")
    if labels is not None:
        agree = float(np.mean(labels[order] == labels[item]))
        st.caption(f"{agree:.0%} of the {len(order)} neighbours share the picked item's label.")
