"""One model interface for every autoencoder: ``encode``, ``decode``, ``loss``."""

from __future__ import annotations

import torch
from torch import nn

from explorer.config import ModelConfig
from explorer.errors import ModelConfigError
from explorer.models import regularizers as reg
from explorer.models import vmf


class Autoencoder(nn.Module):
    """An encoder body, a latent head, a decoder body and a loss.

    Deterministic models map features to a code; variational ones map them to the mean and
    log-variance of a diagonal Gaussian posterior, or with ``posterior="vmf"`` to the mean
    direction and concentration of a von Mises-Fisher posterior on the unit sphere, and sample
    it with the reparameterization trick during training. ``encode`` always returns the
    posterior mean (the mean direction for vMF, a unit vector): a sampled code would make every
    map noisy.
    """

    # Whether gradients flow through the model, so it can be trained or fine-tuned; a pair
    # imported as ONNX runs in onnxruntime, which has none.
    trainable = True
    # Whether codes can be decoded: a folder of imported codes has none (models.stored_codes).
    has_decoder = True

    def __init__(self, cfg: ModelConfig, encoder: nn.Module, decoder: nn.Module,
                 variational: bool) -> None:
        super().__init__()
        if cfg.posterior == "vmf" and not variational:
            raise ModelConfigError(
                "A von Mises-Fisher posterior needs a variational model; pick svae or conv_svae."
            )
        self.cfg = cfg
        self.variational = variational
        self.encoder = encoder
        width = encoder.out_features
        # vMF: m outputs for the direction and one for the concentration.
        n_out = {"gaussian": 2 * cfg.latent_dim, "vmf": cfg.latent_dim + 1}[cfg.posterior]
        self.head = nn.Linear(width, n_out if variational else cfg.latent_dim)
        self.decoder = decoder
        # sigma-VAE: one learned output scale makes the Gaussian likelihood calibrated, so a
        # reconstruction term in MSE units cannot swamp or be swamped by the KL term.
        self.log_sigma = nn.Parameter(torch.zeros(())) if cfg.likelihood == "gaussian" else None

    @property
    def latent_dim(self) -> int:
        return self.cfg.latent_dim

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def check_input(self, x: torch.Tensor) -> None:
        if tuple(x.shape[1:]) != self.cfg.input_shape:
            raise ModelConfigError(
                f"This model expects items of shape {self.cfg.input_shape}, got "
                f"{tuple(x.shape[1:])}. Use data of the shape it was trained on."
            )

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Mean and log-variance of q(z | x); the log-variance is None for a plain AE. For a
        vMF posterior: the mean direction and each coordinate's log-variance under q."""
        h = self.head(self.encoder(x))
        if not self.variational:
            code = torch.sigmoid(h) if self.cfg.sparsity_target > 0 else h
            return code, None
        if self.cfg.posterior == "vmf":
            mu, kappa = _vmf_parameters(h)
            return mu, vmf.coordinate_log_variance(mu, kappa)
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(-20.0, 10.0)

    def vmf_parameters(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean direction and concentration of a vMF posterior q(z | x)."""
        return _vmf_parameters(self.head(self.encoder(x)))

    def sample_posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The posterior mean, one reparameterized draw z ~ q(z | x) and KL(q || prior) per
        item, for variational models."""
        if self.cfg.posterior == "vmf":
            mu, kappa = self.vmf_parameters(x)
            return mu, vmf.sample(mu, kappa), vmf.kl_to_uniform(kappa, self.latent_dim)
        mu, logvar = self.posterior(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return mu, z, reg.gaussian_kl(mu, logvar)

    def sample_prior(self, n: int, temperature: float = 1.0,
                     generator: torch.Generator | None = None) -> torch.Tensor:
        """n codes from the prior p(z), on the generator's device (the CPU by default): the one
        place that knows each model's prior. N(0, temperature^2 I), or for a vMF posterior the
        uniform distribution on the unit sphere, which has no scale, so ``temperature`` does not
        apply: the decoder only ever saw codes on the sphere."""
        if self.cfg.posterior == "vmf":
            return vmf.uniform(n, self.latent_dim, generator)
        return temperature * torch.randn(n, self.latent_dim, generator=generator)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x)[0]

    def decode_params(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits or Gaussian means, shaped like the input."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Codes to items in data space (pixel intensities for Bernoulli models)."""
        out = self.decode_params(z)
        return torch.sigmoid(out) if self.cfg.likelihood == "bernoulli" else out

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def nll(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """-log p(x | z) per sample for a plain AE or a VAE's decoder output."""
        if self.cfg.likelihood == "bernoulli":
            return reg.bernoulli_nll(params, x)
        if self.log_sigma is None:
            return (params - x).pow(2).flatten(1).sum(dim=1)
        return reg.gaussian_nll(params, x, self.log_sigma.clamp(-7.0, 3.0))

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named loss terms, each a mean over the batch, and their weighted sum ``total``.

        In training mode the input is corrupted first when the config asks for noise; the
        target is always the clean ``x``.
        """
        cfg = self.cfg
        x_in = reg.corrupt(x, cfg.noise, cfg.noise_level) if self.training else x
        terms: dict[str, torch.Tensor] = {}
        if self.variational:
            # Sampled in eval mode too: the ELBO is an expectation under q(z | x).
            mu, z, kl = self.sample_posterior(x_in)
            terms["recon"] = self.nll(self.decode_params(z), x).mean()
            terms["kl"] = kl.mean()
            total = terms["recon"] + cfg.beta * terms["kl"]
        else:
            mu = self.posterior(x_in)[0]
            terms["recon"] = self.nll(self.decode_params(mu), x).mean()
            total = terms["recon"]
        if cfg.sparsity_l1 > 0:
            terms["l1"] = mu.abs().sum(dim=1).mean()
            total = total + cfg.sparsity_l1 * terms["l1"]
        if cfg.sparsity_kl_weight > 0 and cfg.sparsity_target > 0:
            terms["sparsity_kl"] = reg.sparsity_kl(mu, cfg.sparsity_target)
            total = total + cfg.sparsity_kl_weight * terms["sparsity_kl"]
        if cfg.contractive_weight > 0:
            terms["contractive"] = reg.jacobian_frobenius(self.encode, x_in).mean()
            total = total + cfg.contractive_weight * terms["contractive"]
        terms["total"] = total
        return terms


def _vmf_parameters(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean direction (unit length) and concentration kappa = softplus + 1 from the head's
    output. kappa >= 1, as in Davidson et al., keeps the posterior from collapsing onto the
    uniform prior and high-order Bessel functions from underflowing."""
    return torch.nn.functional.normalize(h[:, :-1], dim=1), torch.nn.functional.softplus(h[:, -1]) + 1
