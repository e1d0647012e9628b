"""Loss terms and input corruptions that turn a plain AE into a sparse, denoising or
contractive one. They are options of ``ModelConfig``, not model classes."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.nn import functional as F

from explorer.config import NoiseKind


def corrupt(x: torch.Tensor, kind: NoiseKind, level: float,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """A freshly noised copy of ``x``: additive Gaussian (std ``level``), masking (each value
    zeroed with probability ``level``), salt-and-pepper (each value set to 0 or 1 with
    probability ``level``) or patch (one random square per image, of side ``level`` times
    the image side, zeroed: the context-encoder task of filling it in)."""
    if kind == "none" or level <= 0:
        return x
    if kind == "patch":
        return x * (1 - patch_mask(x, level, generator))
    if kind == "gaussian":
        return x + level * torch.randn(x.shape, device=x.device, generator=generator)
    hit = torch.rand(x.shape, device=x.device, generator=generator) < level
    if kind == "masking":
        return x.masked_fill(hit, 0.0)
    if kind == "salt_pepper":
        salt = torch.rand(x.shape, device=x.device, generator=generator) < 0.5
        return torch.where(hit, salt.to(x.dtype), x)
    raise ValueError(f"unknown noise kind {kind!r}")


def patch_mask(x: torch.Tensor, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """1 inside one random square per image (items ``(C, H, W)``), 0 elsewhere."""
    if x.dim() != 4:
        raise ValueError("patch noise needs images (N, C, H, W)")
    n, _, h, w = x.shape
    side = max(1, round(level * min(h, w)))
    top = torch.randint(0, h - side + 1, (n,), device=x.device, generator=generator)
    left = torch.randint(0, w - side + 1, (n,), device=x.device, generator=generator)
    rows = torch.arange(h, device=x.device)[None, :, None]
    cols = torch.arange(w, device=x.device)[None, None, :]
    inside = ((rows >= top[:, None, None]) & (rows < top[:, None, None] + side)
              & (cols >= left[:, None, None]) & (cols < left[:, None, None] + side))
    return inside[:, None].to(x.dtype).expand_as(x)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per sample, summed over latent dimensions."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def sparsity_kl(activations: torch.Tensor, target: float) -> torch.Tensor:
    """KL(rho || rho_hat) summed over units, where rho_hat is each unit's mean activation in
    (0, 1) over the batch (Ng's sparse autoencoder)."""
    rho_hat = activations.mean(dim=0).clamp(1e-6, 1 - 1e-6)
    rho = target
    return (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()


def jacobian_frobenius(encode: Callable[[torch.Tensor], torch.Tensor],
                       x: torch.Tensor) -> torch.Tensor:
    """Squared Frobenius norm of d encode(x) / dx per sample (the contractive penalty).

    Computed with one backward pass per latent dimension, which is cheap because codes are
    small compared with inputs.
    """
    differentiable = torch.is_grad_enabled()  # under no_grad (evaluation) only the value counts
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        z = encode(x)
        total = torch.zeros(len(x), device=x.device)
        for k in range(z.shape[1]):
            (grad,) = torch.autograd.grad(z[:, k].sum(), x, create_graph=differentiable, retain_graph=True)
            total = total + grad.flatten(1).pow(2).sum(dim=1)
    return total if differentiable else total.detach()


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x | logits) per sample for intensities in [0, 1] (BCE summed over pixels)."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(dim=1)


def gaussian_nll(mean: torch.Tensor, x: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """-log N(x | mean, sigma^2 I) per sample, with one shared sigma."""
    n = mean[0].numel()
    sse = (x - mean).pow(2).flatten(1).sum(dim=1)
    return 0.5 * sse * torch.exp(-2 * log_sigma) + n * (log_sigma + 0.5 * math.log(2 * math.pi))
