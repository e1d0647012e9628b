"""The von Mises-Fisher distribution vMF(mu, kappa) on the unit sphere S^{m-1} of R^m, as the
posterior of the hyperspherical VAE (Davidson et al. 2018) whose prior is uniform on the sphere.

Bessel functions come from scipy in float64 and exponentially scaled (``ive``), because
I_v(kappa) overflows float32 from kappa ~ 90 on and the KL is a difference of large terms.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.special import ive


def _float64(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()


def _mean_resultant_length(kappa: np.ndarray, m: int) -> np.ndarray:
    return ive(m / 2, kappa) / ive(m / 2 - 1, kappa)


def mean_resultant_length(kappa: torch.Tensor, m: int) -> torch.Tensor:
    """A_m(kappa) = I_{m/2}(kappa) / I_{m/2-1}(kappa) = E[mu . z] under vMF(mu, kappa) in R^m
    (no gradient: a statistic for display and checks)."""
    return torch.from_numpy(_mean_resultant_length(_float64(kappa), m)).to(kappa)


def log_sphere_area(m: int) -> float:
    """log of the surface area 2 pi^{m/2} / Gamma(m/2) of S^{m-1}: minus the log density of
    the uniform prior."""
    return math.log(2.0) + m / 2 * math.log(math.pi) - math.lgamma(m / 2)


def _kl_to_uniform(k: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """KL(vMF(., k) || U(S^{m-1})) and its derivative in k, both float64.

    KL = k A + log C_m(k) + log|S^{m-1}| with log C_m(k) = v log k - (m/2) log(2 pi) - log I_v(k),
    v = m/2 - 1. Writing log I_v = log ive_v + k cancels the two k terms analytically, which keeps
    the value exact for large k. Since d log C / dk = -A, the derivative is k A'(k) with
    A' = 1 - A^2 - (m - 1) A / k.
    """
    v = m / 2 - 1
    a = _mean_resultant_length(k, m)
    kl = (k * (a - 1) + v * np.log(k) - np.log(ive(v, k)) - m / 2 * math.log(2 * math.pi)
          + log_sphere_area(m))
    # Rounding can leave -1e-16 where kappa -> 0; the KL itself is never negative.
    return np.maximum(kl, 0.0), k * (1 - a * a) - (m - 1) * a


class _KLToUniform(torch.autograd.Function):
    @staticmethod
    def forward(ctx, kappa: torch.Tensor, m: int) -> torch.Tensor:
        kl, grad = _kl_to_uniform(_float64(kappa), m)
        ctx.save_for_backward(torch.from_numpy(grad).to(kappa))
        return torch.from_numpy(kl).to(kappa)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> tuple[torch.Tensor, None]:
        (grad,) = ctx.saved_tensors
        return grad_out * grad, None


def kl_to_uniform(kappa: torch.Tensor, m: int) -> torch.Tensor:
    """KL(vMF(mu, kappa) || Uniform(S^{m-1})) per element of ``kappa``; it does not depend on
    mu. Differentiable in kappa."""
    return _KLToUniform.apply(kappa, m)


def coordinate_log_variance(mu: torch.Tensor, kappa: torch.Tensor) -> torch.Tensor:
    """log Var(z_i) of each coordinate of z ~ vMF(mu, kappa): the diagonal of the covariance
    (A / kappa) (I - mu mu^T) + A' mu mu^T, so a vMF posterior reads like a Gaussian's
    log-variance wherever codes are drawn with their spread (no gradient)."""
    m = mu.shape[1]
    k = _float64(kappa).reshape(-1, 1)
    a = _mean_resultant_length(k, m)
    along = 1 - a * a - (m - 1) * a / k
    mu2 = _float64(mu) ** 2
    variance = a / k * (1 - mu2) + along * mu2
    return torch.from_numpy(np.log(np.maximum(variance, 1e-30))).to(mu)


def _one_minus_w_exact3(kappa: torch.Tensor) -> torch.Tensor:
    """1 - w for m = 3 by inverting the CDF of w = mu . z: w = 1 + log(u + (1 - u) e^{-2 kappa})
    / kappa, written in logs so that large kappa neither underflows nor rounds w to 1."""
    u = torch.rand_like(kappa)
    return -torch.logaddexp(torch.log(u), torch.log1p(-u) - 2 * kappa) / kappa


def _one_minus_w_wood(kappa: torch.Tensor, m: int) -> torch.Tensor:
    """1 - w by Wood's (1994) rejection sampler, reparameterized as in Davidson et al.: the
    accepted Beta draw eps is held fixed and w = h(eps, kappa) carries the gradient to kappa
    (the small correction term for the acceptance step is left out, as in the paper's code)."""
    d1 = m - 1
    root = torch.sqrt(4 * kappa * kappa + d1 * d1)
    b = d1 / (2 * kappa + root)  # = (-2 kappa + root) / (m - 1) without the cancellation
    with torch.no_grad():
        a = (d1 + 2 * kappa + root) / 4
        d = 4 * a * b / (1 + b) - d1 * math.log(d1)
        # Beta's parameters do not depend on kappa, so a plain sample is all the gradient needs.
        proposal = torch.distributions.Beta(kappa.new_tensor(d1 / 2), kappa.new_tensor(d1 / 2))
        eps = torch.zeros_like(kappa)
        pending = torch.ones_like(kappa, dtype=torch.bool)
        while pending.any():
            e = proposal.sample(kappa.shape)
            t = 2 * a * b / (1 - (1 - b) * e)
            accept = pending & (d1 * torch.log(t) - t + d >= torch.log(torch.rand_like(kappa)))
            eps = torch.where(accept, e, eps)
            pending = pending & ~accept
    return 2 * b * eps / (1 - (1 - b) * eps)


def sample(mu: torch.Tensor, kappa: torch.Tensor) -> torch.Tensor:
    """One reparameterized draw z ~ vMF(mu_i, kappa_i) per row of ``mu`` (unit vectors, shape
    (n, m)); gradients reach both ``mu`` and ``kappa`` (shape (n,)).

    Draws w = mu . z about the pole e1, a uniform direction in the tangent space, and reflects
    e1 onto mu with a Householder reflection.
    """
    n, m = mu.shape
    kappa = kappa.reshape(n, 1)
    s = _one_minus_w_exact3(kappa) if m == 3 else _one_minus_w_wood(kappa, m)
    tangent = torch.nn.functional.normalize(torch.randn(n, m - 1, dtype=mu.dtype, device=mu.device), dim=1)
    # sqrt(1 - w^2) = sqrt(s (2 - s)); the floor keeps its gradient finite when s rounds to 0.
    z = torch.cat([1 - s, torch.sqrt((s * (2 - s)).clamp_min(1e-12)) * tangent], dim=1)
    e1 = torch.zeros_like(mu)
    e1[:, 0] = 1.0
    u = torch.nn.functional.normalize(e1 - mu, dim=1)  # u = 0 (identity) when mu is e1 already
    return z - 2 * (z * u).sum(dim=1, keepdim=True) * u


def log_density(z: torch.Tensor, mu: torch.Tensor, kappa: torch.Tensor) -> torch.Tensor:
    """log vMF(z | mu, kappa) per row, with respect to the sphere's surface measure (no
    gradient). log C_m(kappa) is written with the scaled Bessel function, as in the KL."""
    m = mu.shape[1]
    v = m / 2 - 1
    k = _float64(kappa)
    log_norm = v * np.log(k) - m / 2 * math.log(2 * math.pi) - np.log(ive(v, k))
    cos = _float64((z * mu).sum(dim=1))
    return torch.from_numpy(log_norm + k * (cos - 1)).to(mu)


def uniform(n: int, m: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """n points uniform on S^{m-1}: normalized standard normals, which are isotropic."""
    return torch.nn.functional.normalize(torch.randn(n, m, generator=generator), dim=1)
