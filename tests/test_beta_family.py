"""The beta scrubber's family: what the KL weight does, measured on the shipped models, and the
pieces it is built from (Procrustes turns, the aggregate posterior's gap to N(0, I))."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from explorer.apps.beta_family import (
    BETA_FAMILY_DIR,
    FAMILY_BETAS,
    FAMILY_FILE,
    aligned_maps,
    prior_gap,
    procrustes_rotations,
    read_family,
    read_family_report,
    reference_member,
)
from explorer.apps.metrics import evaluate_losses
from explorer.cli import main as cli
from explorer.config import DataConfig
from explorer.data import load_dataset
from explorer.data.sample import PRETRAINED_DIR
from explorer.errors import CheckpointError
from explorer.latent import encode_all
from explorer.store.checkpoint import load_checkpoint

FAMILY = PRETRAINED_DIR / BETA_FAMILY_DIR


@pytest.fixture(scope="module")
def shipped():
    """Each shipped member's model with its codes of the 4,000-image sample, encoded now."""
    sample = load_dataset(DataConfig("mnist_sample"))
    members = read_family(FAMILY)
    models = [load_checkpoint(m.folder).model for m in members]
    encoded = [encode_all(model, sample.x_test, with_logvar=True) for model in models]
    return sample, members, models, encoded


def test_the_zoo_ships_the_whole_family_in_order(shipped):
    _, members, models, _ = shipped
    assert tuple(m.beta for m in members) == FAMILY_BETAS
    assert {m.cfg.beta for m in models} == set(FAMILY_BETAS)
    assert all(m.cfg.latent_dim == 2 and m.cfg.hidden == (256,) for m in models)


def test_stored_codes_are_the_shipped_weights_codes(shipped):
    _, members, _, encoded = shipped
    for member, (mu, logvar) in zip(members, encoded):
        np.testing.assert_allclose(member.codes, mu.numpy(), atol=1e-5)
        np.testing.assert_allclose(member.logvar, logvar.numpy(), atol=1e-5)


def test_a_higher_beta_pulls_the_codes_toward_the_prior(shipped):
    _, members, _, encoded = shipped
    gaps = [prior_gap(mu.numpy(), logvar.numpy()) for mu, logvar in encoded]
    # Measured at build time: 36.4, 3.6, 0.49, 0.14, 0.004 nats from beta 0 to 4.
    assert all(later < earlier for earlier, later in zip(gaps, gaps[1:])), gaps
    assert gaps[0] > 20 * gaps[-1] and gaps[-1] < 0.2, gaps


def test_a_higher_beta_costs_reconstruction(shipped):
    sample, _, models, _ = shipped
    nll = [evaluate_losses(model, sample.x_test, seed=0)["recon"] for model in models]
    # Measured: 145.1, 144.9, 145.6, 147.1, 151.1 nats. Beta 0's noisy code, free to grow its
    # posterior variance or not, costs about what beta 0.1 does; from there on it only rises.
    assert nll[-1] > max(nll[:-1]) + 3, nll
    rising = nll[FAMILY_BETAS.index(0.1):]
    assert all(later > earlier for earlier, later in zip(rising, rising[1:])), nll


def test_the_stored_measures_tell_the_same_story(shipped):
    _, members, _, _ = shipped
    reports = read_family_report(FAMILY, members)
    assert [r.beta for r in reports] == list(FAMILY_BETAS)
    kl = [r.kl for r in reports]
    assert all(later < earlier for earlier, later in zip(kl, kl[1:])), kl
    # The prior reaches the classes as often as the data has them (class mix gap 0.41 at
    # beta 0, 0.19 at beta 4) and paths between codes change more evenly (1.57 to 1.20, with
    # beta 0.5 and 1 tied at 1.30).
    gap = [r.regularity.prior_class_gap for r in reports]
    assert all(later < earlier for earlier, later in zip(gap, gap[1:])), gap
    jump = [r.regularity.path_jump for r in reports]
    assert all(later < earlier + 0.01 for earlier, later in zip(jump, jump[1:])), jump
    assert jump[-1] < jump[0] - 0.2, jump


def test_procrustes_undoes_a_turn_and_a_mirror_without_rescaling():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(500, 2)) * [3.0, 1.0]
    angle = 1.1
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    mirrored = reference @ turn @ np.diag([1.0, -1.0]) * 0.25  # smaller, like a higher beta's map
    rotations = procrustes_rotations([reference, mirrored], reference=0)
    np.testing.assert_allclose(rotations[1] @ rotations[1].T, np.eye(2), atol=1e-10)
    np.testing.assert_allclose(mirrored @ rotations[1], reference * 0.25, atol=1e-10)
    np.testing.assert_allclose(rotations[0], np.eye(2), atol=1e-10)


def test_aligned_maps_keep_each_members_spread(shipped):
    _, members, _, _ = shipped
    aligned, _ = aligned_maps(members)
    for member, points in zip(members, aligned):
        np.testing.assert_allclose(np.linalg.norm(points, axis=1), np.linalg.norm(member.codes, axis=1),
                                   rtol=1e-5, atol=1e-5)
    # Turned onto beta 1, the neighbours of the textbook VAE sit nearer its map than before.
    ref = reference_member(members)
    for member, points in zip(members, aligned):
        before = np.linalg.norm(member.codes - members[ref].codes)
        assert np.linalg.norm(points - members[ref].codes) <= before + 1e-3


def test_prior_gap_is_zero_for_the_prior_and_grows_with_the_spread():
    rng = np.random.default_rng(0)
    assert prior_gap(rng.normal(size=(200_000, 2)), None) < 1e-3
    scale = 3.0
    # For N(0, s^2 I) in d = 2 the gap is 0.5 * (2 s^2 - 2 - 2 log s^2).
    expected = 0.5 * (2 * scale**2 - 2 - 2 * np.log(scale**2))
    assert prior_gap(scale * rng.normal(size=(200_000, 2)), None) == pytest.approx(expected, rel=0.01)
    # The posterior's own spread counts: means all at 0 with unit variance are the prior.
    assert prior_gap(np.zeros((1000, 2)), np.zeros((1000, 2))) == pytest.approx(0.0, abs=1e-3)


def _copy_family(tmp_path, betas=(0.0, 1.0)):
    folder = tmp_path / "family"
    for member in read_family(FAMILY):
        if member.beta in betas:
            shutil.copytree(member.folder, folder / member.folder.name)
    return folder


def test_a_family_that_is_not_one_is_refused_clearly(tmp_path):
    folder = _copy_family(tmp_path, betas=(1.0,))
    with pytest.raises(CheckpointError, match="needs two or more"):
        read_family(folder)
    other = tmp_path / "other"
    shutil.copytree(folder, other)
    shutil.copytree(PRETRAINED_DIR / "mnist-ae-2d", other / "mnist-ae-2d")
    with pytest.raises(CheckpointError, match="KL weight beta|more than beta"):
        read_family(other)
    with pytest.raises(CheckpointError, match="no model family"):
        read_family(tmp_path / "missing")


def test_stale_or_damaged_measures_are_refused(tmp_path):
    folder = _copy_family(tmp_path)
    members = read_family(folder)
    assert read_family_report(folder, members) is None
    stored = json.loads((FAMILY / FAMILY_FILE).read_text())
    (folder / FAMILY_FILE).write_text(json.dumps(stored))  # five members' measures for two
    with pytest.raises(CheckpointError, match="other members"):
        read_family_report(folder, members)
    (folder / FAMILY_FILE).write_text("{not json")
    with pytest.raises(CheckpointError, match="not a family's measures"):
        read_family_report(folder, members)


def test_cli_reports_the_family_as_json(capsys):
    assert cli(["beta", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["measured"] == "stored" and result["reference_beta"] == 1.0
    assert [m["beta"] for m in result["members"]] == list(FAMILY_BETAS)
    for member in result["members"]:
        rotation = np.array(member["rotation"])
        np.testing.assert_allclose(rotation @ rotation.T, np.eye(2), atol=1e-5)
        assert {"recon_sse", "kl", "prior_gap", "active_units", "regularity"} <= set(member)


def test_cli_measures_a_family_without_stored_measures(tmp_path, capsys):
    folder = _copy_family(tmp_path)
    assert cli(["beta", str(folder), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["measured"] == "now"
    first, second = result["members"]
    assert second["prior_gap"] < first["prior_gap"]
    assert second["regularity"]["prior_class_gap"] < first["regularity"]["prior_class_gap"] - 0.1


def test_cli_says_what_is_wrong_with_a_bad_folder(tmp_path, capsys):
    assert cli(["beta", str(tmp_path / "missing")]) == 2
    assert "no model family" in capsys.readouterr().err


def test_prior_draws_are_the_same_for_every_member(shipped):
    from explorer.latent import prior_samples

    _, _, models, _ = shipped
    draws = [prior_samples(model, 50, 1.0, seed=3) for model in models]
    assert all(torch.equal(draws[0], d) for d in draws[1:])
