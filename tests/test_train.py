import dataclasses
import math

import pytest
import torch

from explorer.config import ModelConfig, TrainConfig
from explorer.data import Dataset
from explorer.errors import DeviceError, OutOfMemoryError, TrainingDivergedError
from explorer.latent import encode_all
from explorer.models import build_model
from explorer.training.train import evaluate_losses, fit


def _model(name: str, data: Dataset, latent_dim: int = 2, **kw):
    return build_model(ModelConfig(name=name, input_shape=data.item_shape, latent_dim=latent_dim,
                                   likelihood=data.likelihood, **kw))


@pytest.fixture(scope="module")
def trained_pair(digits):
    cfg = TrainConfig(epochs=15, batch_size=64, lr=2e-3)
    ae, vae = _model("ae", digits), _model("vae", digits)
    untrained = [evaluate_losses(m, digits.x_test)["recon"] for m in (ae, vae)]
    histories = fit(ae, digits, cfg), fit(vae, digits, cfg)
    return ae, vae, list(zip(untrained, histories))


def test_training_lowers_test_loss(trained_pair):
    for untrained, history in trained_pair[2]:
        assert history.test["recon"][-1] < 0.6 * untrained
        assert history.test["recon"][-1] < history.test["recon"][0]
        assert history.epochs_run == 15 and history.stop_reason == "completed"
        assert set(history.train) >= {"recon", "total"}


def test_vae_kl_pulls_aggregate_posterior_toward_standard_normal(trained_pair, digits):
    ae, vae, _ = trained_pair
    z_vae = encode_all(vae, digits.x_test)
    z_ae = encode_all(ae, digits.x_test)
    # The VAE's codes: mean near 0, variance of the aggregate posterior near 1 (the
    # aggregate variance is Var(mu) + E[sigma^2]; we check the means' spread stays O(1)).
    _, logvar = encode_all(vae, digits.x_test, with_logvar=True)
    aggregate_var = z_vae.var(dim=0) + logvar.exp().mean(dim=0)
    assert z_vae.mean(dim=0).abs().max() < 0.35
    assert ((aggregate_var > 0.5) & (aggregate_var < 1.6)).all()
    # A plain AE has nothing tying its codes to N(0, I): they sit far from it.
    ae_distance = (z_ae.mean(dim=0).abs().max() + (z_ae.var(dim=0) - 1).abs().max()).item()
    vae_distance = (z_vae.mean(dim=0).abs().max() + (aggregate_var - 1).abs().max()).item()
    assert ae_distance > 3 * vae_distance


def test_nan_loss_stops_training_and_keeps_finite_weights(digits):
    model = _model("ae", digits)
    calls = {"n": 0}
    original = model.loss

    def loss_that_breaks(x):
        calls["n"] += 1
        terms = original(x)
        if calls["n"] == 30:
            terms["total"] = terms["total"] * float("nan")
        return terms

    model.loss = loss_that_breaks
    with pytest.raises(TrainingDivergedError, match="became nan at epoch 2.*last good weights") as info:
        fit(model, digits, TrainConfig(epochs=5, batch_size=64))
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert info.value.history.stop_reason == "diverged"
    assert info.value.history.epochs_run == 1


def test_nan_weights_roll_back_to_last_epoch(digits):
    model = _model("ae", digits)
    snapshots = []

    def on_epoch(epoch, history):
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        if epoch == 2:
            with torch.no_grad():
                next(model.parameters()).fill_(float("nan"))

    with pytest.raises(TrainingDivergedError):
        fit(model, digits, TrainConfig(epochs=4, batch_size=64), on_epoch=on_epoch)
    restored = model.state_dict()
    assert all(torch.equal(restored[k], snapshots[1][k]) for k in restored)


def test_a_diverged_run_keeps_weights_that_evaluate(digits):
    from explorer.apps.metrics import evaluate

    model = _model("ae", digits)
    # The config refuses rates above 10, where Adam's bounded steps keep this model finite;
    # a rate past that check (set on the frozen config directly) is a real divergence.
    cfg = TrainConfig(epochs=3, batch_size=64)
    object.__setattr__(cfg, "lr", 1e6)
    with pytest.raises(TrainingDivergedError, match="keeps its last good weights \\(the initial ones"):
        fit(model, digits, cfg)
    # One step at this rate leaves finite weights whose loss is NaN; what is kept evaluates.
    assert all(math.isfinite(value) for value in evaluate(model, digits).values())


def test_epoch_weights_that_overflow_the_loss_give_way_to_the_initial_ones(digits):
    model = _model("ae", digits)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    steps = {"n": 0}

    def blow_up_at_the_end_of_epoch_1() -> bool:  # finite weights, far too large for a finite loss
        steps["n"] += 1
        if steps["n"] == math.ceil(len(digits.x_train) / 64):
            with torch.no_grad():
                for p in model.parameters():
                    p.fill_(1e30)
        return False

    with pytest.raises(TrainingDivergedError, match="the initial ones: those of epoch 1 give a non-finite"):
        fit(model, digits, TrainConfig(epochs=3, batch_size=64), should_stop=blow_up_at_the_end_of_epoch_1)
    assert all(torch.equal(v, initial[k]) for k, v in model.state_dict().items())


def test_stop_request_ends_cleanly_with_history(digits):
    model = _model("vae", digits)
    steps, asked = [], []

    def stop_at_step_7() -> bool:
        asked.append(True)
        return len(asked) >= 7

    history = fit(model, digits, TrainConfig(epochs=50, batch_size=64),
                  on_step=steps.append, should_stop=stop_at_step_7)
    assert history.stop_reason == "stopped" and history.epochs_run == 1
    # Stopping reports where it stopped, however throttled the reports before it were.
    assert steps[-1].step == 7 and steps[-1].progress == pytest.approx(7 / steps[-1].steps_per_epoch)
    assert len(history.test["total"]) == 1


def test_a_stopped_epoch_records_the_mean_over_the_batches_it_saw(digits):
    model = _model("ae", digits)
    seen: list[float] = []
    original = model.loss

    def recording_loss(x):  # the loss of every training batch, as the trainer computes it
        terms = original(x)
        if model.training:  # not the test losses at the end of the epoch
            seen.append(terms["total"].item())
        return terms

    model.loss = recording_loss
    history = fit(model, digits, TrainConfig(epochs=5, batch_size=64),
                  should_stop=lambda: len(seen) >= 7)
    assert history.stop_reason == "stopped" and len(seen) == 7
    # Seven full batches of 64: the plain mean, not 7 * 64 / 1437 of it.
    assert history.train["total"] == [pytest.approx(sum(seen) / 7, abs=1e-5)]


def test_early_stopping_restores_best_validation_weights(digits):
    model = _model("ae", digits, latent_dim=16, hidden=(512, 512))
    cfg = TrainConfig(epochs=60, batch_size=32, lr=3e-3, validation_fraction=0.2,
                      early_stopping_patience=2)
    history = fit(model, digits, cfg)
    best = history.best_epoch
    assert best is not None
    assert history.validation["total"][best - 1] == min(history.validation["total"])
    if history.stop_reason == "early_stopping":
        assert history.epochs_run == best + 3


def test_missing_cuda_is_a_clear_error(digits):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(DeviceError, match="No CUDA GPU is visible.*Available devices: cpu"):
        fit(_model("ae", digits), digits, TrainConfig(epochs=1, device="cuda:0"))


def test_out_of_memory_becomes_advice(digits, monkeypatch):
    model = _model("ae", digits)

    def explode(x):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(model, "loss", explode)
    with pytest.raises(OutOfMemoryError, match="Lower the batch size"):
        fit(model, digits, TrainConfig(epochs=1))


def test_same_seed_same_weights(digits):
    cfg = TrainConfig(epochs=2, batch_size=64, seed=3)
    a, b = _model("vae", digits), _model("vae", digits)
    b.load_state_dict(a.state_dict())
    fit(a, digits, cfg)
    fit(b, digits, cfg)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not math.isnan(next(a.parameters()).sum().item())


def test_one_cycle_warms_up_to_the_rate_and_anneals_to_near_zero(digits, monkeypatch):
    import explorer.training.history

    monkeypatch.setattr(explorer.training.history, "REPORT_SECONDS", 0.0)  # a report every step: every rate
    model = _model("ae", digits)
    steps: list = []
    cfg = TrainConfig(epochs=4, batch_size=64, lr=3e-3, schedule="one_cycle", validation_fraction=0.2)
    fit(model, digits, cfg, on_step=steps.append)
    rates = [s.lr for s in steps]
    # Every step of every epoch ran (the schedule counts steps on the training part of the split).
    assert len(rates) == 4 * steps[0].steps_per_epoch
    peak = max(range(len(rates)), key=rates.__getitem__)
    assert rates[peak] == pytest.approx(3e-3, rel=1e-3)
    assert 0.2 < peak / len(rates) < 0.4  # the warm-up is the first ~30 % of the run
    assert rates[0] < 3e-3 / 10 and rates[-1] < 3e-3 / 1000
    constant: list = []
    fit(_model("ae", digits), digits, TrainConfig(epochs=1, batch_size=64, lr=3e-3), on_step=constant.append)
    assert {s.lr for s in constant} == {3e-3}


def test_shift_augmentation_teaches_the_model_shifted_images(digits):
    from explorer.apps.metrics import reconstruction_sse
    from explorer.data.augment import random_shift

    cfg = TrainConfig(epochs=25, batch_size=64, lr=2e-3)
    plain = _model("ae", digits, latent_dim=16, hidden=(128,))
    shifted = _model("ae", digits, latent_dim=16, hidden=(128,))
    fit(plain, digits, cfg)
    fit(shifted, digits, dataclasses.replace(cfg, augment_shift=1))
    moved = random_shift(digits.x_test, 1, torch.Generator().manual_seed(1))
    # Only the model that saw shifted images during training reconstructs them well.
    assert reconstruction_sse(shifted, moved).mean() < 0.8 * reconstruction_sse(plain, moved).mean()


def test_random_shift_copies_whole_pixels_and_fills_with_zeros():
    from explorer.data.augment import random_shift

    images = torch.rand(300, 2, 7, 9) + 0.5  # no zeros of their own, two channels, not square
    moved = random_shift(images, 2, torch.Generator().manual_seed(0))
    offsets = set()
    for image, out in zip(images, moved):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if torch.equal(out, _shifted(image, dy, dx))]
        assert len(found) == 1  # exactly one whole-pixel shift: values copied, never blended
        offsets.add(found[0])
    assert len(offsets) == 25  # every offset up to 2 px turns up
    assert torch.equal(random_shift(images, 0, torch.Generator()), images)


def _shifted(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``image`` (C, H, W) moved down ``dy`` and right ``dx`` pixels, zeros coming in."""
    out = torch.zeros_like(image)
    h, w = image.shape[1:]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        # What only the data can tell is fit's to check; the option's range is TrainConfig's.
        ({"augment_shift": 1}, "ModelConfigError", "Random shifts move images.*shape \\(64,\\)"),
        ({"augment_shift": -1}, "ConfigError", "augment_shift must be between 0 and 8, got -1"),
        ({"schedule": "cosine"}, "ConfigError", "schedule must be one of constant, one_cycle, got 'cosine'"),
    ],
)
def test_bad_training_options_are_clear_errors(digits, options, error, message):
    from explorer import errors

    flat = Dataset("flat", "tabular", digits.x_train.flatten(1), None, digits.x_test.flatten(1), None)
    with pytest.raises(getattr(errors, error), match=message) as raised:
        fit(_model("ae", flat), flat, TrainConfig(epochs=1, **options))
    assert type(raised.value) is getattr(errors, error)
