"""Model names to builders. ``build_model(cfg)`` is the only way models are made, so a
checkpoint's config alone rebuilds its model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from explorer.config import ModelConfig
from explorer.errors import ModelConfigError
from explorer.models.base import Autoencoder
from explorer.models.bodies import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    variational: bool
    build: Callable[[ModelConfig], Autoencoder]
    needs_images: bool = False


def _mlp(variational: bool) -> Callable[[ModelConfig], Autoencoder]:
    def build(cfg: ModelConfig) -> Autoencoder:
        if not cfg.hidden:
            raise ModelConfigError("An MLP model needs at least one hidden layer size.")
        return Autoencoder(
            cfg,
            MLPEncoder(cfg.input_shape, cfg.hidden, dropout=cfg.dropout),
            MLPDecoder(cfg.latent_dim, cfg.hidden, cfg.input_shape, dropout=cfg.dropout),
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
    )
}


def build_model(cfg: ModelConfig) -> Autoencoder:
    if cfg.name not in MODELS:
        raise ModelConfigError(f"Unknown model {cfg.name!r}. Choose one of {', '.join(MODELS)}.")
    return MODELS[cfg.name].build(cfg)
