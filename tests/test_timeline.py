"""The training timeline: recorded per epoch, stored with the checkpoint, replayed aligned."""

from __future__ import annotations

import dataclasses
import json
import time

import numpy as np
import pytest
import torch

from explorer.config import TrainConfig
from explorer.errors import CheckpointError
from explorer.latent import encode_all
from explorer.models import build_model, model_config
from explorer.store.checkpoint import load_checkpoint
from explorer.training.history import History
from explorer.training.timeline import (
    TIMELINE_FILE,
    Timeline,
    TimelineRecorder,
    aligned_frames,
    read_timeline,
    write_timeline,
)
from explorer.training.train import fit


def small_model(digits, latent_dim: int = 2, name: str = "ae"):
    torch.manual_seed(0)
    return build_model(model_config(name, digits.item_shape, latent_dim, hidden=(32,)))


def test_train_records_one_frame_per_epoch_and_the_last_is_the_saved_model(tmp_path, capsys, digits):
    from explorer.cli import main

    out = tmp_path / "run"
    assert main(["train", "--data", "digits", "--model", "vae", "--latent-dim", "2", "--epochs", "3",
                 "--out", str(out), "--timeline", "--quiet", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["timeline_frames"] == 4
    timeline = read_timeline(out)
    assert timeline.epochs.tolist() == [0, 1, 2, 3]  # the untrained encoder, then each epoch
    assert timeline.codes.shape == (4, min(500, len(digits.x_test)), 2) and timeline.final == 3
    assert timeline.labels.tolist() == digits.y_test.numpy()[timeline.items].tolist()
    saved = encode_all(load_checkpoint(out).model, digits.x_test[timeline.items]).numpy()
    np.testing.assert_allclose(timeline.codes[-1], saved, atol=1e-6)
    assert not np.allclose(timeline.codes[0], saved, atol=1e-2)  # training moved the codes


def test_recording_does_not_change_the_training(digits):
    cfg = TrainConfig(epochs=2, batch_size=64, seed=3)
    plain, watched = small_model(digits), small_model(digits)
    fit(plain, digits, cfg)
    recorder = TimelineRecorder(watched, digits, n_items=50, seed=3)
    fit(watched, digits, cfg, on_epoch=recorder.record)
    for a, b in zip(plain.state_dict().values(), watched.state_dict().values()):
        assert torch.equal(a, b)
    assert recorder.finish().n_frames == 3


def test_weights_rolled_back_after_the_last_epoch_point_at_their_own_frame(digits):
    model = small_model(digits)
    recorder = TimelineRecorder(model, digits, n_items=40)
    states = {}

    def on_epoch(epoch: int, history: History) -> None:
        recorder.record(epoch)
        states[epoch] = {k: v.clone() for k, v in model.state_dict().items()}

    fit(model, digits, TrainConfig(epochs=3, batch_size=64), on_epoch=on_epoch)
    model.load_state_dict(states[1])  # as early stopping restores its best epoch
    assert recorder.finish().final == 1


def test_a_timeline_round_trips_through_its_file(tmp_path):
    rng = np.random.default_rng(0)
    timeline = Timeline(np.arange(4), rng.normal(size=(4, 30, 5)).astype(np.float32), np.arange(30) * 2,
                        rng.integers(0, 3, 30), ("a", "b", "c"), final=2)
    write_timeline(tmp_path / TIMELINE_FILE, timeline)
    back = read_timeline(tmp_path)
    for field in ("epochs", "codes", "items", "labels"):
        np.testing.assert_array_equal(getattr(back, field), getattr(timeline, field))
    assert (back.class_names, back.final) == (("a", "b", "c"), 2)
    assert read_timeline(tmp_path / "elsewhere") is None


def test_a_damaged_or_inconsistent_timeline_is_one_clear_error(tmp_path):
    (tmp_path / TIMELINE_FILE).write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="not a readable training timeline"):
        read_timeline(tmp_path)
    np.savez(tmp_path / TIMELINE_FILE, epochs=np.arange(3), codes=np.zeros((2, 5, 2), np.float32),
             items=np.arange(5), final=np.array(1))
    with pytest.raises(CheckpointError, match="do not match 3 epochs"):
        read_timeline(tmp_path)
    np.savez(tmp_path / TIMELINE_FILE, epochs=np.array(["x"], dtype=object), codes=np.zeros((1, 5, 2)),
             items=np.arange(5), final=np.array(0))
    with pytest.raises(CheckpointError, match="not a readable training timeline"):
        read_timeline(tmp_path)  # an object array would need unpickling: refused


def test_frames_of_larger_codes_share_the_final_epochs_pca_plane():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(1)
    final = rng.normal(size=(200, 6)) * np.array([5, 3, 1, 0.5, 0.2, 0.1])
    codes = np.stack([final * s for s in (0.1, 0.5, 1.0)]).astype(np.float32)
    timeline = Timeline(np.arange(3), codes, np.arange(200), None, None, final=2)
    frames, axis = aligned_frames(timeline)
    assert axis == "pca" and frames.shape == (3, 200, 2)
    expected = PCA(2).fit_transform(codes[2])
    np.testing.assert_allclose(np.abs(frames[2]), np.abs(expected), atol=1e-3)
    # One fixed plane: a frame that is the final codes scaled about their mean moves by that scale.
    centre = codes[2].mean(axis=0)
    shrunk = Timeline(np.arange(2), np.stack([centre + 0.5 * (codes[2] - centre), codes[2]]),
                      np.arange(200), None, None, final=1)
    half, whole = aligned_frames(shrunk)[0]
    np.testing.assert_allclose(half, 0.5 * whole, atol=1e-4)


def test_a_long_timeline_opens_from_its_files_in_under_two_seconds(tmp_path):
    from explorer.ui.timeline_page import timeline_figure

    rng = np.random.default_rng(0)
    timeline = Timeline(np.arange(101), rng.normal(size=(101, 500, 20)).astype(np.float32),
                        np.arange(500), rng.integers(0, 10, 500), None, final=100)
    write_timeline(tmp_path / TIMELINE_FILE, timeline)
    history = History(train={"total": list(np.linspace(200, 100, 100))})
    start = time.perf_counter()
    fig = timeline_figure(read_timeline(tmp_path), history)
    fig.to_json()  # what Streamlit sends to the page
    seconds = time.perf_counter() - start
    assert len(fig.frames) == 101 and len(fig.layout.sliders[0].steps) == 101
    assert fig.frames[5].layout.title.text.startswith("epoch 5 · training loss")
    assert seconds < 2.0, seconds


def test_the_zoo_builder_records_a_timeline_when_the_recipe_asks(digits, capsys, monkeypatch):
    import importlib.util
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "build_pretrained.py"
    spec = importlib.util.spec_from_file_location("build_pretrained", script)
    build = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "build_pretrained", build)  # dataclasses look their module up
    spec.loader.exec_module(build)
    family = {f"mnist-beta-2d/mnist-vae-2d-beta-{b:g}" for b in (0, 0.1, 0.5, 1, 4)}
    assert {r.name for r in build.RECIPES if r.timeline} == {"mnist-ae-2d", "mnist-vae-2d"} | family
    members = [r for r in build.RECIPES if r.name in family]
    assert len({dataclasses.replace(r.model, beta=1.0) for r in members}) == 1  # only beta differs
    assert len({(r.train, r.data) for r in members}) == 1
    recipe = build.Recipe("tiny", model_config("ae", digits.item_shape, 2, hidden=(16,)),
                          TrainConfig(epochs=2, batch_size=64), "tiny", data="digits", timeline=True)
    model, history, timeline = build.train(recipe, digits)
    assert timeline.epochs.tolist() == [0, 1, 2] and history.epochs_run == 2
    assert build.train(dataclasses.replace(recipe, timeline=False), digits)[2] is None
