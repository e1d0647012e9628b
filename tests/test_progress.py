"""The training loop reads losses from the device only at throttled report points, so a GPU
is not made to wait for the host on every step; the reports and the checks still see every
step."""

import math
import sys
import time

import pytest
import torch

import explorer.training.history
from explorer.config import ModelConfig, TrainConfig
from explorer.errors import TrainingDivergedError
from explorer.models import build_model
from explorer.training.jobs import TrainingJob
from explorer.training.train import fit

SYNCS = ("item", "tolist", "cpu", "numpy", "__bool__", "__float__", "__int__", "__format__")


def _model(data, name="vae"):
    return build_model(ModelConfig(name=name, input_shape=data.item_shape, latent_dim=2,
                                   likelihood=data.likelihood))


@pytest.fixture
def explorer_syncs(monkeypatch):
    """Counts the calls that copy a tensor's value to the host made from ``explorer/`` code
    (torch's own, like Adam reading its CPU step counter, are not the trainer's doing)."""
    counts = {"n": 0}
    for name in SYNCS:
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            if "/explorer/" in sys._getframe(1).f_code.co_filename:
                counts["n"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    return counts


def test_a_run_syncs_far_less_often_than_it_steps(digits, explorer_syncs):
    cfg = TrainConfig(epochs=3, batch_size=8)
    steps = math.ceil(len(digits.x_train) / cfg.batch_size) * cfg.epochs
    reports = []
    fit(_model(digits), digits, cfg, on_step=reports.append)
    # Each report costs one sync, and how many reports fall due depends on wall time (one per
    # REPORT_SECONDS, bounded in the next test), so a loaded machine adds reports, not syncs
    # per step. Beyond the reports: the input checks per run, and per epoch the epoch means
    # and test losses (14 for this run). Syncing per step would leave at least one per step.
    beyond_reports = explorer_syncs["n"] - len(reports)
    assert 0 <= beyond_reports < steps / 20, (explorer_syncs["n"], len(reports), steps)


def test_reports_are_throttled_yet_cover_every_step_and_end_each_epoch_exactly(digits):
    cfg = TrainConfig(epochs=2, batch_size=8)
    reports = []
    start = time.perf_counter()
    history = fit(_model(digits), digits, cfg, on_step=reports.append)
    seconds = time.perf_counter() - start
    steps = math.ceil(len(digits.x_train) / cfg.batch_size)
    assert len(reports) <= seconds / explorer.training.history.REPORT_SECONDS + cfg.epochs + 1
    assert len(reports) < steps * cfg.epochs / 5
    for epoch in (1, 2):
        mine = [r for r in reports if r.epoch == epoch]
        assert mine[-1].step == steps and mine[-1].progress == 1.0
        assert [r.step for r in mine] == sorted({r.step for r in mine})
    # Each report is the mean over the steps since the last one; item-weighted over the epoch
    # they give back the epoch's mean, exactly as the history records it.
    sizes = [min(cfg.batch_size, len(digits.x_train) - (s - 1) * cfg.batch_size) for s in range(1, steps + 1)]
    for epoch in (1, 2):
        mine, before, weighted = [r for r in reports if r.epoch == epoch], 0, 0.0
        for r in mine:
            weighted += r.losses["total"] * sum(sizes[before:r.step])
            before = r.step
        assert weighted / len(digits.x_train) == pytest.approx(history.train["total"][epoch - 1], rel=1e-5)


def test_a_nan_at_one_step_between_reports_is_caught_and_rolled_back(digits, monkeypatch):
    # No report falls due by time: only the epoch's end can see the bad step.
    monkeypatch.setattr(explorer.training.history, "REPORT_SECONDS", math.inf)
    model = _model(digits, "ae")
    steps = math.ceil(len(digits.x_train) / 64)
    snapshots, calls = [], {"n": 0}
    original = model.loss

    def loss_that_breaks(x):
        calls["n"] += 1
        terms = original(x)
        if calls["n"] == steps + 3:  # epoch 2, step 3
            terms["total"] = terms["total"] * float("nan")
        return terms

    model.loss = loss_that_breaks
    with pytest.raises(TrainingDivergedError, match=f"became nan at epoch 2, steps 1-{steps}") as info:
        fit(model, digits, TrainConfig(epochs=4, batch_size=64),
            on_epoch=lambda e, h: snapshots.append({k: v.clone() for k, v in model.state_dict().items()}))
    assert info.value.history.epochs_run == 1 and info.value.history.stop_reason == "diverged"
    restored = model.state_dict()
    assert all(torch.equal(restored[k], snapshots[0][k]) for k in restored)


def test_the_training_job_records_each_report(digits):
    job = TrainingJob(_model(digits), digits, TrainConfig(epochs=2, batch_size=16)).start()
    job.join(60)
    status = job.snapshot()
    assert status.state == "done" and status.epoch == 2 and status.step == status.steps_per_epoch
    assert 2 <= len(status.step_losses["total"]) < 2 * status.steps_per_epoch / 5
    assert all(math.isfinite(v) for v in status.step_losses["total"])
