"""Make any autoencoder generative: besides the prior N(0, I), sample codes from an ex-post
density fitted to the codes of the training data (a Gaussian mixture, as in Ghosh et al.
2020, "From Variational to Deterministic Autoencoders"), and judge each sampler's decodes.

A plain AE's codes do not follow N(0, I), so the prior samples land in empty space; a
mixture fitted to where the codes really are samples where the decoder was trained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.apps.regularity import class_mix_gap, judged_valid
from explorer.latent import decode
from explorer.models import Autoencoder

SAMPLERS = ("prior", "gmm")
GMM_COMPONENTS = 10  # Ghosh et al.'s choice for MNIST


@dataclass(frozen=True)
class SamplerReport:
    """How one sampler's decoded samples look to a judge of real items."""

    name: str
    class_mix: float | None  # total variation from the data's class mix; 0 is ideal
    confident: float  # share the judge assigns to one class with >= 90 % confidence
    frechet: float  # Fréchet distance to real items in the judge's feature space; 0 is ideal


def fit_code_density(codes: np.ndarray, n_components: int = GMM_COMPONENTS, seed: int = 0):
    """A full-covariance Gaussian mixture over the codes (scikit-learn), for sampling."""
    from sklearn.mixture import GaussianMixture

    n_components = min(n_components, len(codes))
    return GaussianMixture(n_components, covariance_type="full", reg_covar=1e-4,
                           random_state=seed).fit(codes)


def sample_codes(model: Autoencoder, sampler: str, n: int, train_codes: np.ndarray | None = None,
                 seed: int = 0) -> np.ndarray:
    """``n`` codes from the model's prior or from a mixture fitted to ``train_codes``."""
    if sampler == "prior":
        return model.sample_prior(n, generator=torch.Generator().manual_seed(seed)).numpy()
    if sampler == "gmm":
        if train_codes is None:
            raise ValueError("the gmm sampler needs the training codes it is fitted to")
        density = fit_code_density(train_codes, seed=seed)
        # Drawn here through each component's Cholesky factor: sklearn's sample goes through
        # numpy's SVD-based check, which warns on covariances symmetric only to rounding.
        rng = np.random.default_rng(seed)
        component = rng.choice(len(density.weights_), size=n, p=density.weights_ / density.weights_.sum())
        factors = np.linalg.cholesky(density.covariances_)
        noise = rng.standard_normal((n, train_codes.shape[1]))
        codes = density.means_[component] + np.einsum("nij,nj->ni", factors[component], noise)
        return codes.astype(np.float32)
    raise ValueError(f"unknown sampler {sampler!r}; use one of {', '.join(SAMPLERS)}")


def judge_features(judge, items: np.ndarray) -> np.ndarray:
    """The judge's hidden-layer activations (an ``MLPClassifier``'s first ReLU layer): the
    feature space the Fréchet distance compares in, as FID uses an Inception network's."""
    flat = items.reshape(len(items), -1)
    return np.maximum(flat @ judge.coefs_[0] + judge.intercepts_[0], 0.0)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(C_a + C_b - 2 (C_a C_b)^(1/2)) between Gaussians fitted to the rows.

    Tr (C_a C_b)^(1/2) is computed as the sum of the square roots of the eigenvalues of the
    symmetric C_a^(1/2) C_b C_a^(1/2), which stays exact where features never fire (singular
    covariances) instead of failing like a general matrix square root."""
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * cross)


def sampler_report(model: Autoencoder, sampler: str, judge, real_items: np.ndarray,
                   labels: np.ndarray | None, train_codes: np.ndarray, n: int = 2000,
                   seed: int = 0) -> SamplerReport:
    """Decode ``n`` codes of ``sampler`` and compare them with ``real_items`` through the judge."""
    decoded = decode(model, torch.from_numpy(sample_codes(model, sampler, n, train_codes, seed))).numpy()
    mix = None if labels is None else class_mix_gap(judge, decoded, labels)
    return SamplerReport(sampler, mix, judged_valid(judge, decoded),
                         frechet_distance(judge_features(judge, decoded), judge_features(judge, real_items)))
