"""Frozen configs. Each step of the pipeline is a pure function of its inputs and one of
these, so a config doubles as a cache key and as the record of how a checkpoint was made.

They are also the one place options are validated: the CLI, the app, the library and a
loaded checkpoint all build these, so a value of the wrong type or out of range fails here,
with a ``ConfigError`` naming the option, the value and the allowed range."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any, Literal, get_args

from explorer.errors import ConfigError, ModelConfigError

Likelihood = Literal["bernoulli", "gaussian"]
NoiseKind = Literal["none", "gaussian", "masking", "salt_pepper", "patch"]
Activation = Literal["relu", "leaky_relu", "tanh", "sigmoid", "linear"]
Posterior = Literal["gaussian", "vmf"]
Color = Literal["grayscale", "rgb"]
Schedule = Literal["constant", "one_cycle"]
Method = Literal["raw", "pca", "umap", "tsne", "hammer"]

MAX_SEED = 2**32 - 1  # NumPy's and scikit-learn's seeds are 32-bit
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
MAX_NEIGHBORS = 200
MAX_PERPLEXITY = 1000.0


def _fail(name: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"{name} must be {allowed}, got {value!r}.")


def _integer(name: str, value: Any, lo: int, hi: int) -> int:
    """``value`` as an int in lo..hi; bools and floats are refused (True is not 1 epoch)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _fail(name, value, f"a whole number between {lo} and {hi}")
    if not lo <= value <= hi:
        raise _fail(name, int(value), f"between {lo} and {hi}")
    return int(value)


def _number(name: str, value: Any, lo: float, hi: float, lo_open: bool = False,
            hi_open: bool = False) -> float:
    """``value`` as a finite float in the interval; NaN, infinities and bools are refused."""
    interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail(name, value, f"a number in {interval}")
    value = float(value)
    above = value > lo if lo_open else value >= lo
    below = value < hi if hi_open else value <= hi
    if not (math.isfinite(value) and above and below):  # NaN fails every comparison
        raise _fail(name, value, f"in {interval}")
    return value


def _optional(check, name: str, value: Any, *limits: Any) -> Any:
    return None if value is None else check(name, value, *limits)


def _text(name: str, value: Any, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise _fail(name, value, "a non-empty string" + (" or null" if optional else ""))
    return value


def _choice(name: str, value: Any, kinds: Any) -> str:
    choices = get_args(kinds)
    if not isinstance(value, str) or value not in choices:
        raise _fail(name, value, f"one of {', '.join(choices)}")
    return value


def _sizes(name: str, value: Any, lo_len: int, hi_len: int, hi: int) -> tuple[int, ...]:
    """A list or tuple of lo_len..hi_len whole numbers, each from 1 to ``hi``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise _fail(name, value, f"a list of whole numbers between 1 and {hi}")
    if not lo_len <= len(value) <= hi_len:
        raise _fail(name, tuple(value), f"{lo_len} to {hi_len} whole numbers")
    return tuple(_integer(f"{name} entries", v, 1, hi) for v in value)


def check_seed(value: Any) -> int:
    """A random seed, for the commands whose seed no config holds."""
    return _integer("seed", value, 0, MAX_SEED)


def _set(config: Any, **values: Any) -> None:
    """Store normalized values on a frozen dataclass (JSON turns tuples into lists)."""
    for name, value in values.items():
        object.__setattr__(config, name, value)


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
        _text("name", self.name)
        _text("root", self.root, optional=True)
        _text("path", self.path, optional=True)
        _text("label_column", self.label_column, optional=True)
        _choice("color", self.color, Color)
        _set(self, test_fraction=_number("test_fraction", self.test_fraction, 0, 1, True, True),
             seed=check_seed(self.seed),
             max_samples=_optional(_integer, "max_samples", self.max_samples, 1, MAX_SAMPLES),
             image_size=_integer("image_size", self.image_size, MIN_IMAGE_SIZE, MAX_IMAGE_SIZE))


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
        _text("name", self.name)
        for name, kinds in (("activation", Activation), ("likelihood", Likelihood),
                            ("noise", NoiseKind), ("posterior", Posterior)):
            _choice(name, getattr(self, name), kinds)
        input_shape = _sizes("input_shape", self.input_shape, 1, 3, MAX_FEATURES)
        if math.prod(input_shape) > MAX_FEATURES:
            raise _fail("input_shape", input_shape, f"at most {MAX_FEATURES:,} numbers per item")
        # A Gaussian std may exceed 1; a share of pixels (masking, salt and pepper, a patch) not.
        noise_max = MAX_GAUSSIAN_NOISE if self.noise in ("none", "gaussian") else 1.0
        _set(self, input_shape=input_shape,
             hidden=_sizes("hidden", self.hidden, 0, MAX_LAYERS, MAX_WIDTH),
             channels=_sizes("channels", self.channels, 0, MAX_LAYERS, MAX_WIDTH),
             latent_dim=_integer("latent_dim", self.latent_dim, MIN_LATENT, MAX_LATENT),
             beta=_number("beta", self.beta, 0, MAX_WEIGHT),
             dropout=_number("dropout", self.dropout, 0, 1, hi_open=True),
             noise_level=_number("noise_level", self.noise_level, 0, noise_max),
             sparsity_l1=_number("sparsity_l1", self.sparsity_l1, 0, MAX_WEIGHT),
             sparsity_target=_number("sparsity_target", self.sparsity_target, 0, 1, hi_open=True),
             sparsity_kl_weight=_number("sparsity_kl_weight", self.sparsity_kl_weight, 0, MAX_WEIGHT),
             contractive_weight=_number("contractive_weight", self.contractive_weight, 0, MAX_WEIGHT))


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
        _text("device", self.device)
        _choice("schedule", self.schedule, Schedule)
        _set(self, epochs=_integer("epochs", self.epochs, 1, MAX_EPOCHS),
             batch_size=_integer("batch_size", self.batch_size, 1, MAX_BATCH),
             lr=_number("lr", self.lr, 0, MAX_LR, lo_open=True),
             weight_decay=_number("weight_decay", self.weight_decay, 0, MAX_LR),
             seed=check_seed(self.seed),
             grad_clip=_optional(_number, "grad_clip", self.grad_clip, 0, MAX_WEIGHT, True),
             eval_every=_integer("eval_every", self.eval_every, 1, MAX_EPOCHS),
             early_stopping_patience=_optional(_integer, "early_stopping_patience",
                                               self.early_stopping_patience, 0, MAX_EPOCHS),
             validation_fraction=_number("validation_fraction", self.validation_fraction, 0, 1,
                                         hi_open=True),
             augment_shift=_integer("augment_shift", self.augment_shift, 0, MAX_AUGMENT_SHIFT))

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


@dataclass(frozen=True)
class ProjectionConfig:
    method: Method = "pca"
    n_components: int = 2
    seed: int = 0
    n_neighbors: int = 15
    min_dist: float = 0.1
    perplexity: float = 30.0

    def __post_init__(self) -> None:
        _choice("method", self.method, Method)
        _set(self, n_components=_integer("n_components", self.n_components, 2, 3),
             seed=check_seed(self.seed),
             n_neighbors=_integer("n_neighbors", self.n_neighbors, 2, MAX_NEIGHBORS),
             min_dist=_number("min_dist", self.min_dist, 0, 1),
             perplexity=_number("perplexity", self.perplexity, 0, MAX_PERPLEXITY, lo_open=True))


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def from_dict(cls: type, values: dict[str, Any]) -> Any:
    """Build ``cls`` from a dict, ignoring unknown keys so older checkpoints still load."""
    if not isinstance(values, dict):
        raise ConfigError(f"a {cls.__name__} must be a JSON object of options, got {type(values).__name__}.")
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in known})
