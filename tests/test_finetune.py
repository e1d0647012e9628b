"""Pretraining then fine-tuning with few labels: the labelled subset, what each method may
and may not change, and that a pretrained encoder pays off when labels are scarce."""

from __future__ import annotations

import json

import pytest
import torch

from explorer.apps.finetune import (
    FinetuneConfig,
    classifier_confusion,
    label_efficiency,
    label_efficiency_report,
    labelled_subset,
    train_classifier,
)
from explorer.config import TrainConfig
from explorer.data import Dataset
from explorer.errors import DataError
from explorer.models import build_model, model_config
from explorer.training.train import fit


@pytest.fixture(scope="module")
def pretrained(digits):
    torch.manual_seed(0)  # a module fixture is built before the autouse seed of its first test
    model = build_model(model_config("ae", digits.item_shape, 16, likelihood=digits.likelihood))
    fit(model, digits, TrainConfig(epochs=40, batch_size=64, lr=2e-3))
    return model.eval()


def test_subset_is_class_balanced_seeded_and_nested(digits):
    small, large = labelled_subset(digits, 5, seed=3), labelled_subset(digits, 20, seed=3)
    assert len(set(small.tolist())) == len(small) == 5 * digits.n_classes
    assert torch.bincount(digits.y_train[small]).tolist() == [5] * digits.n_classes
    assert torch.equal(small, labelled_subset(digits, 5, seed=3))
    assert set(small.tolist()) <= set(large.tolist())
    assert not torch.equal(small, labelled_subset(digits, 5, seed=4))


def test_too_few_items_in_a_class_names_the_class(digits):
    keep = (digits.y_train != 7) | (torch.arange(len(digits.y_train)) % 40 == 0)
    thin = Dataset("thin", "image", digits.x_train[keep], digits.y_train[keep], digits.x_test,
                   digits.y_test)
    n_sevens = int((thin.y_train == 7).sum())
    with pytest.raises(DataError, match=f"Class '7' has only {n_sevens} training items"):
        labelled_subset(thin, n_sevens + 1)
    with pytest.raises(DataError, match=f"Class '7' has only {n_sevens} training items"):
        label_efficiency(build_model(model_config("ae", thin.item_shape, 4)), thin, [1, n_sevens + 1])


def test_frozen_keeps_the_encoder_bit_exact_and_fine_tuning_changes_it(digits):
    # A conv encoder has BatchNorm: its running statistics would drift if the frozen
    # encoder ran in training mode, so bit-exact buffers also check the mode.
    model = build_model(model_config("conv_ae", digits.item_shape, 8)).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cfg = FinetuneConfig(labels_per_class=10, min_steps=30, epochs=0)
    frozen = train_classifier(model, digits, "frozen", cfg).classifier.autoencoder.state_dict()
    tuned = train_classifier(model, digits, "finetuned", cfg).classifier.autoencoder.state_dict()
    assert all(torch.equal(frozen[k], v) for k, v in before.items())
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())
    changed = [k for k, v in before.items() if not torch.equal(tuned[k], v)]
    assert "encoder.net.0.weight" in changed and "encoder.net.1.running_mean" in changed
    assert not any(k.startswith("decoder.") for k in changed)


def test_training_is_reproducible_and_leaves_the_global_rng_alone(pretrained, digits):
    cfg = FinetuneConfig(labels_per_class=5, min_steps=50)
    state = torch.random.get_rng_state()
    first = train_classifier(pretrained, digits, "finetuned", cfg)
    assert torch.equal(torch.random.get_rng_state(), state)
    second = train_classifier(pretrained, digits, "finetuned", cfg)
    assert first.accuracy == second.accuracy


def test_pretrained_encoder_beats_scratch_with_five_labels_per_class(pretrained, digits):
    rows = label_efficiency(pretrained, digits, [5], FinetuneConfig(seed=0))
    accuracy = {r.method: r.accuracy for r in rows}
    assert accuracy["frozen"] > accuracy["scratch"] + 0.02
    assert accuracy["finetuned"] > accuracy["scratch"] + 0.02


def test_scratch_accuracy_grows_with_labels_and_the_report_is_json(pretrained, digits):
    calls = []
    report = label_efficiency_report(pretrained, digits, [100, 2, 20], FinetuneConfig(),
                                     methods=("scratch",), on_progress=lambda *a: calls.append(a))
    rows = report["rows"]
    assert [r["labels_per_class"] for r in rows] == [2, 20, 100]
    accuracy = [r["accuracy"] for r in rows]
    assert accuracy[0] < accuracy[1] < accuracy[2]
    assert [(done, total) for done, total, _ in calls] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert json.loads(json.dumps(report))["rows"] == rows
    assert report["table"].splitlines()[0].split() == ["labels/class", "scratch"]


def test_confusion_matrix_counts_the_test_split(pretrained, digits):
    result = train_classifier(pretrained, digits, "frozen", FinetuneConfig(labels_per_class=10))
    matrix = classifier_confusion(result.classifier, digits)
    assert matrix.shape == (digits.n_classes, digits.n_classes)
    assert matrix.sum(axis=1).tolist() == torch.bincount(digits.y_test).tolist()
    assert matrix.trace() / matrix.sum() == pytest.approx(result.accuracy)


def test_a_stop_ends_the_comparison_between_classifiers_with_the_rows_so_far(pretrained, digits):
    done = []
    rows = label_efficiency(pretrained, digits, [2, 5], FinetuneConfig(min_steps=20), methods=("scratch",),
                            on_progress=lambda n, total, msg: done.append(n),
                            should_stop=lambda: len(done) > 1)  # after the start and one classifier
    assert [r.labels_per_class for r in rows] == [2]  # the first finished, the second never began
