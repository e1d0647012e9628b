"""Frozen configs. Each step of the pipeline is a pure function of its inputs and one of
these, so a config doubles as a cache key and as the record of how a checkpoint was made."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

Likelihood = Literal["bernoulli", "gaussian"]
NoiseKind = Literal["none", "gaussian", "masking", "salt_pepper", "patch"]
Activation = Literal["relu", "leaky_relu", "tanh", "sigmoid", "linear"]
Posterior = Literal["gaussian", "vmf"]


@dataclass(frozen=True)
class DataConfig:
    """Where the data comes from and how it is split.

    ``name`` is a source from ``explorer.data.SOURCES`` or ``"upload"`` with ``path`` set.
    """

    name: str = "digits"
    root: str | None = None
    path: str | None = None
    test_fraction: float = 0.2
    seed: int = 0
    max_samples: int | None = None
    image_size: int = 28
    color: Literal["grayscale", "rgb"] = "grayscale"
    label_column: str | None = None


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and loss. Regularizers are options here, not separate model classes."""

    name: str = "vae"
    input_shape: tuple[int, ...] = (1, 8, 8)
    latent_dim: int = 2
    hidden: tuple[int, ...] = (256, 128)
    activation: Activation = "relu"
    likelihood: Likelihood = "bernoulli"
    beta: float = 1.0
    channels: tuple[int, ...] = (32, 64)
    dropout: float = 0.0
    noise: NoiseKind = "none"
    noise_level: float = 0.0
    sparsity_l1: float = 0.0
    sparsity_target: float = 0.0
    sparsity_kl_weight: float = 0.0
    contractive_weight: float = 0.0
    # "vmf": von Mises-Fisher posterior and uniform prior on the unit sphere (S-VAE); variational
    # models only. Checkpoints from before this option load as "gaussian".
    posterior: Posterior = "gaussian"

    def __post_init__(self) -> None:
        # JSON round trips turn tuples into lists; keep the config hashable.
        for name in ("input_shape", "hidden", "channels"):
            object.__setattr__(self, name, tuple(int(v) for v in getattr(self, name)))


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "cpu"
    grad_clip: float | None = None
    eval_every: int = 1
    early_stopping_patience: int | None = None
    validation_fraction: float = 0.0
    # "one_cycle": the learning rate warms up to ``lr`` and anneals to near zero by the last
    # step (Smith & Topin 2019); long runs end much lower than at a constant rate. As torch's
    # OneCycleLR does by default, Adam's beta1 cycles the other way, between 0.95 and 0.85.
    schedule: Literal["constant", "one_cycle"] = "constant"
    # Each training image moves by a fresh random whole-pixel offset of up to this many pixels
    # (0: off); images only.
    augment_shift: int = 0


@dataclass(frozen=True)
class ProjectionConfig:
    method: Literal["raw", "pca", "umap", "tsne", "hammer"] = "pca"
    n_components: int = 2
    seed: int = 0
    n_neighbors: int = 15
    min_dist: float = 0.1
    perplexity: float = 30.0


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def from_dict(cls: type, values: dict[str, Any]) -> Any:
    """Build ``cls`` from a dict, ignoring unknown keys so older checkpoints still load."""
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in known})
