"""Numbers that say how good a model and its latent space are."""

from __future__ import annotations

import torch

from explorer.data import Dataset
from explorer.models import Autoencoder
from explorer.train import evaluate_losses


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
