"""An ex-post Gaussian mixture over a plain AE's codes makes it generative: its decoded
samples cover the classes and sit nearer real items than the AE's N(0, I) samples."""

import json

import numpy as np
import pytest
import torch

from explorer.apps.regularity import fit_judge
from explorer.apps.samplers import frechet_distance, sample_codes, sampler_report
from explorer.cli import main as cli
from explorer.config import DataConfig, TrainConfig
from explorer.data import load_dataset
from explorer.latent import encode_all
from explorer.models import build_model, model_config
from explorer.training.train import fit


def test_frechet_distance_of_shifted_copies_is_the_squared_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3000, 4)) @ rng.normal(size=(4, 4))
    shift = np.array([1.0, -2.0, 0.5, 0.0])
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(a, a + shift) == pytest.approx(float(shift @ shift), rel=1e-6)
    assert frechet_distance(a, 2 * a) > 0.5  # same mean, wider spread


def test_frechet_distance_survives_features_that_never_fire():
    rng = np.random.default_rng(1)
    a, b = rng.random((500, 6)), rng.random((500, 6)) + 0.1
    a[:, 2] = b[:, 2] = 0.0  # a dead ReLU unit: singular covariances
    assert np.isfinite(frechet_distance(a, b)) and frechet_distance(a, b) > 0


@pytest.fixture(scope="module")
def digits_ae():
    data = load_dataset(DataConfig("digits"))
    torch.manual_seed(0)
    model = build_model(model_config("ae", data.item_shape, 8, hidden=(64,)))
    fit(model, data, TrainConfig(epochs=30, batch_size=64, lr=3e-3))
    judge = fit_judge(data.x_train.numpy(), data.y_train.numpy())
    return data, model, judge


def test_the_mixture_sampler_beats_the_prior_for_a_plain_ae(digits_ae):
    data, model, judge = digits_ae
    codes = encode_all(model, data.x_train).numpy()
    reports = {s: sampler_report(model, s, judge, data.x_test.numpy(), data.y_test.numpy(), codes, 1000)
               for s in ("prior", "gmm")}
    assert reports["gmm"].class_mix < reports["prior"].class_mix - 0.1
    assert reports["gmm"].frechet < 0.5 * reports["prior"].frechet
    assert reports["gmm"].confident > reports["prior"].confident


def test_samples_are_reproducible_and_the_mixture_follows_the_codes(digits_ae):
    data, model, _ = digits_ae
    codes = encode_all(model, data.x_train).numpy()
    first, again = (sample_codes(model, "gmm", 4000, codes, seed=3) for _ in range(2))
    assert np.array_equal(first, again)
    assert np.allclose(first.mean(axis=0), codes.mean(axis=0), atol=0.15 * codes.std(axis=0).max())
    with pytest.raises(ValueError, match="unknown sampler"):
        sample_codes(model, "flow", 4, codes)


def test_samplers_command_reports_each_sampler(tmp_path, capsys):
    out = str(tmp_path / "ae")
    assert cli(["train", "--data", "digits", "--model", "ae", "--latent-dim", "4", "--hidden", "32",
                "--epochs", "2", "--out", out, "--quiet"]) == 0
    capsys.readouterr()
    assert cli(["samplers", out, "--n", "200", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["samplers"]) == {"prior", "gmm"}
    for values in report["samplers"].values():
        assert set(values) == {"class_mix", "confident", "frechet"}
        assert 0 <= values["class_mix"] <= 1 and 0 <= values["confident"] <= 1 and values["frechet"] >= 0
