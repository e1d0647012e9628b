"""Model names to builders. ``build_model(cfg)`` is the only way models are made, so a
checkpoint's config alone rebuilds its model."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from explorer.checks import env_limit
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

MAX_PARAMS_ENV = "LATENT_EXPLORER_MAX_PARAMS"
DEFAULT_MAX_PARAMS = 200_000_000  # 0.8 GB of float32 weights; training needs about four times that


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    variational: bool
    build: Callable[[ModelConfig], Autoencoder]
    # The number of parameters ``build`` would make, computed without allocating any.
    size: Callable[[ModelConfig], int]
    needs_images: bool = False
    needs_series: bool = False
    preset: dict[str, Any] = field(default_factory=dict)  # ModelConfig values this family implies
    # Trains the family instead of explorer.training.train.fit's gradient descent, with fit's signature
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


def _linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def _lstm(n_in: int, width: int) -> int:
    return 4 * (width * n_in + width * width + 2 * width)  # input, recurrent and two biases


def _head(cfg: ModelConfig, width: int, variational: bool) -> int:
    """The latent head's and the output scale's parameters (``base.Autoencoder``)."""
    n_out = {"gaussian": 2 * cfg.latent_dim, "vmf": cfg.latent_dim + 1}[cfg.posterior]
    return _linear(width, n_out if variational else cfg.latent_dim) + (cfg.likelihood == "gaussian")


def _mlp_size(variational: bool) -> Callable[[ModelConfig], int]:
    def size(cfg: ModelConfig) -> int:
        features = math.prod(cfg.input_shape)
        down = [features, *cfg.hidden]
        up = [cfg.latent_dim, *reversed(cfg.hidden), features]
        return (sum(_linear(a, b) for a, b in zip(down, down[1:])) + _head(cfg, down[-1], variational)
                + sum(_linear(a, b) for a, b in zip(up, up[1:])))

    return size


def _conv_size(variational: bool) -> Callable[[ModelConfig], int]:
    def size(cfg: ModelConfig) -> int:
        if len(cfg.input_shape) != 3 or not cfg.channels:
            return 0  # the builder refuses these with a message of its own
        c, h, w = cfg.input_shape
        depth = len(cfg.channels)
        last = cfg.channels[-1] * (h >> depth) * (w >> depth)  # each stride-2 conv halves the image
        ins = (c, *cfg.channels[:-1])
        down = sum(16 * a * b + b + 2 * b for a, b in zip(ins, cfg.channels))  # conv 4x4, BatchNorm
        ups = list(zip(reversed(cfg.channels), reversed(ins)))
        up = sum(16 * a * b + b for a, b in ups) + sum(2 * b for _, b in ups[:-1])
        return down + _head(cfg, last, variational) + _linear(cfg.latent_dim, last) + up

    return size


def _sequence_size(variational: bool) -> Callable[[ModelConfig], int]:
    def size(cfg: ModelConfig) -> int:
        if len(cfg.input_shape) != 2:
            return 0  # the builder refuses these with a message of its own
        width, channels = cfg.hidden[0] if cfg.hidden else 64, cfg.input_shape[1]
        return (_lstm(channels, width) + _head(cfg, width, variational) + _lstm(cfg.latent_dim, width)
                + _linear(width, channels))

    return size


def _rbm_size(cfg: ModelConfig) -> int:
    features = math.prod(cfg.input_shape)
    return _linear(features, cfg.latent_dim) + features  # W and the hidden bias; the visible bias


def _mlp(variational: bool) -> Callable[[ModelConfig], Autoencoder]:
    def build(cfg: ModelConfig) -> Autoencoder:
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
        ModelSpec("ae", "MLP autoencoder (deterministic code)", False, _mlp(False), _mlp_size(False)),
        ModelSpec("vae", "MLP variational autoencoder (Gaussian posterior, N(0, I) prior)", True,
                  _mlp(True), _mlp_size(True)),
        ModelSpec("conv_ae", "Convolutional autoencoder (Conv+BN+LeakyReLU down, ConvTranspose up)",
                  False, _conv(False), _conv_size(False), needs_images=True),
        ModelSpec("conv_vae", "Convolutional variational autoencoder", True, _conv(True),
                  _conv_size(True), needs_images=True),
        ModelSpec("linear_ae", "Linear autoencoder: no nonlinearity, spans PCA's subspace", False,
                  _mlp(False), _mlp_size(False),
                  preset={"hidden": (), "activation": "linear", "likelihood": "gaussian"}),
        ModelSpec("deep_ae", "Deep MLP autoencoder 1000-500-250 (Hinton & Salakhutdinov 2006)", False,
                  _mlp(False), _mlp_size(False), preset={"hidden": (1000, 500, 250)}),
        ModelSpec("sparse_ae", "Sparse autoencoder: sigmoid code, KL sparsity toward rho = 0.05", False,
                  _mlp(False), _mlp_size(False),
                  preset={"sparsity_target": 0.05, "sparsity_kl_weight": 1.0}),
        ModelSpec("denoising_ae", "Denoising autoencoder: Gaussian noise (std 0.3) on the input", False,
                  _mlp(False), _mlp_size(False), preset={"noise": "gaussian", "noise_level": 0.3}),
        ModelSpec("contractive_ae", "Contractive autoencoder: penalizes the encoder's Jacobian", False,
                  _mlp(False), _mlp_size(False), preset={"contractive_weight": 0.1}),
        ModelSpec("masked_ae", "Masked (inpainting) autoencoder: fills a random square patch", False,
                  _conv(False), _conv_size(False), needs_images=True,
                  preset={"noise": "patch", "noise_level": 0.4}),
        ModelSpec("beta_vae", "beta-VAE: KL weighted by beta = 4", True, _mlp(True),
                  _mlp_size(True), preset={"beta": 4.0}),
        ModelSpec("lstm_ae", "Sequence autoencoder: LSTM encoder and decoder for series (T, C)", False,
                  _sequence(False), _sequence_size(False), needs_series=True,
                  preset={"hidden": (64,), "likelihood": "gaussian"}),
        ModelSpec("lstm_vae", "Sequence VAE: LSTM encoder and decoder, Gaussian posterior", True,
                  _sequence(True), _sequence_size(True), needs_series=True,
                  preset={"hidden": (64,), "likelihood": "gaussian"}),
        ModelSpec("svae", "Hyperspherical VAE (Davidson et al. 2018): von Mises-Fisher posterior, "
                  "uniform prior on the unit sphere; codes are unit vectors", True, _mlp(True),
                  _mlp_size(True), preset={"posterior": "vmf"}),
        ModelSpec("conv_svae", "Convolutional hyperspherical VAE (von Mises-Fisher posterior)", True,
                  _conv(True), _conv_size(True), needs_images=True, preset={"posterior": "vmf"}),
        ModelSpec("rbm", "Restricted Boltzmann machine baseline: codes are hidden-unit probabilities; "
                  "trained by scikit-learn's BernoulliRBM (persistent contrastive divergence, not "
                  "backprop) on data in [0, 1]", False, RBM, _rbm_size,
                  preset={"hidden": (), "likelihood": "bernoulli"}, trainer=fit_rbm, lr=0.05),
    )
}


def model_config(name: str, input_shape: tuple[int, ...], latent_dim: int, **overrides: Any) -> ModelConfig:
    """The config of model ``name``: the family's preset, then ``overrides`` (values a user
    set explicitly; ``None`` means "not set")."""
    spec = model_spec(name)
    known = {f.name for f in fields(ModelConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise ModelConfigError(f"Unknown model options: {', '.join(sorted(unknown))}.")
    values = {**spec.preset, **{k: v for k, v in overrides.items() if v is not None}}
    return ModelConfig(name=name, input_shape=input_shape, latent_dim=latent_dim, **values)


def max_parameters() -> int:
    """The largest model ``build_model`` makes: ``$LATENT_EXPLORER_MAX_PARAMS`` or 200 million."""
    return env_limit(MAX_PARAMS_ENV, DEFAULT_MAX_PARAMS, "parameters", ModelConfigError)


def parameter_count(cfg: ModelConfig) -> int:
    """How many parameters ``build_model(cfg)`` makes, without making them."""
    return model_spec(cfg.name).size(cfg)


def build_model(cfg: ModelConfig) -> Autoencoder:
    """The model ``cfg`` describes; one over the size limit is refused before anything is
    allocated, so a typo like ``--hidden 1000000000`` fails at once instead of exhausting memory."""
    n, limit = parameter_count(cfg), max_parameters()
    if n > limit:
        raise ModelConfigError(
            f"{cfg.name} with these settings would have {n:,} parameters ({4 * n / 2**30:.1f} GiB "
            f"as float32, several times that to train); the limit is {limit:,}. Use smaller "
            f"hidden widths, channels, latent size or images, or raise the limit with {MAX_PARAMS_ENV}."
        )
    return MODELS[cfg.name].build(cfg)


def model_spec(name: str) -> ModelSpec:
    """The family called ``name``, or an error listing the names there are."""
    if name not in MODELS:
        raise ModelConfigError(f"Unknown model {name!r}. Choose one of {', '.join(MODELS)}.")
    return MODELS[name]
