"""Anomaly detection: train on the normal class only, score everything, see what stands out."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st
import torch

from explorer.apps.anomaly import (
    OneClassConfig,
    OneClassResult,
    OneClassSplit,
    describe,
    most_anomalous,
    one_class_split,
    recipe,
    resolve_epochs,
    score_one_class,
    train_one_class,
)
from explorer.apps.anomaly_reference import reference_auroc
from explorer.apps.detection import at_threshold, roc_curve, threshold_for_fpr
from explorer.figures import charts
from explorer.latent import decode, encode_all
from explorer.models import MODELS, Autoencoder
from explorer.training.jobs import Report
from explorer.ui import job_panel
from explorer.ui.train_page import data_controls
from explorer.ui.widgets import guarded, show_strip

EXPLANATION = """
An autoencoder trained only on **normal** items learns to reconstruct those well and
everything else badly, so the reconstruction error (or, for a VAE, the negative ELBO) is an
anomaly score. Pick the normal class(es); the model trains on their training items and
scores the whole test split. The same protocol with PCA of the same size is the baseline.
"""


@guarded
def anomaly_page() -> None:
    st.title("Anomaly detection")
    st.markdown(EXPLANATION)
    picked = data_controls(prefix="an", default="mnist_sample")
    if picked is None:
        return
    data, data_cfg = picked
    if data.y_train is None:
        st.info("Anomaly detection here needs labelled data: the labels say which items are normal.")
        return
    names = [data.label_name(c) for c in range(data.n_classes)]
    cols = st.columns([2, 1, 1, 1])
    normal = cols[0].multiselect("normal class(es)", names, default=names[:1], key="an_normal")
    families = [n for n, spec in MODELS.items() if spec.fits(data.kind) and spec.trainer is None]
    family = cols[1].selectbox("model", families, index=families.index("vae"), key="an_model")
    latent = int(cols[2].number_input("code size", 2, 256, 30 if family == "vae" else 16, key="an_latent"))
    scores = ["reconstruction", "neg_elbo"] if MODELS[family].variational else ["reconstruction"]
    score = cols[3].selectbox("score", scores, key="an_score",
                              format_func={"reconstruction": "reconstruction error",
                                           "neg_elbo": "negative ELBO"}.get)
    cfg = recipe(model=family, latent_dim=latent, score=score)
    split = one_class_split(data, normal)
    st.caption(f"{describe(cfg)}. Trains on {len(split.train.x_train):,} normal training items; scores "
               f"{split.n_normal_test:,} normal and {split.n_anomalous_test:,} anomalous test items.")
    key = ("anomaly", data_cfg, tuple(normal), cfg)
    if st.button("Train on the normal class and score", type="primary", key="an_run",
                 disabled=job_panel.running("an_job")):
        job_panel.start("an_job", key, lambda report, should_stop: train_and_score(split, cfg, report,
                                                                                   should_stop))
    done = job_panel.result("an_job", key, stop_label="Stop training")
    if done is None:
        if not job_panel.started_for("an_job", key):
            st.info("Press the button to train (about a minute on the MNIST sample on a laptop CPU).")
        return
    model, result = done
    show(data, split.x_test, model, result)


def train_and_score(split: OneClassSplit, cfg: OneClassConfig, report: Report,
                    should_stop: Callable[[], bool]) -> tuple[Autoencoder, OneClassResult] | None:
    """Train on the normal items, then score the test split; None when stopped in training."""
    epochs = resolve_epochs(cfg, len(split.train.x_train)).epochs

    def progress(info) -> None:
        loss = info.losses.get("total", float("nan"))
        report((info.epoch - 1 + info.progress) / epochs, f"epoch {info.epoch} of {epochs}: loss {loss:.2f}")

    model, history = train_one_class(split, cfg, on_step=progress, should_stop=should_stop)
    if should_stop():
        return None
    report(1.0, "scoring the test split…")
    return model, score_one_class(model, split, cfg.score, cfg.n_samples, cfg.seed, history.epochs_run,
                                  history.seconds)


def show(data, x_test: torch.Tensor, model, result: OneClassResult) -> None:
    reference = reference_auroc(result.data_name, result.normal)
    cols = st.columns(4)
    cols[0].metric("AUROC, autoencoder", f"{result.auroc:.1%}",
                   f"{100 * (result.auroc - result.pca_auroc):+.1f} points vs PCA")
    cols[1].metric(f"AUROC, PCA-{result.pca_components}", f"{result.pca_auroc:.1%}")
    if reference.deep_svdd is not None:
        cols[2].metric("Deep SVDD (Ruff et al. 2018)", f"{reference.deep_svdd:.1%}")
    if reference.dcae is not None:
        cols[3].metric("deep conv AE (same paper)", f"{reference.dcae:.1%}")
    default = float(threshold_for_fpr(result.scores, result.is_anomaly, 0.05))
    lo, hi = (float(v) for v in np.quantile(result.scores, [0.0, 0.995]))
    threshold = st.slider("threshold: items scoring above it are flagged", lo, hi,
                          min(max(default, lo), hi), (hi - lo) / 500 or 1.0, format="%.3g",
                          key="an_threshold")
    report = at_threshold(result.scores, result.is_anomaly, threshold)
    flagged = report.true_positives + report.false_positives
    st.caption(f"Flagged {flagged:,} items: precision **{report.precision:.1%}**, recall "
               f"**{report.recall:.1%}**, F1 {report.f1:.2f}, false-positive rate "
               f"{report.false_positive_rate:.1%}. The slider starts at a 5 % false-positive rate.")
    left, right = st.columns(2)
    score_name = {"reconstruction": "reconstruction error (SSE)", "neg_elbo": "negative ELBO"}[result.score]
    normal, anomalous = result.scores[~result.is_anomaly], result.scores[result.is_anomaly]
    left.plotly_chart(charts.score_histograms(normal, anomalous, threshold, score_name), key="an_hist",
                      width="stretch")
    curves = {"autoencoder": roc(result.scores, result.is_anomaly),
              f"PCA-{result.pca_components}": roc(result.pca_scores, result.is_anomaly)}
    right.plotly_chart(charts.roc_curve(curves, (report.false_positive_rate, report.recall)),
                       key="an_roc", width="stretch")
    worst = most_anomalous(result, 12)
    shown = x_test[worst]
    recon = decode(model, encode_all(model, shown)).numpy()
    show_strip(data, np.concatenate([shown.numpy(), recon]),
               "the 12 most anomalous test items (top, labels: "
               + ", ".join(data.label_name(int(result.y_test[i])) for i in worst)
               + ") and their reconstructions (bottom)", key="an_worst", ncols=len(worst))


def roc(scores: np.ndarray, is_anomaly: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    curve = roc_curve(scores, is_anomaly)
    return curve.false_positive_rate, curve.true_positive_rate, curve.auroc
