import contextlib
import io
import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score

from explorer.apps import anomaly as an
from explorer.apps import anomaly_reference as ref
from explorer.apps import detection
from explorer.cli import main
from explorer.errors import DataError, ModelConfigError
from explorer.models import build_model, model_config

# A plain MLP AE: the digits' normal class has about 145 training items, too few for the
# MNIST recipe's VAE to converge in a test's budget.
FAST = an.OneClassConfig(model="ae", hidden=(64,), latent_dim=8, likelihood=None, epochs=40)


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def trained_on_eights(digits):
    return an.run_one_class(digits, ["8"], FAST)


def test_model_trained_on_one_class_scores_it_lower(trained_on_eights):
    _, result = trained_on_eights
    assert result.normal == (8,) and result.n_normal_test + result.n_anomalous_test == 360
    normal, anomalous = result.scores[~result.is_anomaly], result.scores[result.is_anomaly]
    assert np.median(normal) < np.median(anomalous)
    assert result.auroc > 0.9 and result.pca_auroc > 0.9
    assert result.summary()["n_normal_test"] == result.n_normal_test
    assert result.summary()["pca_components"] == 8


def test_pca_baseline_matches_sklearn_by_hand(digits):
    split = an.one_class_split(digits, ["3"])
    scores = an.pca_scores(split.train.x_train, split.x_test, 5)
    train = digits.x_train[digits.y_train == 3].flatten(1).numpy()
    test = digits.x_test.flatten(1).numpy()
    pca = PCA(5).fit(train)
    by_hand = ((test - pca.mean_) - (test - pca.mean_) @ pca.components_.T @ pca.components_) ** 2
    np.testing.assert_allclose(scores, by_hand.sum(axis=1), rtol=1e-4, atol=1e-4)
    assert detection.auroc(scores, split.is_anomaly) == pytest.approx(
        roc_auc_score(digits.y_test.numpy() != 3, by_hand.sum(axis=1)), abs=1e-6)


def test_pca_is_perfect_on_separable_classes():
    # Normal items lie on a line through the origin, anomalies off it: rank-1 PCA is exact.
    t = torch.linspace(-1, 1, 40)[:, None]
    normal = t * torch.tensor([[1.0, 2.0, 0.0]])
    anomalies = normal[:10] + torch.tensor([[0.0, 0.0, 1.0]])
    scores = an.pca_scores(normal, torch.cat([normal[:10], anomalies]), 1)
    truth = np.r_[np.zeros(10, bool), np.ones(10, bool)]
    assert detection.auroc(scores, truth) == 1.0
    curve = detection.roc_curve(scores, truth)
    assert curve.auroc == 1.0 and curve.true_positive_rate[-1] == 1.0
    assert np.all(np.diff(curve.false_positive_rate) >= 0)


def test_precision_recall_at_a_threshold():
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    truth = np.array([0, 0, 0, 1, 0, 1, 1, 1], dtype=bool)
    report = detection.at_threshold(scores, truth, 0.45)  # flags 0.5, 0.6, 0.7, 0.8
    assert (report.true_positives, report.false_positives) == (3, 1)
    assert (report.false_negatives, report.true_negatives) == (1, 3)
    assert report.precision == pytest.approx(0.75) and report.recall == pytest.approx(0.75)
    assert report.f1 == pytest.approx(0.75) and report.false_positive_rate == pytest.approx(0.25)
    nothing = detection.at_threshold(scores, truth, 1.0)
    assert nothing.precision == 0.0 and nothing.recall == 0.0 and nothing.f1 == 0.0


@pytest.mark.parametrize(("target", "expected_fpr"), [(0.0, 0.0), (0.25, 0.25), (0.3, 0.25), (1.0, 1.0)])
def test_threshold_for_a_target_false_positive_rate(target, expected_fpr):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=12)
    truth = np.r_[np.zeros(8, bool), np.ones(4, bool)]
    threshold = detection.threshold_for_fpr(scores, truth, target)
    assert detection.at_threshold(scores, truth, threshold).false_positive_rate == pytest.approx(expected_fpr)


def test_most_anomalous_are_highest_scores(trained_on_eights):
    _, result = trained_on_eights
    top = an.most_anomalous(result, 5)
    assert list(result.scores[top]) == sorted(result.scores, reverse=True)[:5]


def test_neg_elbo_per_item_matches_the_model_loss(digits):
    model = build_model(model_config("vae", digits.item_shape, 4))
    x = digits.x_test[:50]
    per_item = an.neg_elbo_per_item(model, x, n_samples=64)
    model.eval()
    with torch.no_grad():
        mean_loss = np.mean([(lambda t: (t["recon"] + t["kl"]).item())(model.loss(x)) for _ in range(64)])
    assert per_item.shape == (50,)
    assert per_item.mean().item() == pytest.approx(mean_loss, rel=0.01)
    assert torch.equal(per_item, an.neg_elbo_per_item(model, x, n_samples=64))  # fixed seed


def test_comparison_table_has_reference_numbers_and_a_mean(trained_on_eights):
    _, result = trained_on_eights
    mnist_like = replace(result, data_name="mnist")
    rows = ref.comparison_table([mnist_like, replace(mnist_like, normal=(2,), auroc=0.5)])
    assert rows[0]["deep_svdd_auroc"] == pytest.approx(0.939)
    assert rows[1]["dcae_auroc"] == pytest.approx(0.854)
    assert rows[-1]["normal"] == "mean"
    assert rows[-1]["auroc"] == pytest.approx((result.auroc + 0.5) / 2)
    assert ref.comparison_table([result])[-1]["deep_svdd_auroc"] is None  # not MNIST: no reference
    assert np.mean(ref.RUFF_2018_MNIST["deep_svdd"]) == pytest.approx(94.8)


def test_published_aurocs_are_a_typed_record_for_one_mnist_class():
    three = ref.reference_auroc("mnist", (3,))
    assert three == ref.PublishedAuroc(deep_svdd=pytest.approx(0.919), dcae=pytest.approx(0.867))
    # The flat column names of tables and ``anomaly --json`` are built from the record.
    assert three.as_columns() == {"deep_svdd_auroc": three.deep_svdd, "dcae_auroc": three.dcae}
    # The paper has one normal class of full MNIST only.
    for data_name, normal in (("mnist", (3, 5)), ("mnist_sample", (3,)), ("digits", (3,))):
        assert ref.reference_auroc(data_name, normal) == ref.PublishedAuroc(None, None)


def _relabelled(digits, y_train, y_test, **changes):
    return replace(digits, y_train=y_train, y_test=y_test, **changes)


def test_bad_inputs_have_clear_errors(digits):
    with pytest.raises(DataError, match=r"no class '11'; its classes are 0, 1, .*9"):
        an.one_class_split(digits, ["11"])
    with pytest.raises(DataError, match="no labels"):
        an.one_class_split(_relabelled(digits, None, None), ["0"])
    single = _relabelled(digits, torch.zeros_like(digits.y_train), torch.zeros_like(digits.y_test))
    with pytest.raises(DataError, match="single class .* no anomalies"):
        an.one_class_split(single, ["0"])
    few_train = digits.y_train.clone()
    few_train[(few_train == 4).nonzero()[5:, 0]] = 5
    with pytest.raises(DataError, match="Class '4' has 5 training items; at least 20"):
        an.one_class_split(_relabelled(digits, few_train, digits.y_test), ["4"])
    with pytest.raises(DataError, match="leave at least one class out"):
        an.one_class_split(digits, [str(c) for c in range(10)])
    split = an.one_class_split(digits, ["0"])
    wrong_shape = build_model(model_config("ae", (1, 28, 28), 2))
    with pytest.raises(ModelConfigError, match=r"expects items of shape \(1, 28, 28\), got \(1, 8, 8\)"):
        an.score_one_class(wrong_shape, split)
    with pytest.raises(ModelConfigError, match="needs a variational model"):
        an.run_one_class(digits, ["0"], replace(FAST, score="neg_elbo"))


def test_cli_anomaly_json():
    code, out, err = run_cli("anomaly", "--data", "digits", "--normal", "0", "--model", "ae",
                             "--latent-dim", "8", "--epochs", "40", "--quiet", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert 0.5 < report["auroc"] <= 1 and 0.5 < report["pca_auroc"] <= 1
    assert report["normal"] == ["0"] and report["model"] == "ae" and report["latent_dim"] == 8
    assert report["n_normal_test"] + report["n_anomalous_test"] == 360
    assert 0 <= report["false_positive_rate"] <= report["target_fpr"] == 0.05


def test_cli_anomaly_scores_a_checkpoint(trained_on_eights, tmp_path, digits):
    from explorer.config import DataConfig, TrainConfig
    from explorer.store.checkpoint import save_checkpoint

    model, result = trained_on_eights
    save_checkpoint(tmp_path / "ae8", model, DataConfig("digits"), TrainConfig())
    code, out, err = run_cli("anomaly", "--checkpoint", str(tmp_path / "ae8"), "--normal", "8", "--json")
    assert code == 0, err
    assert json.loads(out)["auroc"] == pytest.approx(result.auroc, abs=1e-6)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["anomaly", "--data", "digits", "--normal", "x"], "digits has no class 'x'"),
        (["anomaly", "--data", "digits", "--normal", "0", "--model", "ae", "--score", "neg_elbo"],
         "needs a variational model"),
        (["anomaly", "--checkpoint", "/no/such/folder", "--normal", "0"], "is not a checkpoint folder"),
        (["anomaly", "--data", "digits"], "one of the arguments --normal --all-classes is required"),
        (["anomaly", "--data", "digits", "--normal", "0", "--target-fpr", "2"], "between 0 and 1"),
    ],
)
def test_cli_anomaly_bad_input_exits_2_with_one_line(argv, message):
    code, out, err = run_cli(*argv, "--json")
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_recipe_keeps_its_widths_for_its_model_only():
    assert an.recipe(epochs=3) == replace(an.OneClassConfig(), epochs=3)
    other = an.recipe(model="deep_ae", latent_dim=None)
    assert other.hidden is None and other.likelihood is None
    assert other.latent_dim == an.OneClassConfig.latent_dim
    assert an.recipe(model="ae", hidden=(32,)).hidden == (32,)
    assert an.recipe(model="ae", hidden=None).hidden is None


def test_epochs_follow_the_recipe_steps_unless_given():
    cfg = an.OneClassConfig(steps=1400, batch_size=128)
    assert an.resolve_epochs(cfg, 5923).epochs == 30  # MNIST zeros: 47 steps per epoch
    assert an.resolve_epochs(cfg, 145).epochs == 700  # a digits class: 2 steps per epoch
    assert an.resolve_epochs(replace(cfg, epochs=5), 145).epochs == 5
