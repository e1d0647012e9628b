"""A model family is one entry in ``explorer.models.MODELS``: registering a throw-away one (an
MLP autoencoder with a tanh code path and one narrow hidden layer, as a course might add) is
all it takes for building, sizing, the CLI's training, saving and reloading, and the Train
page to offer it."""

from __future__ import annotations

import pytest
from app_support import no_errors, page

from explorer.cli import main
from explorer.errors import ModelConfigError
from explorer.models import MODELS, ModelSpec, build_model, model_config, parameter_count
from explorer.models.registry import _mlp, _mlp_size
from explorer.store.checkpoint import load_checkpoint

TANH = ModelSpec("tanh_ae", "MLP autoencoder with tanh units (a throw-away family)", False, _mlp(False),
                 _mlp_size(False), preset={"hidden": (24,), "activation": "tanh"}, lr=3e-3)
TRAIN = "from explorer.ui.train_page import train_page\ntrain_page()\n"


@pytest.fixture
def tanh_family(monkeypatch):
    monkeypatch.setitem(MODELS, "tanh_ae", TANH)


def test_a_registered_family_builds_with_its_preset_and_size(tanh_family):
    cfg = model_config("tanh_ae", (1, 8, 8), 3)
    assert (cfg.hidden, cfg.activation) == ((24,), "tanh")
    model = build_model(cfg)
    assert parameter_count(cfg) == sum(p.numel() for p in model.parameters())


def test_an_unregistered_family_is_refused_with_the_names_there_are():
    with pytest.raises(ModelConfigError, match=r"Unknown model .tanh_ae.. Choose one of ae, vae, "):
        model_config("tanh_ae", (1, 8, 8), 3)


def test_the_cli_trains_saves_and_reloads_a_registered_family(tanh_family, tmp_path):
    out = tmp_path / "digits-tanh"
    assert main(["train", "--data", "digits", "--model", "tanh_ae", "--latent-dim", "2", "--epochs", "1",
                 "--out", str(out), "--quiet"]) == 0
    ckpt = load_checkpoint(out)
    assert ckpt.config.name == "tanh_ae" and ckpt.config.activation == "tanh"
    assert ckpt.config.hidden == (24,)


def test_the_train_page_offers_a_registered_family_with_its_learning_rate(tanh_family, env):
    at = page(TRAIN)
    no_errors(at)
    assert "tanh_ae" in at.selectbox(key="train_model").options
    at.selectbox(key="train_model").set_value("tanh_ae").run()
    no_errors(at)
    assert any("a throw-away family" in c.value for c in at.caption)
    assert at.number_input(key="train_lr_tanh_ae").value == pytest.approx(3e-3)
