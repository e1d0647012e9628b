"""The Anomalies page shows the published numbers beside ours (through AppTest)."""

from __future__ import annotations

from dataclasses import replace

from app_support import no_errors, page

from explorer.apps import anomaly as an
from explorer.config import DataConfig
from explorer.data import load_dataset
from explorer.training.jobs import BackgroundJob

ANOMALY = "from explorer.ui.anomaly_page import anomaly_page\nanomaly_page()\n"


def test_anomaly_page_shows_the_published_aurocs_for_one_mnist_class(env):
    at = page(ANOMALY)
    at.selectbox(key="an_data").set_value("digits").run()
    at.multiselect(key="an_normal").set_value(["3"]).run()
    at.selectbox(key="an_model").set_value("ae").run()
    at.number_input(key="an_latent").set_value(8).run()
    # Inject the finished work the button would start (for the page's own settings), scored by
    # an untrained model and relabelled as full MNIST: the published numbers depend only on that.
    data_cfg = DataConfig("digits")
    cfg = an.recipe(model="ae", latent_dim=8, score="reconstruction")
    split = an.one_class_split(load_dataset(data_cfg), ["3"])
    model = an.build_one_class_model(split, cfg)
    result = replace(an.score_one_class(model, split), data_name="mnist")
    job = BackgroundJob(lambda report, should_stop: (model, result), name="an_job").start()
    job.join(timeout=60)
    at.session_state["an_job"] = (("anomaly", data_cfg, ("3",), cfg), job)
    at.run()
    no_errors(at)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Deep SVDD (Ruff et al. 2018)"] == "91.9%"
    assert shown["deep conv AE (same paper)"] == "86.7%"
