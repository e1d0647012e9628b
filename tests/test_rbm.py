"""The RBM baseline: scikit-learn's BernoulliRBM behind the autoencoder interface."""

from __future__ import annotations

import pytest
import torch
from scipy.special import expit
from sklearn.neural_network import BernoulliRBM
from threadpoolctl import threadpool_limits

from explorer.apps.metrics import knn_accuracy, reconstruction_sse
from explorer.config import DataConfig, TrainConfig
from explorer.data import Dataset
from explorer.errors import DataError, ModelConfigError
from explorer.latent import encode_all
from explorer.models import build_model, model_config
from explorer.models.rbm import load_bernoulli_rbm
from explorer.store.checkpoint import load_checkpoint, save_checkpoint
from explorer.training.jobs import TrainingJob
from explorer.training.train import fit


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """The reference BernoulliRBM fits here run on one BLAS thread, like fit_rbm (see there)."""
    with threadpool_limits(1, user_api="blas"):
        yield


def rows(x: torch.Tensor):
    return x.flatten(1).double().numpy()


@pytest.fixture(scope="module")
def trained(digits):
    model = build_model(model_config("rbm", digits.item_shape, 64))
    fit(model, digits, TrainConfig(epochs=20, batch_size=32, lr=0.1))
    return model.eval()


def test_codes_are_bernoulli_rbm_transform_and_decoding_is_mean_field(digits):
    rbm = BernoulliRBM(n_components=16, learning_rate=0.05, batch_size=32, n_iter=3, random_state=0)
    rbm.fit(rows(digits.x_train))
    model = build_model(model_config("rbm", digits.item_shape, 16))
    load_bernoulli_rbm(model, rbm)
    x = rows(digits.x_test)
    codes = model.encode(digits.x_test)
    torch.testing.assert_close(codes.double(), torch.from_numpy(rbm.transform(x)), atol=1e-5, rtol=0)
    mean_field = expit(codes.detach().double().numpy() @ rbm.components_ + rbm.intercept_visible_)
    torch.testing.assert_close(model.decode(codes).flatten(1).double(), torch.from_numpy(mean_field),
                               atol=1e-5, rtol=0)


def test_fit_is_bernoulli_rbm_fit_with_progress_reported(digits):
    steps, epochs = [], []
    model = build_model(model_config("rbm", digits.item_shape, 16))
    history = fit(model, digits, TrainConfig(epochs=3, batch_size=32, lr=0.05, seed=4),
                  on_step=steps.append, on_epoch=lambda epoch, _: epochs.append(epoch))
    rbm = BernoulliRBM(n_components=16, learning_rate=0.05, batch_size=32, n_iter=3, random_state=4)
    rbm.fit(rows(digits.x_train))
    assert torch.equal(model.head.weight, torch.from_numpy(rbm.components_).float())
    assert torch.equal(model.head.bias, torch.from_numpy(rbm.intercept_hidden_).float())
    assert torch.equal(model.decoder.bias, torch.from_numpy(rbm.intercept_visible_).float())
    n_batches = -(-len(digits.x_train) // 32)
    # Reports are throttled, and every epoch ends with one.
    assert [s.epoch for s in steps if s.step == n_batches] == [1, 2, 3] and len(steps) <= 3 * n_batches
    assert epochs == [1, 2, 3] and history.epochs_run == 3 and len(history.test["total"]) == 3


def test_stop_keeps_the_weights_so_far(digits):
    model = build_model(model_config("rbm", digits.item_shape, 16))
    untrained = model.head.weight.detach().clone()
    job = TrainingJob(model, digits, TrainConfig(epochs=50, batch_size=32, lr=0.05))
    job.stop()  # asked before the first step: the job stops after one minibatch
    job.start().join(timeout=30)
    status = job.snapshot()
    assert status.state == "stopped" and status.history.epochs_run == 1 and status.step == 1
    assert not torch.equal(model.head.weight, untrained)


def test_trained_codes_classify_digits_far_above_chance(trained, digits):
    accuracy = knn_accuracy(encode_all(trained, digits.x_train).numpy(), digits.y_train.numpy(),
                            encode_all(trained, digits.x_test).numpy(), digits.y_test.numpy())
    assert accuracy > 0.75  # chance is 0.1


def test_reconstruction_beats_the_mean_image(trained, digits):
    mean_image = (digits.x_test - digits.x_train.mean(dim=0)).pow(2).flatten(1).sum(dim=1).mean()
    assert reconstruction_sse(trained, digits.x_test).mean() < 0.7 * mean_image


def test_checkpoint_round_trip_is_bit_exact(trained, digits, tmp_path):
    folder = save_checkpoint(tmp_path / "rbm", trained, DataConfig("digits"), TrainConfig(epochs=20))
    loaded = load_checkpoint(folder).model
    assert loaded.cfg == trained.cfg and type(loaded) is type(trained)
    state, restored = trained.state_dict(), loaded.state_dict()
    assert state.keys() == restored.keys() and all(torch.equal(state[k], restored[k]) for k in state)
    assert torch.equal(loaded.encode(digits.x_test), trained.encode(digits.x_test))


def test_data_outside_the_unit_interval_is_refused():
    x = torch.linspace(-1.0, 2.0, 40).reshape(10, 4)
    data = Dataset("scaled", "tabular", x, None, x, None)
    model = build_model(model_config("rbm", (4,), 2))
    with pytest.raises(DataError, match=r"needs data in \[0, 1\]; scaled ranges over \[-1, 2\]"):
        fit(model, data, TrainConfig(epochs=1))


def test_options_an_rbm_does_not_have_are_refused(digits):
    model = build_model(model_config("rbm", digits.item_shape, 4))
    with pytest.raises(ModelConfigError,
                       match="without validation_fraction, early_stopping_patience; leave them unset"):
        fit(model, digits, TrainConfig(epochs=1, validation_fraction=0.2, early_stopping_patience=2))
    with pytest.raises(ModelConfigError, match="likelihood must be bernoulli"):
        build_model(model_config("rbm", (4,), 2, likelihood="gaussian"))
    with pytest.raises(ModelConfigError, match="one hidden layer"):
        build_model(model_config("rbm", (4,), 2, hidden=(16,)))


def test_cli_trains_the_rbm_at_its_own_learning_rate(tmp_path):
    from explorer.cli import main as cli

    out = tmp_path / "rbm"
    assert cli(["train", "--data", "digits", "--model", "rbm", "--latent-dim", "16", "--epochs", "1",
                "--out", str(out), "--quiet"]) == 0
    assert load_checkpoint(out).train.lr == 0.05  # not the gradient families' 1e-3
    assert cli(["train", "--data", "digits", "--model", "rbm", "--latent-dim", "16", "--epochs", "1",
                "--lr", "0.01", "--out", str(out), "--quiet", "--overwrite"]) == 0
    assert load_checkpoint(out).train.lr == 0.01
