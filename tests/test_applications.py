"""Neighbours, latent arithmetic and denoising: the library behind the application pages."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.apps.arithmetic import analogy, class_means, group_mean
from explorer.apps.denoise import best_filter, classic_filter, denoise, psnr
from explorer.apps.neighbours import nearest, neighbour_report
from explorer.config import TrainConfig
from explorer.errors import DataError
from explorer.models import build_model, model_config
from explorer.training.train import fit


def blobs(n_per_class: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 0.0]])
    y = np.repeat(np.arange(3), n_per_class)
    return centres[y] + rng.normal(0, 0.5, (len(y), 3)), y


def test_nearest_orders_by_distance_and_skips_the_item_itself():
    z = np.array([[0.0, 0.0], [3.0, 0.0], [1.0, 0.0], [0.0, 2.0], [10.0, 10.0]])
    order, distance = nearest(z, 0, 3)
    assert order.tolist() == [2, 3, 1]
    assert distance.tolist() == [1.0, 2.0, 3.0]
    assert nearest(z, 4, 10)[0].tolist() == [1, 3, 2, 0]  # k capped at the others
    with pytest.raises(DataError, match="between 0 and 4"):
        nearest(z, 5, 2)


def test_neighbour_report_on_separated_classes():
    z_train, y_train = blobs(seed=0)
    z_test, y_test = blobs(seed=1)
    # As "inputs", the codes padded with noise dimensions: the baselines see the same classes.
    pad = np.random.default_rng(2).normal(0, 0.1, (len(z_train), 5))
    x_train, x_test = np.hstack([z_train, pad]), np.hstack([z_test, pad])
    report = neighbour_report(z_train, y_train, z_test, y_test, k=5, x_train=x_train, x_test=x_test)
    assert report.knn_accuracy == 1.0
    assert np.array_equal(report.confusion, np.diag([40, 40, 40]))
    assert report.clustering["ari"] == pytest.approx(1.0)
    assert report.knn_accuracy_raw == 1.0 and report.knn_accuracy_pca == 1.0


@pytest.mark.parametrize("baselines", [True, False])
def test_neighbour_report_tells_its_progress_in_order(baselines):
    z_train, y_train = blobs(seed=0)
    z_test, y_test = blobs(seed=1)
    inputs = {"x_train": z_train, "x_test": z_test} if baselines else {}
    heard = []
    neighbour_report(z_train, y_train, z_test, y_test, k=3, progress=lambda f, text: heard.append((f, text)),
                     **inputs)
    fractions = [f for f, _ in heard]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and heard[-1] == (1.0, "done")
    assert any("raw inputs" in text for _, text in heard) is baselines


def test_confusion_counts_each_mistake_where_it_happened():
    z_train, y_train = blobs(seed=0)
    z_test, y_test = blobs(seed=1)
    y_test = y_test.copy()
    y_test[0] = 2  # an item that sits in class 0's blob but is labelled 2
    report = neighbour_report(z_train, y_train, z_test, y_test, k=3)
    assert report.confusion[2, 0] == 1 and report.confusion.sum() == len(y_test)
    assert report.knn_accuracy == pytest.approx(1 - 1 / len(y_test))


@pytest.mark.parametrize(
    ("y_train", "y_test", "k", "message"),
    [
        (None, np.zeros(4), 1, "no labels"),
        (np.array([0, 1, 0, 1]), np.zeros(4, dtype=int), 1, "single class"),
        (np.array([0, 1, 0, 1]), np.array([0, 1, 0, 1]), 4, "more than 4 training items"),
    ],
)
def test_neighbour_report_rejects_data_it_cannot_score(y_train, y_test, k, message):
    z = np.random.default_rng(0).normal(size=(4, 2))
    with pytest.raises(DataError, match=message):
        neighbour_report(z, y_train, z, y_test, k=k)


def test_analogy_moves_an_items_style_to_another_class():
    rng = np.random.default_rng(0)
    offsets = rng.normal(0, 5, (4, 6))
    style = rng.normal(0, 1, (200, 6))
    style -= style.mean(axis=0)  # zero-mean style within each class below
    y = np.repeat(np.arange(4), 50)
    for c in range(4):
        style[y == c] -= style[y == c].mean(axis=0)
    z = offsets[y] + style
    item = 7  # class 0
    moved = analogy(z, [item], np.flatnonzero(y == 0), np.flatnonzero(y == 3))
    np.testing.assert_allclose(moved, style[item] + offsets[3], atol=1e-9)
    means = class_means(z, y)
    np.testing.assert_allclose(means[2], offsets[2], atol=1e-9)


def test_groups_must_name_existing_items():
    z = np.zeros((5, 2))
    with pytest.raises(DataError, match="Group B is empty"):
        analogy(z, [0], [], [1])
    with pytest.raises(DataError, match="outside 0..4"):
        group_mean(z, [7], "C")


def test_psnr_matches_its_definition():
    clean = np.zeros((2, 1, 4, 4))
    estimate = clean + np.array([0.1, 0.01])[:, None, None, None]
    np.testing.assert_allclose(psnr(clean, estimate), [20.0, 40.0])
    assert psnr(clean, clean - 1.0)[0] > 100  # estimates are clipped to [0, 1] first


def test_classic_filters_work_within_each_image():
    images = np.random.default_rng(0).random((3, 1, 8, 8))
    for kind, size in (("median", 3), ("gaussian", 1.0)):
        batch = classic_filter(images, kind, size)
        one_by_one = np.concatenate([classic_filter(images[i:i + 1], kind, size) for i in range(3)])
        np.testing.assert_allclose(batch, one_by_one)
    size, best = best_filter(images, images, "gaussian")
    assert size == 0.5  # on noise-free images, the lightest smoothing is best


def test_a_denoising_autoencoder_beats_its_noisy_input_and_a_plain_one(digits):
    def trained(name: str):
        cfg = model_config(name, digits.item_shape, 16, hidden=(128,), noise_level=0.3)
        model = build_model(cfg)
        fit(model, digits, TrainConfig(epochs=60, batch_size=64, lr=2e-3))
        return model.eval()

    clean = digits.x_test
    denoiser, plain = trained("denoising_ae"), trained("ae")
    result = denoise(denoiser, clean, "gaussian", 0.3, seed=1)
    assert result.psnr["autoencoder"] > result.psnr["noisy input"] + 3
    assert result.psnr["autoencoder"] > denoise(plain, clean, "gaussian", 0.3, seed=1).psnr["autoencoder"]
    assert set(result.psnr) == {"noisy input", "autoencoder", *result.filtered}
    again = denoise(denoiser, clean, "gaussian", 0.3, seed=1)
    np.testing.assert_array_equal(again.noisy, result.noisy)  # the seed fixes the noise
    assert torch.is_tensor(clean) and result.denoised.shape == tuple(clean.shape)


def test_inpainting_keeps_known_pixels_and_fills_the_square(digits):
    from explorer.apps.denoise import inpaint, square_mask

    cfg = model_config("masked_ae", digits.item_shape, 16, channels=(16, 32), noise_level=0.5)
    model = build_model(cfg)
    fit(model, digits, TrainConfig(epochs=40, batch_size=64, lr=2e-3))
    model.eval()
    errors_filled, errors_blank = [], []
    for image in digits.x_test[:50]:
        mask = square_mask(tuple(image.shape), 2, 2, 4)
        masked, filled = inpaint(model, image, mask)
        outside = (1 - mask).bool().numpy()
        np.testing.assert_array_equal(filled[outside], image.numpy()[outside])
        inside = mask.bool().numpy()
        errors_filled.append(((filled - image.numpy())[inside] ** 2).sum())
        errors_blank.append(((masked - image.numpy())[inside] ** 2).sum())
    assert np.mean(errors_filled) < 0.5 * np.mean(errors_blank)  # far better than leaving it blank
    with pytest.raises(ValueError, match="does not fit"):
        square_mask((1, 8, 8), 6, 0, 4)
