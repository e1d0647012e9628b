"""Each autoencoder family shows its defining property on small data, not only that it runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

from explorer.apps.metrics import reconstruction_sse
from explorer.config import TrainConfig
from explorer.latent import encode_all
from explorer.models import MODELS, build_model, model_config
from explorer.models.regularizers import corrupt, jacobian_frobenius
from explorer.training.train import fit


def trained(name: str, data, latent_dim: int, epochs: int, lr: float = 2e-3, **overrides):
    likelihood = MODELS[name].preset.get("likelihood", data.likelihood)
    model = build_model(model_config(name, data.item_shape, latent_dim, likelihood=likelihood, **overrides))
    fit(model, data, TrainConfig(epochs=epochs, batch_size=64, lr=lr))
    return model.eval()


def test_every_family_is_listed_and_builds(digits):
    assert {"ae", "vae", "conv_ae", "conv_vae", "linear_ae", "deep_ae", "sparse_ae", "denoising_ae",
            "contractive_ae", "masked_ae", "beta_vae", "lstm_ae", "lstm_vae"} <= set(MODELS)
    for name in (n for n, spec in MODELS.items() if spec.fits("image")):
        model = build_model(model_config(name, digits.item_shape, 3))
        assert model.decode(model.encode(digits.x_test[:2])).shape == (2, *digits.item_shape)


def test_explicit_options_override_the_family_preset():
    cfg = model_config("denoising_ae", (1, 8, 8), 2, noise_level=0.5, beta=None)
    assert cfg.noise == "gaussian" and cfg.noise_level == 0.5


def test_linear_ae_spans_the_pca_subspace(digits):
    k = 5
    model = trained("linear_ae", digits, k, epochs=200, lr=5e-3)
    x_train = digits.x_train.flatten(1).numpy()
    pca = PCA(k).fit(x_train)
    decoder_weight = model.decoder.net[-1].weight.detach().numpy()  # (64, k)
    angles = subspace_angles(decoder_weight, pca.components_.T)
    assert np.degrees(angles).max() < 5
    x_test = digits.x_test.flatten(1).numpy()
    pca_sse = ((pca.inverse_transform(pca.transform(x_test)) - x_test) ** 2).sum(axis=1).mean()
    ae_sse = reconstruction_sse(model, digits.x_test).mean().item()
    assert ae_sse == pytest.approx(pca_sse, rel=0.02)


def test_overcomplete_ae_copies_and_denoising_restores_a_useful_code(digits):
    clean = digits.x_test
    noisy = corrupt(clean, "gaussian", 0.3, torch.Generator().manual_seed(1)).clamp(0, 1)
    noise_sse = (noisy - clean).pow(2).flatten(1).sum(dim=1).mean()
    plain = trained("ae", digits, 128, epochs=60, hidden=())
    denoise = trained("denoising_ae", digits, 128, epochs=60, hidden=(), noise_level=0.3)
    with torch.no_grad():
        copied, denoised = plain.reconstruct(noisy), denoise.reconstruct(noisy)
    sse = lambda a, b: (a - b).pow(2).flatten(1).sum(dim=1).mean()  # noqa: E731
    # 128 units for 64 pixels: the plain AE reproduces what it is given, noise included ...
    assert sse(copied, clean) > 0.6 * noise_sse
    assert sse(plain.reconstruct(clean), clean) < 0.05 * noise_sse
    # ... while denoising training makes the same architecture keep only the digit.
    assert sse(denoised, clean) < 0.7 * sse(copied, clean)


@pytest.mark.parametrize(("kind", "level"), [("gaussian", 0.4), ("masking", 0.4), ("salt_pepper", 0.2)])
def test_denoising_ae_beats_its_noisy_input(digits, kind, level):
    model = trained("denoising_ae", digits, 32, epochs=40, noise=kind, noise_level=level)
    clean = digits.x_test
    noisy = corrupt(clean, kind, level, torch.Generator().manual_seed(1))
    with torch.no_grad():
        denoised = model.reconstruct(noisy)
    noisy_error = (noisy - clean).pow(2).flatten(1).sum(dim=1).mean()
    denoised_error = (denoised - clean).pow(2).flatten(1).sum(dim=1).mean()
    assert denoised_error < 0.6 * noisy_error


def test_sparse_ae_hits_its_target_rate(digits):
    sparse = trained("sparse_ae", digits, 64, epochs=40)
    unpenalized = trained("sparse_ae", digits, 64, epochs=40, sparsity_kl_weight=0.0)
    codes_sparse = encode_all(sparse, digits.x_test)
    codes_free = encode_all(unpenalized, digits.x_test)
    assert codes_sparse.mean().item() == pytest.approx(0.05, abs=0.03)
    near_zero = lambda z: (z < 0.05).float().mean().item()  # noqa: E731
    assert near_zero(codes_sparse) > near_zero(codes_free) + 0.2


def test_contractive_ae_has_a_flatter_encoder(digits):
    plain = trained("ae", digits, 8, epochs=40, hidden=(128,))
    contractive = trained("contractive_ae", digits, 8, epochs=40, hidden=(128,))
    x = digits.x_test[:200]
    jac_plain = jacobian_frobenius(plain.encode, x).mean().item()
    jac_contractive = jacobian_frobenius(contractive.encode, x).mean().item()
    assert jac_contractive < 0.5 * jac_plain
    sse_plain = reconstruction_sse(plain, digits.x_test).mean().item()
    assert reconstruction_sse(contractive, digits.x_test).mean().item() < 1.5 * sse_plain


def test_larger_beta_gives_lower_kl_and_a_posterior_closer_to_the_prior(digits):
    from explorer.apps.regularity import aggregate_posterior
    from explorer.training.train import evaluate_losses

    results = {}
    for beta in (0.5, 4.0):
        model = trained("beta_vae", digits, 4, epochs=30, beta=beta)
        mu, logvar = encode_all(model, digits.x_test, with_logvar=True)
        norm, variance = aggregate_posterior(mu.numpy(), logvar.numpy())
        results[beta] = (evaluate_losses(model, digits.x_test)["kl"], norm + abs(variance - 1))
    assert results[4.0][0] < 0.7 * results[0.5][0]
    assert results[4.0][1] < results[0.5][1]


def test_masked_ae_fills_the_patch(digits):
    model = trained("masked_ae", digits, 16, epochs=40, channels=(32, 64))
    clean = digits.x_test
    from explorer.models.regularizers import patch_mask

    mask = patch_mask(clean, 0.4, torch.Generator().manual_seed(2))
    holed = clean * (1 - mask)
    with torch.no_grad():
        filled = model.reconstruct(holed)
    inside = lambda a: ((a - clean) * mask).pow(2).flatten(1).sum(dim=1).mean().item()  # noqa: E731
    assert inside(filled) < 0.6 * inside(holed)


def test_sequence_ae_reconstructs_and_separates_frequencies():
    from sklearn.neighbors import KNeighborsClassifier

    from explorer.config import DataConfig
    from explorer.data import load_dataset

    sines = load_dataset(DataConfig("sines", max_samples=1200))
    # A constant 5e-3 from whatever initialisation the tests before left behind missed the
    # bound now and then. Clipped steps warmed up to 3e-3 pass seeds 0-4 x {1, 2} threads
    # (error ratio 0.02-0.23, one outlier at 0.27; a 5e-3 peak reached 0.36, a 2e-3 one 0.30);
    # the fixed seed (0.04) no longer depends on the tests that ran before. One thread: an
    # LSTM step is many small ops, and waking a second (passively waiting) OpenMP thread for
    # each costs more than it gives: 21 s against 76 s for these 60 epochs.
    torch.manual_seed(0)
    model = build_model(model_config("lstm_ae", sines.item_shape, 4, likelihood=sines.likelihood))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fit(model, sines, TrainConfig(epochs=60, batch_size=32, lr=3e-3, grad_clip=1.0, schedule="one_cycle"))
    finally:
        torch.set_num_threads(threads)
    model.eval()
    x = sines.x_test
    baseline = (x - sines.x_train.mean(dim=0)).pow(2).flatten(1).sum(dim=1).mean().item()
    assert reconstruction_sse(model, x).mean().item() < 0.3 * baseline
    knn = KNeighborsClassifier(5).fit(encode_all(model, sines.x_train).numpy(), sines.y_train.numpy())
    assert knn.score(encode_all(model, x).numpy(), sines.y_test.numpy()) > 0.8


def test_sequence_models_refuse_images():
    from explorer.errors import ModelConfigError

    with pytest.raises(ModelConfigError, match="Sequence models need series"):
        build_model(model_config("lstm_ae", (1, 8, 8), 2))
