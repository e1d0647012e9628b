"""The hyperspherical VAE: the von Mises-Fisher sampler, its KL to the uniform prior, the
model on digits, and the equal-area map of the sphere."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad
from scipy.special import gammaln

from explorer.apps.metrics import evaluate, knn_accuracy
from explorer.config import DataConfig, ModelConfig, TrainConfig, from_dict, to_dict
from explorer.errors import ModelConfigError
from explorer.latent import encode_all, prior_samples
from explorer.models import build_model, model_config, vmf
from explorer.projection.sphere import hammer
from explorer.store.checkpoint import load_checkpoint, save_checkpoint
from explorer.training.train import fit

N = 20_000


def unit(m: int, seed: int) -> torch.Tensor:
    return torch.nn.functional.normalize(torch.randn(m, generator=torch.Generator().manual_seed(seed)), dim=0)


def tangent_basis(mu: torch.Tensor) -> torch.Tensor:
    """An orthonormal basis (m - 1, m) of the plane orthogonal to ``mu``."""
    q, _ = torch.linalg.qr(torch.cat([mu[:, None], torch.eye(len(mu))], dim=1))
    return q[:, 1:len(mu)].T


def a_closed_form(m: int, k: float) -> float:
    """I_{m/2} / I_{m/2-1} without scipy: elementary forms for m = 3, 5; i1e / i0e for m = 2."""
    if m == 2:
        k_ = torch.tensor(k, dtype=torch.float64)
        return (torch.special.i1e(k_) / torch.special.i0e(k_)).item()
    if m == 3:
        return 1 / math.tanh(k) - 1 / k
    return ((1 + 3 / k**2) * math.tanh(k) - 3 / k) / (1 - math.tanh(k) / k)  # m == 5


def quadrature(m: int, k: float) -> tuple[float, float]:
    """log of the vMF's normalizing constant 1 / C_m(k) and E[mu . z], by integrating over
    w = mu . z, whose density is proportional to e^{k w} (1 - w^2)^{(m-3)/2}: no Bessel
    functions involved."""
    weight = lambda w: math.exp(k * (w - 1)) * (1 - w * w) ** ((m - 3) / 2)  # noqa: E731
    mass = quad(weight, -1, 1)[0]
    mean_w = quad(lambda w: w * weight(w), -1, 1)[0] / mass
    log_ring = math.log(2) + (m - 1) / 2 * math.log(math.pi) - gammaln((m - 1) / 2)  # |S^{m-2}|
    return k + log_ring + math.log(mass), mean_w


@pytest.mark.parametrize("m", [2, 3, 5])
def test_mean_resultant_length_matches_closed_forms(m):
    kappa = torch.tensor([0.3, 1.0, 4.0, 20.0, 300.0], dtype=torch.float64)
    expected = [a_closed_form(m, k) for k in kappa.tolist()]
    assert vmf.mean_resultant_length(kappa, m).tolist() == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("m", [3, 5])
@pytest.mark.parametrize("kappa", [1.0, 10.0, 100.0])
def test_vmf_samples_have_the_known_moments(m, kappa):
    torch.manual_seed(m)
    mu = unit(m, seed=m)
    z = vmf.sample(mu.repeat(N, 1), torch.full((N,), kappa)).double()
    assert (z.norm(dim=1) - 1).abs().max() < 1e-5
    a = a_closed_form(m, kappa)
    along = 1 - a * a - (m - 1) * a / kappa  # Var(mu . z)
    w = z @ mu.double()
    assert w.mean().item() == pytest.approx(a, abs=5 * math.sqrt(along / N))
    assert torch.dot(torch.nn.functional.normalize(z.mean(dim=0), dim=0), mu.double()) > 0.99
    # Around mu every tangent direction is alike: E[t t^T] = (A / kappa) I.
    t = z @ tangent_basis(mu).double().T
    second = t.T @ t / N
    assert torch.allclose(second, (a / kappa) * torch.eye(m - 1, dtype=torch.float64),
                          atol=0.05 * a / kappa)


def test_posterior_log_variance_is_the_vmf_coordinate_variance():
    torch.manual_seed(0)
    mu, kappa = unit(5, seed=3), 6.0
    z = vmf.sample(mu.repeat(N, 1), torch.full((N,), kappa))
    logvar = vmf.coordinate_log_variance(mu[None], torch.tensor([kappa]))[0]
    assert logvar.exp().tolist() == pytest.approx(z.var(dim=0).tolist(), rel=0.05)


@pytest.mark.parametrize("m", [2, 3, 5, 16, 64])
def test_kl_is_nonnegative_increasing_and_vanishes_for_a_flat_posterior(m):
    kappa = torch.logspace(-3, 4, 50, dtype=torch.float64)
    kl = vmf.kl_to_uniform(kappa, m)
    assert torch.isfinite(kl).all() and (kl >= 0).all()
    assert (kl.diff() > 0).all()
    assert kl[0] < 1e-6  # kappa -> 0 is the uniform distribution itself


@pytest.mark.parametrize(("m", "kappa"), [(3, 2.0), (3, 20.0), (5, 2.0), (5, 20.0)])
def test_kl_matches_quadrature_and_a_monte_carlo_estimate(m, kappa):
    closed = vmf.kl_to_uniform(torch.tensor([kappa], dtype=torch.float64), m).item()
    log_z, mean_w = quadrature(m, kappa)
    log_uniform = -vmf.log_sphere_area(m)
    assert closed == pytest.approx(kappa * mean_w - log_z - log_uniform, rel=1e-6)
    # E_q[log q(z) - log p(z)] over the sampler's draws, with log q(z) = kappa mu . z - log_z.
    torch.manual_seed(1)
    mu = unit(m, seed=1)
    w = (vmf.sample(mu.repeat(N, 1), torch.full((N,), kappa)) @ mu).double()
    monte_carlo = (kappa * w - log_z - log_uniform).mean().item()
    assert monte_carlo == pytest.approx(closed, abs=5 * kappa * w.std().item() / math.sqrt(N))


def test_kl_gradient_is_exact():
    kappa = torch.tensor([0.01, 3.0, 900.0], dtype=torch.float64, requires_grad=True)
    for m in (2, 10):
        assert torch.autograd.gradcheck(lambda k, m=m: vmf.kl_to_uniform(k, m), (kappa,))


@pytest.mark.parametrize(("m", "rel"), [(3, 0.03), (5, 0.2)])
def test_reparameterized_gradient_follows_the_mean(m, rel):
    """d/dkappa E[mu . z] = A'(kappa). Exact inverse-CDF sampling for m = 3; Wood's sampler
    without the acceptance correction term underestimates it a little (Davidson et al.)."""
    torch.manual_seed(2)
    kappa = torch.full((N,), 3.0, requires_grad=True)
    mu = unit(m, seed=2).repeat(N, 1)
    (vmf.sample(mu, kappa) @ mu[0]).mean().backward()
    a = a_closed_form(m, 3.0)
    assert kappa.grad.sum().item() == pytest.approx(1 - a * a - (m - 1) * a / 3.0, rel=rel)


def test_loss_gradients_reach_direction_and_concentration():
    torch.manual_seed(3)
    direction = torch.randn(64, 5, requires_grad=True)
    raw_kappa = torch.randn(64, requires_grad=True)
    mu, kappa = torch.nn.functional.normalize(direction, dim=1), torch.nn.functional.softplus(raw_kappa) + 1
    target = torch.randn(64, 5)
    loss = (vmf.sample(mu, kappa) - target).pow(2).sum() + vmf.kl_to_uniform(kappa, 5).sum()
    loss.backward()
    for grad in (direction.grad, raw_kappa.grad):
        assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    model = build_model(model_config("svae", (1, 8, 8), 5))
    model.loss(torch.rand(16, 1, 8, 8))["total"].backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_prior_samples_are_uniform_on_the_sphere_for_vmf_and_unchanged_for_gaussians():
    svae = build_model(model_config("svae", (1, 8, 8), 4))
    z = svae.sample_prior(N, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(z.norm(dim=1), torch.ones(N), atol=1e-5)
    assert z.mean(dim=0).abs().max() < 0.03
    assert torch.allclose(z.T @ z / N, torch.eye(4) / 4, atol=0.01)
    vae = build_model(model_config("vae", (1, 8, 8), 4))
    drawn = vae.sample_prior(7, 0.5, torch.Generator().manual_seed(3))
    assert torch.equal(drawn, prior_samples(vae, 7, 0.5, seed=3))
    assert torch.equal(drawn, 0.5 * torch.randn(7, 4, generator=torch.Generator().manual_seed(3)))


def test_vmf_needs_a_variational_model_and_old_configs_stay_gaussian():
    with pytest.raises(ModelConfigError, match="needs a variational model"):
        build_model(model_config("ae", (1, 8, 8), 3, posterior="vmf"))
    old = {k: v for k, v in to_dict(ModelConfig()).items() if k != "posterior"}
    assert from_dict(ModelConfig, old).posterior == "gaussian"


def test_svae_on_digits_codes_lie_on_the_sphere_and_round_trip(digits, tmp_path):
    model = build_model(model_config("svae", digits.item_shape, 3, likelihood=digits.likelihood,
                                     hidden=(128,)))
    history = fit(model, digits, TrainConfig(epochs=30, batch_size=128, lr=5e-3))
    total = history.train["total"]
    assert all(math.isfinite(v) for v in total) and total[-1] < 0.9 * total[0]
    model.eval()
    z_train, z_test = encode_all(model, digits.x_train), encode_all(model, digits.x_test)
    assert torch.allclose(z_test.norm(dim=1), torch.ones(len(z_test)), atol=1e-5)
    assert knn_accuracy(z_train.numpy(), digits.y_train.numpy(), z_test.numpy(), digits.y_test.numpy()) > 0.5
    metrics = evaluate(model, digits)
    assert metrics["kl"] > 0 and metrics["neg_elbo"] == pytest.approx(metrics["recon_nll"] + metrics["kl"])
    folder = save_checkpoint(tmp_path / "svae", model, DataConfig("digits"), TrainConfig(epochs=30))
    loaded = load_checkpoint(folder).model
    assert loaded.cfg == model.cfg and loaded.cfg.posterior == "vmf"
    state, restored = model.state_dict(), loaded.state_dict()
    assert state.keys() == restored.keys() and all(torch.equal(state[k], restored[k]) for k in state)
    assert torch.equal(loaded.encode(digits.x_test), model.encode(digits.x_test))


def test_hammer_projection_preserves_area():
    """|det d(x, y) / d(lon, lat)| equals the sphere's area element cos(lat) everywhere."""
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(-3.0, 3.0, 200), rng.uniform(-1.5, 1.5, 200)
    to_xyz = lambda lo, la: np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], 1)  # noqa: E731
    h = 1e-6
    d_lon = (hammer(to_xyz(lon + h, lat)) - hammer(to_xyz(lon - h, lat))) / (2 * h)
    d_lat = (hammer(to_xyz(lon, lat + h)) - hammer(to_xyz(lon, lat - h))) / (2 * h)
    det = np.abs(d_lon[:, 0] * d_lat[:, 1] - d_lon[:, 1] * d_lat[:, 0])
    np.testing.assert_allclose(det, np.cos(lat), rtol=1e-5)
    np.testing.assert_allclose(hammer(np.array([[1.0, 0, 0], [0, 0, 2.0]])), [[0, 0], [0, math.sqrt(2)]],
                               atol=1e-12)


def test_uniform_points_on_the_sphere_fill_the_hammer_ellipse_evenly():
    n = 200_000
    xy = hammer(vmf.uniform(n, 3, torch.Generator().manual_seed(0)).numpy())
    ex, ey = 2 * math.sqrt(2), math.sqrt(2)
    assert ((xy[:, 0] / ex) ** 2 + (xy[:, 1] / ey) ** 2).max() <= 1 + 1e-9
    # Count points in equal cells that lie wholly inside the ellipse: each should hold its area's share.
    bins = 10
    counts, xs, ys = np.histogram2d(xy[:, 0], xy[:, 1], bins=bins, range=[[-ex, ex], [-ey, ey]])
    corners_x, corners_y = np.maximum(abs(xs[:-1]), abs(xs[1:])), np.maximum(abs(ys[:-1]), abs(ys[1:]))
    inside = (corners_x[:, None] / ex) ** 2 + (corners_y[None, :] / ey) ** 2 <= 1
    expected = n * (xs[1] - xs[0]) * (ys[1] - ys[0]) / (4 * math.pi)
    assert inside.sum() >= 30
    assert np.abs(counts[inside] - expected).max() < 5 * math.sqrt(expected)
