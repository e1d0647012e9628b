"""Model names to builders. ``build_model(cfg)`` is the only way models are made, so a
checkpoint's config alone rebuilds its model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from explorer.config import ModelConfig
from explorer.errors import ModelConfigError
from explorer.models.base import Autoencoder
from explorer.models.bodies import (
    ACTIVATIONS,
    ConvDecoder,
    ConvEncoder,
    MLPDecoder,
    MLPEncoder,
    SequenceDecoder,
    SequenceEncoder,
)
from explorer.models.rbm import RBM, fit_rbm


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    variational: bool
    build: Callable[[ModelConfig], Autoencoder]
    needs_images: bool = False
    needs_series: bool = False
    preset: dict[str, Any] = field(default_factory=dict)  # ModelConfig values this family implies
    # Trains the family instead of explorer.train.fit's gradient descent, with fit's signature
    # and callbacks, so the CLI, the app's training job and Stop work unchanged.
    trainer: Callable[..., Any] | None = None
    lr: float = 1e-3  # the learning rate this family trains well with, the default everywhere

    def fits(self, kind: str) -> bool:
        """Whether this family can model items of ``kind`` (MLPs flatten anything)."""
        if self.needs_images:
            return kind == "image"
        if self.needs_series:
            return kind == "series"
        return True


def _mlp(variational: bool) -> Callable[[ModelConfig], Autoencoder]:
    def build(cfg: ModelConfig) -> Autoencoder:
        if cfg.activation not in ACTIVATIONS:
            raise ModelConfigError(
                f"Unknown activation {cfg.activation!r}. Choose one of {', '.join(ACTIVATIONS)}."
            )
        act = ACTIVATIONS[cfg.activation]
        return Autoencoder(
            cfg,
            MLPEncoder(cfg.input_shape, cfg.hidden, act, dropout=cfg.dropout),
            MLPDecoder(cfg.latent_dim, cfg.hidden, cfg.input_shape, act, dropout=cfg.dropout),
            variational,
        )

    return build


def _conv(variational: bool) -> Callable[[ModelConfig], Autoencoder]:
    def build(cfg: ModelConfig) -> Autoencoder:
        if not cfg.channels:
            raise ModelConfigError("A convolutional model needs at least one channels entry.")
        return Autoencoder(cfg, ConvEncoder(cfg.input_shape, cfg.channels),
                           ConvDecoder(cfg.latent_dim, cfg.channels, cfg.input_shape), variational)

    return build


def _sequence(variational: bool) -> Callable[[ModelConfig], Autoencoder]:
    def build(cfg: ModelConfig) -> Autoencoder:
        width = cfg.hidden[0] if cfg.hidden else 64
        return Autoencoder(cfg, SequenceEncoder(cfg.input_shape, width),
                           SequenceDecoder(cfg.latent_dim, width, cfg.input_shape), variational)

    return build


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("ae", "MLP autoencoder (deterministic code)", False, _mlp(False)),
        ModelSpec("vae", "MLP variational autoencoder (Gaussian posterior, N(0, I) prior)", True,
                  _mlp(True)),
        ModelSpec("conv_ae", "Convolutional autoencoder (Conv+BN+LeakyReLU down, ConvTranspose up)",
                  False, _conv(False), needs_images=True),
        ModelSpec("conv_vae", "Convolutional variational autoencoder", True, _conv(True),
                  needs_images=True),
        ModelSpec("linear_ae", "Linear autoencoder: no nonlinearity, spans PCA's subspace", False,
                  _mlp(False), preset={"hidden": (), "activation": "linear", "likelihood": "gaussian"}),
        ModelSpec("deep_ae", "Deep MLP autoencoder 1000-500-250 (Hinton & Salakhutdinov 2006)", False,
                  _mlp(False), preset={"hidden": (1000, 500, 250)}),
        ModelSpec("sparse_ae", "Sparse autoencoder: sigmoid code, KL sparsity toward rho = 0.05", False,
                  _mlp(False), preset={"sparsity_target": 0.05, "sparsity_kl_weight": 1.0}),
        ModelSpec("denoising_ae", "Denoising autoencoder: Gaussian noise (std 0.3) on the input", False,
                  _mlp(False), preset={"noise": "gaussian", "noise_level": 0.3}),
        ModelSpec("contractive_ae", "Contractive autoencoder: penalizes the encoder's Jacobian", False,
                  _mlp(False), preset={"contractive_weight": 0.1}),
        ModelSpec("masked_ae", "Masked (inpainting) autoencoder: fills a random square patch", False,
                  _conv(False), needs_images=True, preset={"noise": "patch", "noise_level": 0.4}),
        ModelSpec("beta_vae", "beta-VAE: KL weighted by beta = 4", True, _mlp(True),
                  preset={"beta": 4.0}),
        ModelSpec("lstm_ae", "Sequence autoencoder: LSTM encoder and decoder for series (T, C)", False,
                  _sequence(False), needs_series=True, preset={"hidden": (64,), "likelihood": "gaussian"}),
        ModelSpec("lstm_vae", "Sequence VAE: LSTM encoder and decoder, Gaussian posterior", True,
                  _sequence(True), needs_series=True, preset={"hidden": (64,), "likelihood": "gaussian"}),
        ModelSpec("svae", "Hyperspherical VAE (Davidson et al. 2018): von Mises-Fisher posterior, "
                  "uniform prior on the unit sphere; codes are unit vectors", True, _mlp(True),
                  preset={"posterior": "vmf"}),
        ModelSpec("conv_svae", "Convolutional hyperspherical VAE (von Mises-Fisher posterior)", True,
                  _conv(True), needs_images=True, preset={"posterior": "vmf"}),
        ModelSpec("rbm", "Restricted Boltzmann machine baseline: codes are hidden-unit probabilities; "
                  "trained by scikit-learn's BernoulliRBM (persistent contrastive divergence, not "
                  "backprop) on data in [0, 1]", False, RBM,
                  preset={"hidden": (), "likelihood": "bernoulli"}, trainer=fit_rbm, lr=0.05),
    )
}


def model_config(name: str, input_shape: tuple[int, ...], latent_dim: int, **overrides: Any) -> ModelConfig:
    """The config of model ``name``: the family's preset, then ``overrides`` (values a user
    set explicitly; ``None`` means "not set")."""
    if name not in MODELS:
        raise ModelConfigError(f"Unknown model {name!r}. Choose one of {', '.join(MODELS)}.")
    known = {f.name for f in fields(ModelConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise ModelConfigError(f"Unknown model options: {', '.join(sorted(unknown))}.")
    values = {**MODELS[name].preset, **{k: v for k, v in overrides.items() if v is not None}}
    return ModelConfig(name=name, input_shape=input_shape, latent_dim=latent_dim, **values)


def build_model(cfg: ModelConfig) -> Autoencoder:
    if cfg.name not in MODELS:
        raise ModelConfigError(f"Unknown model {cfg.name!r}. Choose one of {', '.join(MODELS)}.")
    return MODELS[cfg.name].build(cfg)
