"""Frozen configs. Each step of the pipeline is a pure function of its inputs and one of
these, so a config doubles as a cache key and as the record of how a checkpoint was made.

They are also the one place options are validated (with ``explorer.checks``): the CLI, the
app, the library and a loaded checkpoint all build these, so a value of the wrong type or out
of range fails here, with a ``ConfigError`` naming the option, the value and the allowed
range. A map's config, ``ProjectionConfig``, sits beside the methods it names, in
``explorer.projection.methods``."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

from explorer.checks import (
    check_choice,
    check_number,
    check_optional,
    check_seed,
    check_sizes,
    check_text,
    check_whole,
    fail,
    store,
)
from explorer.errors import ConfigError, ModelConfigError

Likelihood = Literal["bernoulli", "gaussian"]
NoiseKind = Literal["none", "gaussian", "masking", "salt_pepper", "patch"]
Activation = Literal["relu", "leaky_relu", "tanh", "sigmoid", "linear"]
Posterior = Literal["gaussian", "vmf"]
Color = Literal["grayscale", "rgb"]
Schedule = Literal["constant", "one_cycle"]

MIN_LATENT, MAX_LATENT = 2, 256
MAX_WIDTH = 16_384  # one hidden layer's width or one conv layer's channels
MAX_LAYERS = 16
MAX_FEATURES = 1 << 26  # numbers in one item (the product of input_shape)
MAX_SAMPLES = 100_000_000
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 2, 512
MAX_EPOCHS = 100_000
MAX_BATCH = 1 << 20
MAX_WEIGHT = 1e6  # loss weights: beta, sparsity and contractive weights
MAX_GAUSSIAN_NOISE = 10.0
MAX_LR = 10.0
MAX_AUGMENT_SHIFT = 8


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
    color: Color = "grayscale"
    label_column: str | None = None

    def __post_init__(self) -> None:
        check_text("name", self.name)
        check_text("root", self.root, optional=True)
        check_text("path", self.path, optional=True)
        check_text("label_column", self.label_column, optional=True)
        check_choice("color", self.color, get_args(Color))
        store(self, test_fraction=check_number("test_fraction", self.test_fraction, 0, 1, True, True),
              seed=check_seed(self.seed),
              max_samples=check_optional(check_whole, "max_samples", self.max_samples, 1, MAX_SAMPLES),
              image_size=check_whole("image_size", self.image_size, MIN_IMAGE_SIZE, MAX_IMAGE_SIZE))


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
        try:
            self._validate()
        except ConfigError as exc:  # a model's settings: the error the model builders raise too
            raise ModelConfigError(str(exc)) from None

    def _validate(self) -> None:
        check_text("name", self.name)
        for name, kinds in (("activation", Activation), ("likelihood", Likelihood),
                            ("noise", NoiseKind), ("posterior", Posterior)):
            check_choice(name, getattr(self, name), get_args(kinds))
        input_shape = check_sizes("input_shape", self.input_shape, 1, 3, MAX_FEATURES)
        if math.prod(input_shape) > MAX_FEATURES:
            raise fail("input_shape", input_shape, f"at most {MAX_FEATURES:,} numbers per item")
        # A Gaussian std may exceed 1; a share of pixels (masking, salt and pepper, a patch) not.
        noise_max = MAX_GAUSSIAN_NOISE if self.noise in ("none", "gaussian") else 1.0
        store(self, input_shape=input_shape,
              hidden=check_sizes("hidden", self.hidden, 0, MAX_LAYERS, MAX_WIDTH),
              channels=check_sizes("channels", self.channels, 0, MAX_LAYERS, MAX_WIDTH),
              latent_dim=check_whole("latent_dim", self.latent_dim, MIN_LATENT, MAX_LATENT),
              beta=check_number("beta", self.beta, 0, MAX_WEIGHT),
              dropout=check_number("dropout", self.dropout, 0, 1, hi_open=True),
              noise_level=check_number("noise_level", self.noise_level, 0, noise_max),
              sparsity_l1=check_number("sparsity_l1", self.sparsity_l1, 0, MAX_WEIGHT),
              sparsity_target=check_number("sparsity_target", self.sparsity_target, 0, 1, hi_open=True),
              sparsity_kl_weight=check_number("sparsity_kl_weight", self.sparsity_kl_weight, 0, MAX_WEIGHT),
              contractive_weight=check_number("contractive_weight", self.contractive_weight, 0, MAX_WEIGHT))


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
    schedule: Schedule = "constant"
    # Each training image moves by a fresh random whole-pixel offset of up to this many pixels
    # (0: off); images only.
    augment_shift: int = 0

    def __post_init__(self) -> None:
        check_text("device", self.device)
        check_choice("schedule", self.schedule, get_args(Schedule))
        store(self, epochs=check_whole("epochs", self.epochs, 1, MAX_EPOCHS),
              batch_size=check_whole("batch_size", self.batch_size, 1, MAX_BATCH),
              lr=check_number("lr", self.lr, 0, MAX_LR, lo_open=True),
              weight_decay=check_number("weight_decay", self.weight_decay, 0, MAX_LR),
              seed=check_seed(self.seed),
              grad_clip=check_optional(check_number, "grad_clip", self.grad_clip, 0, MAX_WEIGHT, True),
              eval_every=check_whole("eval_every", self.eval_every, 1, MAX_EPOCHS),
              early_stopping_patience=check_optional(check_whole, "early_stopping_patience",
                                                     self.early_stopping_patience, 0, MAX_EPOCHS),
              validation_fraction=check_number("validation_fraction", self.validation_fraction, 0, 1,
                                               hi_open=True),
              augment_shift=check_whole("augment_shift", self.augment_shift, 0, MAX_AUGMENT_SHIFT))

    def validation_items(self, n_train: int) -> int:
        """How many of ``n_train`` training items the validation split takes (at least one
        when the fraction is above 0), refusing a split that leaves none to train on."""
        n_val = max(1, round(self.validation_fraction * n_train)) if self.validation_fraction else 0
        if n_val >= n_train:
            raise ConfigError(
                f"validation_fraction {self.validation_fraction:g} of {n_train} training items "
                "leaves none to train on; lower it or use more data."
            )
        return n_val


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def from_dict(cls: type, values: dict[str, Any]) -> Any:
    """Build ``cls`` from a dict, ignoring unknown keys so older checkpoints still load."""
    if not isinstance(values, dict):
        raise ConfigError(f"a {cls.__name__} must be a JSON object of options, got {type(values).__name__}.")
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in known})
