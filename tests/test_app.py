"""Every page and widget path of the app through Streamlit's AppTest (no browser)."""

from __future__ import annotations

import base64
import threading
import time
from itertools import zip_longest
from pathlib import Path

import numpy as np
import pytest
from app_support import captions, figure, goto, n_points, no_errors, page, trace_names
from streamlit.testing.v1 import AppTest

from explorer.data.sample import PRETRAINED_DIR
from explorer.store.catalog import list_models

APP = str(Path(__file__).resolve().parents[1] / "app.py")


EXPLORE = "from explorer.ui.explore import explore_page\nexplore_page()\n"
COMPARE = "from explorer.ui.compare import compare_page\ncompare_page()\n"
TRAIN = "from explorer.ui.train_page import train_page\ntrain_page()\n"


def test_app_entry_point_opens(env):
    at = AppTest.from_file(APP, default_timeout=120).run()
    no_errors(at)
    assert at.get("plotly_chart")


def test_the_chosen_model_follows_the_user_across_pages(env):
    at = goto(AppTest.from_file(APP, default_timeout=120).run(), "denoise")
    assert at.sidebar.selectbox(key="pick_model").value == "mnist-denoising-ae"  # nothing chosen yet
    goto(at, "")
    at.sidebar.selectbox(key="pick_model").set_value("digits-ae-2d").run()
    for url_path in ("neighbours", "arithmetic", "denoise", ""):
        goto(at, url_path)
        no_errors(at)
        assert at.sidebar.selectbox(key="pick_model").value == "digits-ae-2d", url_path
        assert at.query_params["model"] in ("digits-ae-2d", ["digits-ae-2d"]), url_path


def test_explore_opens_on_the_model_in_the_url(env):
    at = page(EXPLORE, model="digits-vae-2d")
    no_errors(at)
    assert at.title[0].value == "digits-vae-2d"
    assert at.selectbox(key="method").value == "raw"
    assert "VAE" in at.caption[0].value
    assert at.query_params["model"] == ["digits-vae-2d"] or at.query_params["model"] == "digits-vae-2d"


SHIPPED = sorted(p.name for p in PRETRAINED_DIR.iterdir() if (p / "config.json").exists())


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_model_opens_on_its_precomputed_maps(env, name):
    at = page(EXPLORE, model=name, method="umap" if name.startswith("mnist") else "pca")
    no_errors(at)
    assert at.title[0].value == name
    assert not any("Computing" in i.value for i in at.info)  # the map came from the shipped cache
    assert figure(at).data


@pytest.mark.parametrize("method", ["pca", "tsne", "umap"])
def test_every_projection_draws_a_map(env, method):
    at = page(EXPLORE, model="digits-vae-5d", method=method)
    no_errors(at)
    assert at.selectbox(key="method").value == method
    deadline = time.time() + 240
    while any("in the background" in i.value for i in at.info) and time.time() < deadline:
        time.sleep(1.0)  # slow maps compute on a background thread; the page shows PCA meanwhile
        at.run()
    assert figure(at).layout.xaxis.title.text == f"{method} 1"
    shown = [n_points(t) for t in figure(at).data if t.name not in ("probe", "selected")]
    assert sum(shown) >= 360


def test_three_dimensional_map(env):
    at = page(EXPLORE, model="digits-vae-5d", method="pca", dims="3")
    no_errors(at)
    assert any(t.type == "scatter3d" for t in figure(at).data)


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_a_2d_code_is_offered_no_3d_map(env, method):
    at = page(EXPLORE, model="digits-vae-2d", method=method, dims="3")
    no_errors(at)
    dims = at.sidebar.radio[0]
    assert dims.label == "Map dimensions" and dims.options == ["2"]
    assert all(t.type != "scatter3d" for t in figure(at).data)


def test_a_3d_click_leaves_the_3d_figure_as_it_was(env):
    at = page(EXPLORE, model="digits-vae-5d", method="pca", dims="3")
    before = figure(at).to_json()
    at.session_state["item"] = 7  # what a click on a 3-D point sets
    at.run()
    no_errors(at)
    assert figure(at).to_json() == before  # no new WebGL scene to draw: the click is quick
    assert captions(at)[0].startswith("#7 ")


def test_sphere_model_offers_the_hammer_map_and_its_own_prior(env):
    at = page(EXPLORE, model="digits-svae-3d", method="hammer", a="0", b="1")
    no_errors(at)
    assert at.sidebar.selectbox(key="method").value == "hammer"
    data = [t for t in figure(at).data if t.name not in ("selected", "probe")]
    assert data and all(t.type == "scattergl" for t in data)  # 2-D: click to decode works
    assert at.sidebar.slider(key="temp").proto.disabled
    assert any("uniform on the sphere" in m.value for m in at.sidebar.markdown)
    assert any("uniform on the sphere" in c for c in captions(at))
    assert at.radio(key="interp_method").value == "spherical"
    at = page(EXPLORE, model="digits-vae-5d", method="hammer")
    assert at.sidebar.selectbox(key="method").value == "pca"  # no sphere, no Hammer map


def test_colour_by_reconstruction_error_and_dimension(env):
    at = page(EXPLORE, model="digits-ae-2d")
    for option in ("reconstruction error", "latent dim 2"):
        at.selectbox(key="color").set_value(option).run()
        no_errors(at)
        assert any(t.marker.colorbar.title.text for t in figure(at).data if t.marker.colorbar)


def test_clicked_point_shows_item_and_reconstruction(env, digits):
    at = page(EXPLORE, model="digits-vae-2d")
    at.session_state["item"] = 5
    at.run()
    no_errors(at)
    shown = captions(at)
    assert shown[0] == f"#5 · {int(digits.y_test[5])}"
    assert any(c.startswith("reconstruction (SSE") for c in shown)


def test_click_on_empty_space_decodes_with_trust(env):
    at = page(EXPLORE, model="digits-vae-2d")
    at.session_state["probe"] = (40.0, -40.0)
    at.run()
    no_errors(at)
    text = " ".join(m.value for m in at.markdown)
    assert "Trust: poor" in text and "outside" in text


def test_interpolation_slider_decodes(env):
    at = page(EXPLORE, model="digits-vae-2d", a="3", b="7", t="0.25")
    no_errors(at)
    assert at.slider(key="t").value == 0.25
    at.slider(key="t").set_value(0.75).run()
    no_errors(at)
    assert at.query_params["t"] in ("0.75", ["0.75"])
    at.radio(key="interp_method").set_value("spherical").run()
    no_errors(at)
    assert "interpolation" in trace_names(at)


def test_a_share_link_reproduces_the_whole_view(env):
    at = page(EXPLORE, model="digits-vae-2d", a="3", b="7")
    at.radio(key="interp_method").set_value("spherical").run()
    at.checkbox(key="show_prior").check().run()
    at.selectbox(key="color").set_value("reconstruction error").run()
    at.session_state["probe"] = (0.02, -0.01)  # inside the map (a 3-epoch VAE is small)
    at.run()
    no_errors(at)
    link = {k: at.query_params[k] for k in at.query_params}
    link = {k: v[0] if isinstance(v, list) else v for k, v in link.items()}
    assert {"path", "show", "color", "probe"} <= set(link)
    other = page(EXPLORE, **link)  # another person's fresh session
    no_errors(other)
    assert other.radio(key="interp_method").value == "spherical"
    assert other.checkbox(key="show_prior").value
    assert other.selectbox(key="color").value == "reconstruction error"
    assert other.session_state["probe"] == pytest.approx((0.02, -0.01))
    assert "decoded here" in trace_names(other)
    assert "Trust:" in " ".join(m.value for m in other.markdown)


def test_hand_edited_links_are_clamped_to_the_widgets_ranges(env):
    at = page(EXPLORE, model="digits-vae-2d", a="3", b="7", seed="-1", n="100000", t="5", temp="nan",
              probe="1e30,-1e30", color="nonsense", pseed="-4")
    no_errors(at)
    assert at.number_input(key="seed").value == 0
    assert at.slider(key="n_prior").value == 400
    assert at.slider(key="t").value == 1.0
    assert at.slider(key="temp").value == 1.0
    probe = at.session_state["probe"]
    assert all(abs(v) < 1e3 for v in probe)  # pulled back onto the map's decodable area
    denoise = page("from explorer.ui.denoise_page import denoise_page\ndenoise_page()\n",
                   model="digits-denoising-ae", level="7", item="99999", noise="fire")
    no_errors(denoise)
    assert denoise.slider(key="dn_level").value == 0.9
    assert denoise.number_input(key="ip_item").value == 359


def test_prior_overlays(env):
    at = page(EXPLORE, model="digits-vae-2d")
    for key in ("show_prior", "density", "ellipses"):
        at.checkbox(key=key).check().run()
        no_errors(at)
    assert {"prior samples", "prior density", "data density", "posterior spread"} <= trace_names(at)


def test_plain_ae_warns_about_prior_holes(env):
    at = page(EXPLORE, model="digits-ae-2d")
    assert any("not trained to follow N(0, I)" in w.value for w in at.warning)


def test_latent_sliders_and_traversal(env):
    at = page(EXPLORE, model="digits-vae-5d", method="pca")
    at.session_state["item"] = 2
    at.run()
    # The first slider (of the dimension the VAE uses most) is the first value in the link.
    slider = next(s for s in at.slider if s.key.startswith("z") and s.key.endswith("_2"))
    moved = round(slider.value + 0.5 * (slider.max - slider.value), 3)
    slider.set_value(moved).run()
    no_errors(at)
    shared = at.query_params["z"]
    shared = shared[0] if isinstance(shared, list) else shared
    assert float(shared.split(",")[0]) == pytest.approx(moved, abs=1e-3)
    at.selectbox(key="traverse").set_value(3).run()
    no_errors(at)
    reopened = page(EXPLORE, model="digits-vae-5d", method="pca", item="2", z=shared)
    assert reopened.slider(key=slider.key).value == pytest.approx(moved, abs=1e-3)


def test_sliders_of_a_wide_code_say_which_dimensions_they_move(env):
    at = page(EXPLORE, model="mnist-vae-20d", method="pca")
    no_errors(at)
    assert any("the most used 8 of 20 dimensions" in c.value for c in at.caption)


@pytest.mark.parametrize("model", ["mnist-vae-20d", "digits-vae-5d"])
def test_latent_sliders_put_the_dimensions_that_move_the_decode_first(env, model):
    """A Gaussian VAE's sliders come active units first, by falling KL, inactive ones last."""
    from explorer.apps.likelihood import usage_of_posteriors
    from explorer.ui import resources

    at = page(EXPLORE, model=model, method="pca")
    no_errors(at)
    entry = next(e for e in list_models() if e.path.name == model)
    view = resources.view(str(entry.path), resources.stamp(entry.path), entry.display_data)
    usage = usage_of_posteriors(view.z, view.logvar)
    in_columns = [int(s.label[1:]) - 1 for s in at.slider
                  if s.key.startswith("z") and s.key.endswith("_None")]
    half = (len(in_columns) + 1) // 2  # two columns, filled left, right, left, ...
    shown = [d for pair in zip_longest(in_columns[:half], in_columns[half:]) for d in pair if d is not None]
    assert shown == [int(d) for d in usage.order()[: min(8, len(usage.kl))]]
    active = [usage.active[d] for d in shown]
    assert active == sorted(active, reverse=True)  # no active dimension after an inactive one
    inactive = [d for d in shown if not usage.active[d]]
    assert any(c.value.startswith(f"z{inactive[0] + 1}") and "inactive" in c.value for c in at.caption) \
        if inactive else not any("inactive (the encoder" in c.value for c in at.caption)


def test_decoded_grid_stays_readable(env):
    at = page(EXPLORE, model="digits-vae-2d")
    assert at.slider(key="grid_steps").max <= 20


def test_a_click_off_the_sphere_is_not_called_exact(env):
    at = page(EXPLORE, model="digits-svae-3d", method="hammer")
    at.session_state["probe"] = (2.9, 1.4)  # outside the ellipse (x / 2√2)² + (y / √2)² <= 1
    at.run()
    no_errors(at)
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "Outside the sphere's map" in text and "Trust: poor" in text
    assert "Exact" not in text


def test_an_rbm_is_offered_no_gaussian_prior(env):
    at = page(EXPLORE, model="mnist-rbm-64", method="pca")
    no_errors(at)
    assert any("An RBM has no N(0, I) prior" in i.value for i in at.info)
    assert not any(m.value == "**Prior N(0, I)**" for m in at.sidebar.markdown)
    keys = {s.key for s in at.sidebar.slider}
    assert "n_prior" not in keys and "temp" not in keys


def test_decode_grid(env):
    at = page(EXPLORE, model="digits-vae-2d")
    at.slider(key="grid_steps").set_value(7).run()
    no_errors(at)
    assert any("7×7 decodes" in c for c in captions(at))


def test_compare_page_measures_both(env):
    at = page(COMPARE, left="digits-ae-2d", right="digits-vae-2d")
    no_errors(at)
    assert len(at.get("plotly_chart")) == 4  # two maps, the measured shares, the path profile
    table = at.table[0].value
    measures = table["measure"].tolist()
    assert {"prior samples judged valid",
            "prior samples' class mix off the data's", "path midpoints judged valid"} <= set(measures)
    assert any(m.value.startswith("**Which model the numbers favour**") for m in at.markdown)
    shares = figure(at, 2)
    assert [t.name for t in shares.data] == ["digits-ae-2d", "digits-vae-2d"]
    steps = figure(at, 3)
    assert all(n_points(t) == 23 for t in steps.data)  # 24 frames, 23 steps


def test_compare_page_shades_where_each_decoder_jumps(env):
    at = page(COMPARE, left="mnist-ae-2d", right="mnist-vae-2d")
    assert all(t.type != "heatmap" for t in figure(at, 0).data)
    at.toggle(key="cmp_stretch").set_value(True).run()
    no_errors(at)
    for index in (0, 1):
        traces = figure(at, index).data
        assert traces[0].type == "heatmap" and traces[0].name == "decoder stretch"  # under the points
        z = traces[0].z  # plotly serializes it as a base64 typed array
        shape = tuple(int(v) for v in str(z["shape"]).split(","))
        shade = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
        assert shade.shape == (60, 60) and np.isfinite(shade).all() and shade.std() > 0


def _finish_likelihood(at):
    """Wait for the Compare page's background estimate, then redraw the page with its result."""
    at.session_state["cmp_nll_job"][1].join(120)
    return at.run()


def test_compare_page_estimates_the_vaes_likelihood_below_its_elbo(env):
    at = page(COMPARE, left="mnist-ae-2d", right="mnist-vae-2d")
    at.toggle(key="cmp_nll").set_value(True).run()
    no_errors(at)
    _finish_likelihood(at)
    no_errors(at)
    table = at.table[-1].value
    assert table["model"].tolist() == ["mnist-vae-2d"]  # an AE has no likelihood to estimate
    neg_elbo, nll = float(table["−ELBO (nats)"][0]), float(table["−log p(x), K = 100 (nats)"][0])
    assert 0 < nll < neg_elbo  # the importance-weighted bound is tighter
    assert table["active units"][0] == "2 of 2"
    kl = figure(at, len(at.get("plotly_chart")) - 1)
    assert [t.name for t in kl.data] == ["mnist-vae-2d"]


def test_the_likelihood_estimate_runs_in_the_background_and_can_be_stopped_and_run_again(env, monkeypatch):
    from explorer.apps import likelihood

    # The estimate waits at its first progress report until the test has pressed Stop.
    gate, estimate = threading.Event(), likelihood.log_likelihood

    def gated(*args, progress=None, **kwargs):
        return estimate(*args, progress=lambda f, text: (gate.wait(60), progress(f, text)), **kwargs)

    monkeypatch.setattr(likelihood, "log_likelihood", gated)
    at = page(COMPARE, left="mnist-ae-2d", right="mnist-vae-2d")
    at.toggle(key="cmp_nll").set_value(True).run()
    no_errors(at)
    assert at.button(key="cmp_nll_job_stop").label == "Stop the estimate"  # the page is not blocked
    job = at.session_state["cmp_nll_job"][1]
    job.stop()
    gate.set()
    job.join(60)
    at.run()
    assert job.snapshot().state == "stopped"
    assert any("Stopped after" in note.value and "off and on" in note.value for note in at.info)
    assert not any("ELBO gap" in table.value for table in at.table)
    at.toggle(key="cmp_nll").set_value(False).run()
    at.toggle(key="cmp_nll").set_value(True).run()
    _finish_likelihood(at)
    no_errors(at)
    assert at.table[-1].value["model"].tolist() == ["mnist-vae-2d"]


def test_compare_page_reads_the_20d_pair_right(env):
    at = page(COMPARE, left="mnist-ae-20d", right="mnist-vae-20d")
    no_errors(at)
    measures = at.table[0].value["measure"].tolist()
    assert not any("holes" in m for m in measures)  # a code-space distance that called noise complete
    text = [m.value for m in at.markdown]
    lead = next(t for t in text if t.startswith("**What decides it"))
    assert lead.startswith("**What decides it: prior samples judged valid.** **mnist-vae-20d** wins")
    assert text.index(lead) < next(i for i, t in enumerate(text) if t.startswith("**Which model"))
    for note in at.info:
        assert "2-D code" not in note.value and "compare mnist-ae-20d with mnist-vae-20d" not in note.value


def test_unreadable_checkpoint_is_an_error_not_a_traceback(env, tmp_path, monkeypatch):
    runs = tmp_path / "bad-runs"
    bad = runs / "broken"
    bad.mkdir(parents=True)
    (env / "digits-ae-2d" / "config.json").read_text()
    (bad / "config.json").write_text((env / "digits-ae-2d" / "config.json").read_text())
    (bad / "model.safetensors").write_bytes(b"not weights")
    monkeypatch.setenv("LATENT_EXPLORER_RUNS", str(runs))
    at = page(EXPLORE, model="broken")
    assert not at.exception
    assert "not a readable safetensors file" in at.error[0].value


def test_train_save_and_reopen(env, tmp_path, monkeypatch):
    runs = tmp_path / "new-runs"
    monkeypatch.setenv("LATENT_EXPLORER_RUNS", str(runs))
    at = page(TRAIN)
    no_errors(at)
    at.selectbox(key="train_data").set_value("moons").run()
    at.number_input(key="train_epochs").set_value(2).run()
    at.text_input(key="train_hidden").set_value("32,16").run()
    at.button(key="train_go").click().run()
    no_errors(at)
    deadline = time.time() + 60
    while at.session_state["job"].snapshot().state in ("pending", "running") and time.time() < deadline:
        time.sleep(0.2)
    at.run()
    no_errors(at)
    at.text_input(key="save_name").set_value("moons-test").run()
    at.button(key="save_go").click().run()
    no_errors(at)
    assert (runs / "moons-test" / "model.safetensors").is_file()
    reopened = page(EXPLORE, model="moons-test")
    no_errors(reopened)
    assert reopened.title[0].value == "moons-test"


def test_train_page_passes_schedule_and_shift_to_training(env):
    at = page(TRAIN)
    at.selectbox(key="train_data").set_value("digits").run()
    at.number_input(key="train_epochs").set_value(2).run()
    at.selectbox(key="train_schedule").set_value("one_cycle").run()
    at.number_input(key="train_shift").set_value(1).run()
    at.button(key="train_go").click().run()
    job = at.session_state["job"]
    job.join(timeout=60)
    assert (job.cfg.schedule, job.cfg.augment_shift) == ("one_cycle", 1)
    assert job.snapshot().state == "done"
    at.run()
    no_errors(at)
    moons = page(TRAIN)
    moons.selectbox(key="train_data").set_value("moons").run()
    assert moons.number_input(key="train_shift").disabled  # shifts move images only


def test_train_stop_keeps_weights(env):
    at = page(TRAIN)
    at.number_input(key="train_epochs").set_value(400).run()
    at.button(key="train_go").click().run()
    job = at.session_state["job"]
    time.sleep(1.0)
    at.run()
    at.button(key="train_stop").click().run()
    job.join(timeout=30)
    assert job.snapshot().state == "stopped"
    at.run()
    no_errors(at)
    assert at.button(key="save_go")


def test_two_sessions_train_at_once_and_stopping_one_leaves_the_other(env):
    first, second = page(TRAIN), page(TRAIN)
    first.number_input(key="train_epochs").set_value(400).run()
    second.number_input(key="train_epochs").set_value(8).run()
    first.button(key="train_go").click().run()
    second.button(key="train_go").click().run()
    jobs = first.session_state["job"], second.session_state["job"]
    assert jobs[0] is not jobs[1] and jobs[0].model is not jobs[1].model
    time.sleep(1.0)
    first.run()
    first.button(key="train_stop").click().run()
    for job in jobs:
        job.join(timeout=120)
    assert jobs[0].snapshot().state == "stopped"
    done = jobs[1].snapshot()
    assert done.state == "done" and done.history.epochs_run == 8  # not stopped by the other session
    for at in (first, second):
        at.run()
        no_errors(at)
        assert at.button(key="save_go")


def test_bad_hidden_widths_are_explained(env):
    at = page(TRAIN)
    at.text_input(key="train_hidden").set_value("wide").run()
    assert "comma-separated whole numbers" in at.error[0].value


def finish_a_short_run(at: AppTest, epochs: int = 2) -> None:
    at.selectbox(key="train_data").set_value("moons").run()
    at.number_input(key="train_epochs").set_value(epochs).run()
    at.button(key="train_go").click().run()
    at.session_state["job"].join(timeout=60)
    at.run()


def test_a_finished_run_keeps_its_settings_and_stops_refreshing(env):
    at = page(TRAIN)
    finish_a_short_run(at)
    no_errors(at)
    assert at.selectbox(key="train_data").value == "moons"  # not the defaults above the results
    assert at.number_input(key="train_epochs").value == 2
    assert any("This run: vae with a 2-D code on moons, 2 of 2 epochs" in c.value for c in at.caption)
    before = at.get("progress")[0].proto.text
    time.sleep(1.2)
    at.run()
    assert at.get("progress")[0].proto.text == before  # the elapsed time stopped with the run


def test_saved_and_errors_stay_and_an_existing_name_asks_first(env, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_EXPLORER_RUNS", str(tmp_path / "runs"))
    at = page(TRAIN)
    finish_a_short_run(at)
    at.text_input(key="save_name").set_value("moons-twice").run()
    at.button(key="save_go").click().run()
    at.run()  # an unrelated rerun: the message stays
    assert at.success and "Saved to" in at.success[0].value
    weights = tmp_path / "runs" / "moons-twice" / "model.safetensors"
    first = weights.stat().st_mtime_ns
    at.button(key="save_go").click().run()
    assert "A model named moons-twice exists" in at.warning[0].value
    assert weights.stat().st_mtime_ns == first  # nothing replaced before the user says so
    at.button(key="save_replace").click().run()
    assert at.success and weights.stat().st_mtime_ns != first
    at.text_input(key="save_name").set_value("../escape").run()
    at.button(key="save_go").click().run()
    at.run()
    assert "Use letters, digits" in at.error[0].value


def test_zero_hidden_units_and_out_of_range_numbers_block_training(env):
    at = page(TRAIN)
    at.text_input(key="train_hidden").set_value("64,0").run()
    assert "at least 1" in at.error[0].value
    assert at.button(key="train_go").disabled
    at.text_input(key="train_hidden").set_value("").run()
    at.number_input(key="train_epochs").set_value(900).run()
    assert "epochs must be between 1 and 500; it is 900." in at.error[0].value
    assert at.button(key="train_go").disabled
    assert "job" not in at.session_state


def test_a_slow_map_shows_its_progress_and_can_be_stopped_and_restarted(env, monkeypatch):
    import explorer.ui.resources as resources

    real_project = resources.project

    def slow_project(z, cfg, cache_dir=None, on_progress=None):
        for i in range(600):  # a minute of "t-SNE", reporting as openTSNE's callback does
            on_progress(i / 600, f"t-SNE: iteration {i}")
            time.sleep(0.1)
        return real_project(z, cfg, cache_dir)

    monkeypatch.setattr(resources, "project", slow_project)
    at = page(EXPLORE, model="digits-vae-5d", method="tsne", pseed="4321")  # a map no other test made
    no_errors(at)
    assert any("in the background" in i.value for i in at.info)
    assert figure(at).layout.xaxis.title.text == "pca 1"  # PCA meanwhile
    stop = at.button(key="stop_map")
    assert stop.label == "Stop the t-SNE map"
    stop.click().run()
    no_errors(at)
    assert any("You stopped the t-SNE map" in i.value for i in at.info)
    assert figure(at).layout.xaxis.title.text == "pca 1"
    monkeypatch.setattr(resources, "project", real_project)
    at.button(key="restart_map").click().run()
    deadline = time.time() + 120
    while figure(at).layout.xaxis.title.text != "tsne 1" and time.time() < deadline:
        time.sleep(0.5)  # the stopped fit ends at its next report, then a new one starts
        at.run()
    no_errors(at)
    assert figure(at).layout.xaxis.title.text == "tsne 1"
