"""Pure tensor functions over latent codes: encode everything, paths, prior samples,
traversals and grids. Decoding is always one batch on the model's device."""

from __future__ import annotations

import math

import torch

from explorer.models import Autoencoder


@torch.no_grad()
def encode_all(model: Autoencoder, x: torch.Tensor, batch_size: int = 2048,
               with_logvar: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor | None]:
    """Posterior means of every item (and their log-variances with ``with_logvar``), on the CPU."""
    model.eval()
    means, logvars = [], []
    for start in range(0, len(x), batch_size):
        mu, logvar = model.posterior(x[start:start + batch_size].to(model.device))
        means.append(mu.cpu())
        if logvar is not None:
            logvars.append(logvar.cpu())
    mu = torch.cat(means)
    if not with_logvar:
        return mu
    return mu, (torch.cat(logvars) if logvars else None)


@torch.no_grad()
def decode(model: Autoencoder, z: torch.Tensor) -> torch.Tensor:
    """Decode a batch of codes on the model's device; the result comes back on the CPU."""
    model.eval()
    return model.decode(torch.as_tensor(z, dtype=torch.float32).to(model.device)).cpu()


def frame_steps(frames: torch.Tensor) -> torch.Tensor:
    """L2 distance between consecutive decoded frames of a path (one fewer than frames): how
    much the decoded item changes per step."""
    flat = frames.flatten(1)
    return (flat[1:] - flat[:-1]).norm(dim=1)


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Points ``(1 - t) z0 + t z1`` for each t, shape ``(len(t), d)``."""
    t = torch.as_tensor(t, dtype=z0.dtype).reshape(-1, 1)
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation: follows the great circle between the two codes and also
    interpolates their norms, so paths stay where a Gaussian prior puts its mass instead of
    cutting through the low-norm centre. Falls back to lerp for (anti)parallel codes."""
    t = torch.as_tensor(t, dtype=z0.dtype).reshape(-1, 1)
    n0, n1 = z0.norm(), z1.norm()
    if n0 < 1e-8 or n1 < 1e-8:
        return lerp(z0, z1, t)
    cos = torch.clamp(torch.dot(z0 / n0, z1 / n1), -1.0, 1.0)
    omega = torch.arccos(cos)
    if omega.abs() < 1e-4 or (math.pi - omega.abs()) < 1e-4:
        return lerp(z0, z1, t)
    direction = (torch.sin((1 - t) * omega) * (z0 / n0) + torch.sin(t * omega) * (z1 / n1)) / torch.sin(omega)
    return direction * ((1 - t) * n0 + t * n1)


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int, method: str = "linear") -> torch.Tensor:
    t = torch.linspace(0.0, 1.0, steps)
    if method == "linear":
        return lerp(z0, z1, t)
    if method == "spherical":
        return slerp(z0, z1, t)
    raise ValueError(f"interpolation method must be 'linear' or 'spherical', got {method!r}")


def natural_path(model: Autoencoder) -> str:
    """Spherical paths for an S-VAE, whose decoder only saw codes on the sphere; else straight."""
    return "spherical" if model.cfg.posterior == "vmf" else "linear"


def prior_samples(model: Autoencoder, n: int, temperature: float = 1.0, seed: int = 0) -> torch.Tensor:
    """``n`` draws from the model's prior (N(0, temperature^2 I), or uniform on the sphere for an
    S-VAE, where temperature does not apply) with their own generator, so a seed reproduces them."""
    return model.sample_prior(n, temperature, torch.Generator().manual_seed(seed))


def traversal(z: torch.Tensor, dim: int, values: torch.Tensor) -> torch.Tensor:
    """Copies of ``z`` with dimension ``dim`` set to each of ``values``."""
    out = z.reshape(1, -1).repeat(len(values), 1)
    out[:, dim] = torch.as_tensor(values, dtype=z.dtype)
    return out


def grid_2d(x_range: tuple[float, float], y_range: tuple[float, float], steps: int) -> torch.Tensor:
    """A ``steps x steps`` grid over the rectangle, row by row from the top (largest y) so
    that decoded tiles laid out as an image have y increasing upwards like the scatter."""
    xs = torch.linspace(*x_range, steps)
    ys = torch.linspace(*y_range, steps).flip(0)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)


def gaussian_grid_range(temperature: float = 1.0, quantile: float = 0.95) -> tuple[float, float]:
    """Symmetric range covering ``quantile`` of N(0, temperature^2) in one dimension."""
    bound = temperature * math.sqrt(2.0) * torch.erfinv(torch.tensor(quantile)).item()
    return -bound, bound
