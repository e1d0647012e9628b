import numpy as np
import pytest
import torch

from explorer.apps.regularity import (
    aggregate_posterior,
    class_mix_gap,
    judged_valid,
    midpoint_validity,
    path_jump,
)
from explorer.config import ModelConfig
from explorer.models import build_model


def test_aggregate_posterior_adds_posterior_variance():
    rng = np.random.default_rng(0)
    mu = rng.normal(0, 0.6, (5000, 3))
    logvar = np.full_like(mu, np.log(0.64))
    norm, variance = aggregate_posterior(mu, logvar)
    assert norm < 0.05
    assert variance == pytest.approx(0.36 + 0.64, abs=0.03)


def test_judged_valid_counts_confident_items():
    class Judge:
        def predict_proba(self, x):
            return np.where(x[:, :1] > 0, [[0.95, 0.05]], [[0.5, 0.5]])

    items = np.array([[1.0], [1.0], [-1.0], [-1.0]])
    assert judged_valid(Judge(), items) == 0.5


class SignJudge:
    """Class 1 for a positive first value, class 0 otherwise, always sure."""

    classes_ = np.array([0, 1])

    def predict_proba(self, x):
        positive = (x[:, 0] > 0).astype(float)
        return np.stack([1 - positive, positive], axis=1)


def test_class_mix_gap_measures_how_much_of_the_data_the_prior_misses():
    labels = np.array([0, 1] * 50)
    balanced = np.array([[-1.0], [1.0]] * 20)
    one_sided = np.ones((40, 1))
    assert class_mix_gap(SignJudge(), balanced, labels) == pytest.approx(0.0)
    # Every decode is a confident class-1 item, yet half of the data's mass is never reached.
    assert class_mix_gap(SignJudge(), one_sided, labels) == pytest.approx(0.5)
    three_to_one = np.array([[1.0], [1.0], [1.0], [-1.0]] * 10)
    assert class_mix_gap(SignJudge(), three_to_one, labels) == pytest.approx(0.25)


def test_path_jump_is_one_for_a_linear_decoder():
    model = build_model(ModelConfig("ae", (4,), 2, hidden=(8,), likelihood="gaussian"))
    # A linear decoder turns equal steps in z into equal steps in x.
    model.decoder.net = torch.nn.Sequential(torch.nn.Linear(2, 4))
    codes = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    assert path_jump(model, codes) == pytest.approx(1.0, abs=1e-4)


def test_midpoints_between_two_clusters_fall_in_the_gap():
    model = build_model(ModelConfig("ae", (2,), 2, hidden=(8,), likelihood="gaussian"))
    model.decoder.net = torch.nn.Identity()  # decoded item = code

    class SureAwayFromTheGap:  # "a valid item" lies more than 2 from the gap at x = 0
        def predict_proba(self, x):
            sure = np.abs(x[:, 0]) > 2
            return np.stack([np.where(sure, 1.0, 0.5), np.where(sure, 0.0, 0.5)], axis=1)

    rng = np.random.default_rng(0)
    side = rng.choice([-1.0, 1.0], 400)
    codes = np.stack([side * 5 + rng.normal(0, 0.3, 400), rng.normal(0, 1, 400)], axis=1).astype(np.float32)
    share = midpoint_validity(model, codes, SureAwayFromTheGap(), n_paths=2000, seed=1)
    assert share == pytest.approx(0.5, abs=0.04)  # pairs from the same cluster, about half
    one_side = codes[side > 0]
    assert midpoint_validity(model, one_side, SureAwayFromTheGap(), n_paths=200) == 1.0


def test_clustering_scores_find_separated_blobs():
    from sklearn.datasets import make_blobs

    from explorer.apps.metrics import clustering_scores, knn_accuracy

    z, y = make_blobs(600, n_features=4, centers=3, cluster_std=0.5, random_state=0)
    scores = clustering_scores(z, y)
    assert scores["ari"] > 0.95 and scores["nmi"] > 0.95 and scores["gmm_ari"] > 0.95
    shuffled = np.random.default_rng(0).permutation(y)
    assert clustering_scores(z, shuffled)["ari"] < 0.05
    assert knn_accuracy(z[:400], y[:400], z[400:], y[400:]) > 0.95


def test_better_of_follows_each_measures_direction():
    from explorer.apps.regularity import BETTER, RegularityReport, better_of

    assert better_of("mean code variance", 1.08, 26.7) == 0  # nearer 1, the prior's
    assert better_of("|mean code|", 0.5, -0.1) == 1  # nearer 0
    assert better_of("path midpoints judged valid", 0.60, 0.71) == 1  # higher
    assert better_of("largest / mean step on paths", 2.45, 1.51) == 1  # nearer 1
    assert better_of("prior samples judged valid", 0.661, 0.656) is None  # within the tolerance
    assert better_of("prior samples' class mix off the data's", 0.40, 0.09) == 1  # lower
    full_report = RegularityReport(0.1, 1.0, 1.5, prior_valid=0.6, midpoint_valid=0.6,
                                   prior_class_gap=0.1)
    assert set(BETTER) == {row[0] for row in full_report.as_rows()}  # every row has a direction
