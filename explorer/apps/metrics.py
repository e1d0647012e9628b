"""Numbers that say how good a model and its latent space are."""

from __future__ import annotations

import numpy as np
import torch

from explorer.data import Dataset
from explorer.models import Autoencoder
from explorer.training.train import evaluate_losses


@torch.no_grad()
def reconstruction_sse(model: Autoencoder, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Per-sample summed squared error of decode(encode(x)) (the posterior mean for VAEs)."""
    model.eval()
    out = []
    for start in range(0, len(x), batch_size):
        batch = x[start:start + batch_size].to(model.device)
        out.append((model.reconstruct(batch) - batch).pow(2).flatten(1).sum(dim=1).cpu())
    return torch.cat(out)


def evaluate(model: Autoencoder, data: Dataset, seed: int = 0) -> dict[str, float]:
    """Test-split metrics: ``recon_sse`` (mean over samples of the summed squared error;
    for images that is pixels in [0, 1]) and, for VAEs, ``neg_elbo`` (mean nats per sample,
    one posterior sample each) with its ``recon_nll`` and ``kl`` parts."""
    x = data.x_test
    metrics = {"recon_sse": reconstruction_sse(model, x).mean().item(), "n_test": float(len(x))}
    if model.variational:
        terms = evaluate_losses(model, x, seed=seed)
        metrics.update(neg_elbo=terms["recon"] + terms["kl"], recon_nll=terms["recon"],
                       kl=terms["kl"])
    return metrics


def knn_accuracy(z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, y_test: np.ndarray,
                 k: int = 5) -> float:
    """Test accuracy of a k-nearest-neighbour classifier fitted on the training codes."""
    from sklearn.neighbors import KNeighborsClassifier

    return float(KNeighborsClassifier(k).fit(z_train, y_train).score(z_test, y_test))


def clustering_scores(z: np.ndarray, y: np.ndarray, seed: int = 0) -> dict[str, float]:
    """k-means and a Gaussian mixture with one cluster per class, scored against the labels
    with the adjusted Rand index and normalized mutual information."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    from sklearn.mixture import GaussianMixture

    n = len(np.unique(y))
    kmeans = KMeans(n, n_init=4, random_state=seed).fit_predict(z)
    gmm = GaussianMixture(n, covariance_type="full", random_state=seed).fit(z).predict(z)
    return {
        "ari": float(adjusted_rand_score(y, kmeans)),
        "nmi": float(normalized_mutual_info_score(y, kmeans)),
        "gmm_ari": float(adjusted_rand_score(y, gmm)),
        "gmm_nmi": float(normalized_mutual_info_score(y, gmm)),
    }


def projection_trustworthiness(z: np.ndarray, embedding: np.ndarray, k: int = 5, max_items: int = 5000,
                               seed: int = 0) -> float:
    """sklearn's trustworthiness of a map (are its neighbours neighbours in the codes?) on at
    most ``max_items`` items: the measure needs all pairwise distances."""
    from sklearn.manifold import trustworthiness

    if len(z) > max_items:
        keep = np.random.default_rng(seed).choice(len(z), max_items, replace=False)
        z, embedding = z[keep], embedding[keep]
    return float(trustworthiness(z, embedding, n_neighbors=k))
