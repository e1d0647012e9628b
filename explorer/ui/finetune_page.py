"""Pretraining then fine-tuning: with only a few labels per class, does the autoencoder's
encoder help a classifier?"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
import torch

from explorer.apps.finetune import METHODS, FinetuneConfig, LabelEfficiencyRow, label_efficiency
from explorer.figures import charts
from explorer.training.jobs import Report
from explorer.ui import job_panel
from explorer.ui.model_picker import open_model
from explorer.ui.widgets import guarded

METHOD_NAMES = {"frozen": "frozen encoder + head", "finetuned": "fine-tuned encoder + head",
                "scratch": "same network from scratch"}
SIZES = (10, 30, 100, 300, 1000)


@guarded
def finetune_page() -> None:
    st.title("Pretraining, then fine-tuning")
    st.markdown(
        "Labels are expensive, unlabelled data cheap. The autoencoder learned its encoder from "
        "images alone; here a small classifier (one hidden layer) learns from only *N labels per "
        "class*, on top of the **frozen** encoder, with the encoder **fine-tuned**, and with the "
        "same network trained **from scratch**. Where the pretrained curves sit above the "
        "scratch curve, the code has learned something about the classes without any labels."
    )
    opened = open_model()
    if opened is None:
        return
    data = opened.view.data
    if not opened.ckpt.model.trainable:
        st.info(f"{opened.entry.path.name} was imported as ONNX and runs without gradients, so its "
                "encoder cannot be fine-tuned here; pick a model trained in Latent Explorer.")
        return
    if data.y_train is None:
        st.info("This model's data has no labels; pick a model of labelled data.")
        return
    smallest_class = int(torch.bincount(data.y_train).min())
    sizes = [n for n in SIZES if n <= smallest_class]
    chosen = st.multiselect("labels per class", sizes, default=sizes[:3], key="ft_sizes",
                            help=f"The smallest class has {smallest_class:,} training items.")
    cfg = FinetuneConfig(seed=int(st.columns(4)[0].number_input("seed", 0, 10_000, 0, key="ft_seed")))
    st.caption(f"Labels drawn from the {len(data.x_train):,} training items of {data.name}, accuracy on "
               f"its {len(data.x_test):,} test items. Each classifier trains for at least "
               f"{cfg.min_steps} steps.")
    key = ("finetune", *opened.key, tuple(sorted(chosen)), cfg)
    if st.button("Train the classifiers", type="primary", disabled=not chosen or job_panel.running("ft_job"),
                 key="ft_run"):
        model = opened.ckpt.model

        def work(report: Report, should_stop: Callable[[], bool]) -> list[LabelEfficiencyRow]:
            return label_efficiency(model, data, chosen, cfg, should_stop=should_stop,
                                    on_progress=lambda done, total, msg: report(done / total, msg))

        job_panel.start("ft_job", key, work)
    rows = job_panel.result("ft_job", key, stop_label="Stop (after the classifier in training)")
    if rows is None:
        if not job_panel.started_for("ft_job", key):
            st.info(f"{len(chosen) * len(METHODS)} small classifiers to train; press the button.")
        return
    show(rows)


def show(rows: list[LabelEfficiencyRow]) -> None:
    st.plotly_chart(charts.accuracy_vs_labels([(r.labels_per_class, METHOD_NAMES[r.method], r.accuracy)
                                               for r in rows]), key="ft_curve", width="stretch")
    st.dataframe(
        {"labels per class": [r.labels_per_class for r in rows],
         "method": [METHOD_NAMES[r.method] for r in rows],
         "test accuracy": [f"{r.accuracy:.1%}" for r in rows],
         "steps": [r.steps for r in rows],
         "seconds": [round(r.seconds, 1) for r in rows]},
        hide_index=True, width="stretch")
