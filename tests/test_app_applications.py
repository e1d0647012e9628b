"""The application pages (neighbours, denoising, arithmetic) through AppTest."""

from __future__ import annotations

import threading

from app_support import captions, figure, n_points, no_errors, page, settled
from streamlit.testing.v1 import AppTest

NEIGHBOURS = "from explorer.ui.neighbours_page import neighbours_page\nneighbours_page()\n"
DENOISE = "from explorer.ui.denoise_page import denoise_page\ndenoise_page()\n"
ARITHMETIC = "from explorer.ui.arithmetic_page import arithmetic_page\narithmetic_page()\n"


def test_neighbours_page_scores_the_codes_and_rings_the_neighbours(env):
    at = page(NEIGHBOURS, model="digits-vae-5d", k="7", item="12")
    no_errors(at)
    labels = [m.label for m in at.metric]
    assert "7-NN accuracy, codes" in labels and "raw inputs" in labels
    accuracy = float(at.metric[0].value.rstrip("%")) / 100
    assert 0.1 < accuracy <= 1.0
    ringed = [t for t in figure(at).data if t.name == "7 nearest in latent space"]
    assert len(ringed) == 1 and n_points(ringed[0]) == 7
    assert any(c.startswith("picked #12") for c in captions(at))
    assert sum(", d " in c for c in captions(at)) == 7
    confusion = figure(at, 1).data[0]
    assert confusion.type == "heatmap" and confusion.z["shape"] == "10, 10"


def test_neighbours_page_explains_k_larger_than_the_data(env):
    at = page(NEIGHBOURS, model="digits-vae-2d")
    settled(at.sidebar.slider(key="nb_k").set_value(50).run())
    no_errors(at)  # 50 < 1,437 training items: fine
    assert at.metric[0].label == "50-NN accuracy, codes"


def held_neighbours_page(monkeypatch) -> tuple[AppTest, threading.Event]:
    """The Neighbours page with its work held at its first progress report until the gate
    is set, so a test can act while it runs."""
    from explorer.ui import neighbours_page, resources

    resources.shared_work.clear()
    gate, report = threading.Event(), neighbours_page.neighbour_report

    def gated(*args, progress, **kwargs):
        return report(*args, progress=lambda f, text: (gate.wait(60), progress(f, text)), **kwargs)

    monkeypatch.setattr(neighbours_page, "neighbour_report", gated)
    at = AppTest.from_string(NEIGHBOURS, default_timeout=120)
    at.query_params["model"] = "digits-vae-2d"
    return at.run(), gate


def test_neighbours_work_runs_in_the_background_and_can_be_stopped_and_run_again(env, monkeypatch):
    from explorer.ui import resources

    at, gate = held_neighbours_page(monkeypatch)
    no_errors(at)
    assert not at.metric  # the page is drawn, its numbers not yet
    [job] = resources.shared_work().running()
    next(b for b in at.button if b.label == "Stop classifying").click().run()
    gate.set()
    job.join(60)
    assert job.snapshot().state == "stopped"
    at.run()
    assert any("You stopped classifying" in note.value for note in at.info) and not at.metric
    settled(next(b for b in at.button if b.label.startswith("Run classifying")).click().run())
    no_errors(at)
    assert at.metric[0].label == "5-NN accuracy, codes"


def test_new_settings_stop_the_work_this_session_started_for_the_old_ones(env, monkeypatch):
    from explorer.ui import resources

    at, gate = held_neighbours_page(monkeypatch)
    [for_five] = resources.shared_work().running()
    at.sidebar.slider(key="nb_k").set_value(7).run()
    gate.set()
    for_five.join(60)
    assert for_five.snapshot().state == "stopped"
    settled(at)
    no_errors(at)
    assert at.metric[0].label == "7-NN accuracy, codes"


def test_denoise_page_compares_with_filters(env):
    at = page(DENOISE, model="digits-denoising-ae", noise="salt_pepper", level="0.2")
    no_errors(at)
    bars = figure(at).data[0]
    assert list(bars.y)[:2] == ["noisy input", "autoencoder"]
    assert any(name.startswith("median") for name in bars.y)
    assert any("trained on Gaussian noise" in c.value for c in at.caption)
    assert {"original", "masked", "filled by the model"} <= set(captions(at))
    at.slider(key="ip_side").set_value(8).run()  # the whole 8x8 image
    no_errors(at)
    assert "top: 0 (the square spans the image)" in [c.value for c in at.caption]


def test_denoise_page_needs_images(env, tmp_path, monkeypatch):
    from explorer.cli import main as cli

    runs = tmp_path / "runs"
    assert cli(["train", "--data", "wine", "--model", "ae", "--latent-dim", "2", "--epochs", "1",
                "--out", str(runs / "wine-ae"), "--quiet"]) == 0
    monkeypatch.setenv("LATENT_EXPLORER_RUNS", str(runs))
    at = page(DENOISE, model="wine-ae")
    assert not at.exception and not at.error
    assert "works on images" in at.info[0].value


def test_arithmetic_page_decodes_the_analogy(env):
    at = page(ARITHMETIC, model="digits-vae-2d")
    no_errors(at)
    shown = captions(at)
    assert "A − B + C" in shown and any(c.startswith("mean A (1)") for c in shown)
    assert "mean of 0" in shown
    assert any("calls the result" in c.value for c in at.caption)
    at.selectbox(key="ar_A").set_value("class 1").run()
    no_errors(at)
    assert any("moved by mean(C) - mean(B)" in c for c in captions(at))


def test_arithmetic_page_explains_an_empty_map_selection(env):
    at = page(ARITHMETIC, model="digits-vae-2d")
    at.selectbox(key="ar_B").set_value("selected on the map").run()
    assert not at.exception
    assert "Group B is empty" in at.error[0].value


FINETUNE = "from explorer.ui.finetune_page import finetune_page\nfinetune_page()\n"


def test_few_labels_page_trains_three_classifiers_per_size(env):
    at = page(FINETUNE, model="digits-vae-5d")
    no_errors(at)
    sizes = at.multiselect(key="ft_sizes")
    assert sizes.options == ["10", "30", "100"]  # digits' smallest training class has < 300 items
    sizes.set_value([10]).run()
    at.button(key="ft_run").click().run()
    no_errors(at)
    finish(at, "ft_job")
    table = at.dataframe[0].value
    assert len(table) == 3 and set(table["labels per class"]) == {10}
    assert all(0.0 < float(v.rstrip("%")) <= 100.0 for v in table["test accuracy"])
    assert {t.name for t in figure(at).data} == {"frozen encoder + head", "fine-tuned encoder + head",
                                                 "same network from scratch"}


def finish(at, state_key: str) -> None:
    """Wait for the page's background work, then redraw the page with its result (AppTest
    does not run the live progress fragment's timer)."""
    assert at.button(key=f"{state_key}_stop")  # the work runs, with a Stop button beside it
    at.session_state[state_key][1].join(timeout=300)
    at.run()
    no_errors(at)


ANOMALY = "from explorer.ui.anomaly_page import anomaly_page\nanomaly_page()\n"


def test_anomaly_page_trains_on_the_normal_class_and_scores(env):
    at = page(ANOMALY)
    no_errors(at)
    at.selectbox(key="an_data").set_value("digits").run()
    at.multiselect(key="an_normal").set_value(["3"]).run()
    at.selectbox(key="an_model").set_value("ae").run()
    at.number_input(key="an_latent").set_value(8).run()
    at.button(key="an_run").click().run()
    no_errors(at)
    finish(at, "an_job")
    ours, pca = at.metric[0], at.metric[1]
    assert float(ours.value.rstrip("%")) > 70 and pca.label.startswith("AUROC, PCA-8")
    hist, roc = figure(at, 0), figure(at, 1)
    assert {t.type for t in hist.data} == {"histogram"}
    assert any(t.name.startswith("autoencoder (AUROC") for t in roc.data)
    before = [c.value for c in at.caption if c.value.startswith("Flagged")]
    slider = at.slider(key="an_threshold")
    slider.set_value(slider.max).run()
    after = [c.value for c in at.caption if c.value.startswith("Flagged")]
    assert before != after
    assert any("most anomalous" in c for c in captions(at))


def test_anomaly_page_explains_a_single_class(env):
    at = page(ANOMALY)
    at.selectbox(key="an_data").set_value("digits").run()
    at.multiselect(key="an_normal").set_value([str(c) for c in range(10)]).run()
    assert not at.exception
    assert "anomal" in at.error[0].value
