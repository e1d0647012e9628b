"""The field's likelihood numbers for variational models: an importance-sampled estimate of
the test log-likelihood (Burda et al. 2016), active units and the KL of each latent dimension.

The ELBO is a lower bound on log p(x); averaging k importance weights
p(x | z_i) p(z_i) / q(z_i | x) with z_i ~ q(z | x) gives a tighter one that approaches
log p(x) as k grows, so the negative log-likelihood estimated here lies below the negative
ELBO and the gap says how loose the ELBO is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from explorer.models import Autoencoder, vmf
from explorer.training.history import evaluate_losses
from explorer.training.jobs import Report

ACTIVE_THRESHOLD = 0.01  # Burda et al.: a unit is active when Cov_x(E_q[z_u]) exceeds this


@torch.no_grad()
def log_likelihood(model: Autoencoder, x: torch.Tensor, k: int = 100, batch_size: int = 64,
                   seed: int = 0, progress: Report | None = None) -> torch.Tensor:
    """Per item, the importance-sampled estimate of log p(x) in nats with ``k`` samples from
    the posterior q(z | x) as the proposal (k = 1 is the ELBO's one-sample estimate).
    ``progress`` hears the share of items done after each batch."""
    if not model.variational:
        raise ValueError("log-likelihood estimates need a variational model (a posterior to sample)")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    model.eval()
    device = model.device
    out = []
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for start in range(0, len(x), batch_size):
            batch = x[start:start + batch_size].to(device)
            out.append(_log_weights(model, batch, k).logsumexp(dim=0).cpu() - math.log(k))
            if progress is not None:
                done = min(start + batch_size, len(x))
                progress(done / len(x), f"importance sampling, {done:,} of {len(x):,} items")
    return torch.cat(out)


def _log_weights(model: Autoencoder, x: torch.Tensor, k: int) -> torch.Tensor:
    """log p(x | z) + log p(z) - log q(z | x) for k posterior draws per item, shape (k, n)."""
    n, d = len(x), model.latent_dim
    if model.cfg.posterior == "vmf":
        mu, kappa = model.vmf_parameters(x)
        z = vmf.sample(mu.repeat(k, 1), kappa.repeat(k))
        log_q = vmf.log_density(z, mu.repeat(k, 1), kappa.repeat(k))
        log_prior = torch.full_like(log_q, -vmf.log_sphere_area(d))
    else:
        mu, logvar = model.posterior(x)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn(k, n, d, device=x.device)
        z = (mu + eps * std).reshape(k * n, d)
        log_q = (-0.5 * (eps.pow(2) + math.log(2 * math.pi)) - 0.5 * logvar).sum(dim=2).reshape(-1)
        log_prior = (-0.5 * (z.pow(2) + math.log(2 * math.pi))).sum(dim=1)
    log_px_z = -model.nll(model.decode_params(z), x.repeat(k, *([1] * (x.dim() - 1))))
    return (log_px_z + log_prior - log_q).reshape(k, n)


@dataclass(frozen=True)
class LatentUsage:
    """How a variational model uses its code: per dimension, the variance over the data of the
    posterior mean (``activity``) and the mean KL to the prior, in nats (``kl``)."""

    activity: np.ndarray
    kl: np.ndarray

    @property
    def active(self) -> np.ndarray:
        return self.activity > ACTIVE_THRESHOLD

    @property
    def n_active(self) -> int:
        return int(self.active.sum())

    def order(self) -> np.ndarray:
        """Dimensions with the active ones first, each group by falling KL: the order sliders
        should come in, so the dimensions that change the decode come first."""
        return np.lexsort((-self.kl, ~self.active))


@torch.no_grad()
def latent_usage(model: Autoencoder, x: torch.Tensor, batch_size: int = 1024) -> LatentUsage:
    """Active units (Burda et al. 2016) and KL per dimension of a Gaussian-posterior model."""
    if not model.variational or model.cfg.posterior != "gaussian":
        raise ValueError("latent usage is measured for Gaussian-posterior VAEs")
    model.eval()
    means, logvars = [], []
    for start in range(0, len(x), batch_size):
        mu, logvar = model.posterior(x[start:start + batch_size].to(model.device))
        means.append(mu.cpu())
        logvars.append(logvar.cpu())
    return usage_of_posteriors(torch.cat(means).numpy(), torch.cat(logvars).numpy())


def usage_of_posteriors(mu: np.ndarray, logvar: np.ndarray) -> LatentUsage:
    """``LatentUsage`` from posterior means and log-variances already at hand (the app's
    codes), without running the encoder again."""
    mu, logvar = mu.astype(np.float64), logvar.astype(np.float64)
    kl = 0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar)
    return LatentUsage(activity=mu.var(axis=0), kl=kl.mean(axis=0))


@dataclass(frozen=True)
class LikelihoodReport:
    """A VAE's test likelihood on ``n_items`` items: the negative ELBO (analytic KL, one
    decoder sample) beside the tighter importance-sampled bound with ``k`` samples, and how
    many of its ``latent_dim`` dimensions it uses (``kl_per_dim`` in nats, Gaussian only)."""

    neg_elbo: float
    nll: float
    k: int
    n_items: int
    latent_dim: int
    n_active: int | None
    kl_per_dim: np.ndarray | None


def likelihood_report(model: Autoencoder, x: torch.Tensor, k: int = 100, seed: int = 0,
                      progress: Report | None = None) -> LikelihoodReport:
    terms = evaluate_losses(model, x, seed=seed)
    usage = latent_usage(model, x) if model.cfg.posterior == "gaussian" else None
    nll = -log_likelihood(model, x, k, seed=seed, progress=progress).mean().item()
    return LikelihoodReport(
        neg_elbo=terms["recon"] + terms["kl"], nll=nll,
        k=k, n_items=len(x), latent_dim=model.latent_dim,
        n_active=None if usage is None else usage.n_active, kl_per_dim=None if usage is None else usage.kl)
