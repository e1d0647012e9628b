"""One-class anomaly detection with autoencoders.

The protocol of Ruff et al. (ICML 2018): train on the training items of the normal
class(es) only, score every test item (higher = more anomalous), and measure with the AUROC
how well the score separates the normal test items from those of every other class. A PCA
with as many components as the model's code, fitted on the same normal items and scored by
its reconstruction error, is measured beside it in the same run.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from explorer.apps.detection import auroc
from explorer.apps.metrics import reconstruction_sse
from explorer.config import Likelihood, TrainConfig
from explorer.data import Dataset
from explorer.errors import DataError, ModelConfigError
from explorer.models import MODELS, Autoencoder, build_model, model_config
from explorer.training.train import History, StepInfo, fit

ScoreKind = Literal["reconstruction", "neg_elbo"]
SCORE_KINDS: tuple[ScoreKind, ...] = ("reconstruction", "neg_elbo")

# Fewer normal items than this cannot fit the default model or a PCA of its code size.
MIN_NORMAL_TRAIN = 20


@dataclass(frozen=True)
class OneClassConfig:
    """The model trained on the normal items and how its score is read; ``hidden`` and
    ``likelihood`` set to None fall back to the model family's preset.

    The defaults are the recipe picked on MNIST classes 2, 3, 5 and 8 (mean AUROC there, PCA
    with 30 components 92.8): a small sigma-VAE scored by reconstruction error, 95.1. A plain
    AE reached 93.3; a Bernoulli VAE 94.7, but only 85.9 by its negative ELBO, since
    cross-entropy rewards images with little ink; a deeper 512-256 VAE 92.0 (it reconstructs
    anomalies too); a conv VAE fell below PCA on 2 and 8. Latent 16, widths 200, weight
    decay or 60 epochs changed it by less than the run-to-run noise. bench/anomaly_mnist.py
    gives the ten-class numbers.
    """

    model: str = "vae"
    latent_dim: int = 30
    hidden: tuple[int, ...] | None = (400,)
    likelihood: Likelihood | None = "gaussian"
    epochs: int | None = None  # None: as many as make ``steps`` optimizer steps
    steps: int = 1400  # 30 epochs of an MNIST class (~6,000 images); small classes need as many
    batch_size: int = 128
    lr: float | None = None  # None: the family's own (MODELS[model].lr)
    weight_decay: float = 0.0
    score: ScoreKind = "reconstruction"
    n_samples: int = 8
    seed: int = 0
    device: str = "cpu"


def recipe(**overrides: Any) -> OneClassConfig:
    """The default config with ``overrides`` (``None`` values mean "not set"). Another model
    than the recipe's drops its widths and likelihood, which were tuned for it, so that
    family's preset applies."""
    given = {k: v for k, v in overrides.items() if v is not None}
    cfg = dataclasses.replace(OneClassConfig(), **given)
    if cfg.model != OneClassConfig.model:
        cfg = dataclasses.replace(cfg, hidden=given.get("hidden"), likelihood=given.get("likelihood"))
    return cfg


def describe(cfg: OneClassConfig) -> str:
    """One line naming the recipe, for table titles."""
    widths = "-".join(str(w) for w in cfg.hidden) if cfg.hidden else "preset widths"
    length = f"{cfg.epochs} epochs" if cfg.epochs is not None else f"{cfg.steps} steps"
    return (f"{cfg.model} ({widths}, latent {cfg.latent_dim}, {cfg.likelihood or 'preset'} likelihood), "
            f"{length} of batch {cfg.batch_size}, score {cfg.score}")


class _TestCounts:
    """How many test items are normal and how many anomalous (from ``is_anomaly``)."""

    is_anomaly: np.ndarray

    @property
    def n_normal_test(self) -> int:
        return int((~self.is_anomaly).sum())

    @property
    def n_anomalous_test(self) -> int:
        return int(self.is_anomaly.sum())


@dataclass(frozen=True, eq=False)
class OneClassSplit(_TestCounts):
    """``train`` holds only normal items (its test part: the normal test items, which the
    trainer reports losses on); ``x_test``/``y_test`` are the whole test split."""

    data_name: str
    normal: tuple[int, ...]
    normal_names: tuple[str, ...]
    train: Dataset
    x_test: torch.Tensor
    y_test: torch.Tensor
    is_anomaly: np.ndarray


@dataclass(frozen=True, eq=False)
class OneClassResult(_TestCounts):
    """Scores of every test item by the model and by the PCA baseline, and their AUROCs."""

    data_name: str
    normal: tuple[int, ...]
    normal_names: tuple[str, ...]
    model: str
    latent_dim: int
    score: ScoreKind
    scores: np.ndarray
    pca_scores: np.ndarray
    pca_components: int
    y_test: np.ndarray
    is_anomaly: np.ndarray
    auroc: float
    pca_auroc: float
    epochs_run: int | None
    seconds: float

    def summary(self) -> dict[str, Any]:
        """Plain numbers and strings (no arrays), ready for JSON."""
        return {
            "data": self.data_name, "normal": list(self.normal_names), "model": self.model,
            "latent_dim": self.latent_dim, "score": self.score, "auroc": self.auroc,
            "pca_auroc": self.pca_auroc, "pca_components": self.pca_components,
            "n_normal_test": self.n_normal_test, "n_anomalous_test": self.n_anomalous_test,
            "epochs_run": self.epochs_run, "seconds": round(self.seconds, 2),
        }


# ---- the split --------------------------------------------------------------------------


def resolve_classes(data: Dataset, classes: Sequence[int | str]) -> tuple[int, ...]:
    """Label indices of ``classes``, each given by its name or its index."""
    _require_labels(data)
    return tuple(sorted({data.class_label(c) for c in classes}))


def one_class_split(data: Dataset, normal: Sequence[int | str],
                    min_train: int = MIN_NORMAL_TRAIN) -> OneClassSplit:
    """Training items of the ``normal`` classes (names or indices) to train on; the whole
    test split to score, where every item of another class is an anomaly."""
    _require_labels(data)
    present = torch.unique(torch.cat([data.y_train, data.y_test]))
    if len(present) < 2:
        raise DataError(
            f"{data.name} has a single class ({data.label_name(int(present[0]))}), so there are "
            "no anomalies to score. Use data with at least two classes."
        )
    labels = resolve_classes(data, normal)
    names = tuple(data.label_name(c) for c in labels)
    normal_t = torch.tensor(labels)
    train_mask = torch.isin(data.y_train, normal_t)
    test_mask = torch.isin(data.y_test, normal_t)
    for label, name in zip(labels, names):
        n_train = int((data.y_train == label).sum())
        if n_train < min_train:
            raise DataError(
                f"Class {name!r} has {n_train} training items; at least {min_train} are needed "
                "to train on it. Pick a larger class or add data."
            )
    if not test_mask.any():
        raise DataError(f"No test item of {data.name} is of class {', '.join(names)}; the AUROC "
                        "needs normal test items. Use a larger test split.")
    if test_mask.all():
        raise DataError(f"Every test item of {data.name} is of a normal class ({', '.join(names)}); "
                        "leave at least one class out as anomalies.")
    train = Dataset(
        name=f"{data.name} (normal: {', '.join(names)})", kind=data.kind,
        x_train=data.x_train[train_mask], y_train=data.y_train[train_mask],
        x_test=data.x_test[test_mask], y_test=data.y_test[test_mask],
        class_names=data.class_names, feature_names=data.feature_names,
    )
    return OneClassSplit(data.name, labels, names, train, data.x_test, data.y_test,
                         (~test_mask).numpy())


def _require_labels(data: Dataset) -> None:
    if data.y_train is None or data.y_test is None:
        raise DataError(
            f"{data.name} has no labels. One-class anomaly detection trains on one class and "
            "scores the others as anomalies; use labelled data (for a CSV, name the label column)."
        )


# ---- scores -----------------------------------------------------------------------------


@torch.no_grad()
def neg_elbo_per_item(model: Autoencoder, x: torch.Tensor, n_samples: int = 8, seed: int = 0,
                      batch_size: int = 1024) -> torch.Tensor:
    """-ELBO of each item in nats: -log p(x | z) + KL(q(z | x) || p(z)), averaged over
    ``n_samples`` posterior draws (with a fixed seed). The true ELBO (beta = 1) whatever beta
    trained the model, so scores of different VAEs are in the same units."""
    if not model.variational:
        raise ModelConfigError(
            f"The negative ELBO needs a variational model; {model.cfg.name!r} is not one. "
            "Score it by reconstruction error instead."
        )
    model.check_input(x[:1])
    model.eval()
    device = model.device
    out = []
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for start in range(0, len(x), batch_size):
            batch = x[start:start + batch_size].to(device)
            total = torch.zeros(len(batch), device=device)
            for _ in range(n_samples):
                _, z, kl = model.sample_posterior(batch)
                total += model.nll(model.decode_params(z), batch) + kl
            out.append((total / n_samples).cpu())
    return torch.cat(out)


def anomaly_scores(model: Autoencoder, x: torch.Tensor, score: ScoreKind = "reconstruction",
                   n_samples: int = 8, seed: int = 0) -> np.ndarray:
    """One score per item, higher = more anomalous: the summed squared reconstruction error
    (through the posterior mean for VAEs) or the negative ELBO."""
    if score == "reconstruction":
        model.check_input(x[:1])
        return reconstruction_sse(model, x).numpy()
    if score == "neg_elbo":
        return neg_elbo_per_item(model, x, n_samples, seed).numpy()
    raise ModelConfigError(f"Unknown anomaly score {score!r}. Choose one of {', '.join(SCORE_KINDS)}.")


def pca_scores(x_train: torch.Tensor, x_test: torch.Tensor, n_components: int,
               seed: int = 0) -> np.ndarray:
    """Summed squared error of each test item's reconstruction by a PCA fitted on
    ``x_train`` (at most as many components as the data allow)."""
    from sklearn.decomposition import PCA

    train, test = x_train.flatten(1).numpy(), x_test.flatten(1).numpy()
    pca = PCA(pca_size(x_train, n_components), random_state=seed).fit(train)
    return ((pca.inverse_transform(pca.transform(test)) - test) ** 2).sum(axis=1)


# ---- metrics ----------------------------------------------------------------------------


def pca_size(x_train: torch.Tensor, n_components: int) -> int:
    """Components a PCA of ``x_train`` can have, at most ``n_components``."""
    return min(n_components, len(x_train), x_train[0].numel())


def most_anomalous(result: OneClassResult, k: int = 16) -> np.ndarray:
    """Test indices of the ``k`` highest-scoring items, highest first."""
    return np.argsort(-result.scores, kind="stable")[:k]


# ---- the protocol -----------------------------------------------------------------------


def build_one_class_model(split: OneClassSplit, cfg: OneClassConfig) -> Autoencoder:
    model_cfg = model_config(cfg.model, split.train.item_shape, cfg.latent_dim, hidden=cfg.hidden,
                             likelihood=cfg.likelihood or split.train.likelihood)
    return build_model(model_cfg)


def resolve_epochs(cfg: OneClassConfig, n_train: int) -> OneClassConfig:
    """``cfg`` with its epochs set: as given, or enough for ``cfg.steps`` optimizer steps on
    ``n_train`` items. The recipe is a number of updates, not of passes: 30 epochs over the
    ~150 items of a digits class leave the model barely trained."""
    if cfg.epochs is not None:
        return cfg
    steps_per_epoch = math.ceil(n_train / cfg.batch_size)
    return dataclasses.replace(cfg, epochs=max(1, math.ceil(cfg.steps / steps_per_epoch)))


def train_one_class(split: OneClassSplit, cfg: OneClassConfig,
                    on_step: Callable[[StepInfo], None] | None = None,
                    should_stop: Callable[[], bool] | None = None) -> tuple[Autoencoder, History]:
    """A fresh model of ``cfg`` trained on the normal training items only."""
    cfg = resolve_epochs(cfg, len(split.train.x_train))
    model = build_one_class_model(split, cfg)
    train_cfg = TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size,
                            lr=cfg.lr or MODELS[cfg.model].lr,
                            weight_decay=cfg.weight_decay, seed=cfg.seed, device=cfg.device,
                            eval_every=cfg.epochs)  # test losses of normal items only matter at the end
    history = fit(model, split.train, train_cfg, on_step=on_step, should_stop=should_stop)
    return model, history


def score_one_class(model: Autoencoder, split: OneClassSplit, score: ScoreKind = "reconstruction",
                    n_samples: int = 8, seed: int = 0, epochs_run: int | None = None,
                    seconds: float = 0.0) -> OneClassResult:
    """Score the whole test split with ``model`` (trained on the normal items) and with the
    PCA baseline of the same code size, and measure both AUROCs."""
    model.check_input(split.x_test[:1])
    start = time.perf_counter()
    scores = anomaly_scores(model, split.x_test, score, n_samples, seed)
    baseline = pca_scores(split.train.x_train, split.x_test, model.latent_dim, seed)
    return OneClassResult(
        data_name=split.data_name, normal=split.normal, normal_names=split.normal_names,
        model=model.cfg.name, latent_dim=model.latent_dim, score=score, scores=scores,
        pca_scores=baseline, pca_components=pca_size(split.train.x_train, model.latent_dim),
        y_test=split.y_test.numpy(), is_anomaly=split.is_anomaly,
        auroc=auroc(scores, split.is_anomaly), pca_auroc=auroc(baseline, split.is_anomaly),
        epochs_run=epochs_run, seconds=seconds + time.perf_counter() - start,
    )


def run_one_class(data: Dataset, normal: Sequence[int | str], cfg: OneClassConfig = OneClassConfig(),
                  on_step: Callable[[StepInfo], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> tuple[Autoencoder, OneClassResult]:
    """Train on the ``normal`` classes of ``data`` and score its whole test split."""
    _check_config(cfg)
    split = one_class_split(data, normal)
    model, history = train_one_class(split, cfg, on_step, should_stop)
    result = score_one_class(model, split, cfg.score, cfg.n_samples, cfg.seed,
                             epochs_run=history.epochs_run, seconds=history.seconds)
    return model, result


def _check_config(cfg: OneClassConfig) -> None:
    """Fail before training, not after it, on a score the model cannot give."""
    if cfg.score not in SCORE_KINDS:
        raise ModelConfigError(
            f"Unknown anomaly score {cfg.score!r}. Choose one of {', '.join(SCORE_KINDS)}."
        )
    if cfg.model not in MODELS:
        raise ModelConfigError(f"Unknown model {cfg.model!r}. Choose one of {', '.join(MODELS)}.")
    if cfg.score == "neg_elbo" and not MODELS[cfg.model].variational:
        raise ModelConfigError(
            f"The negative ELBO needs a variational model; {cfg.model!r} is not one. Pick a VAE "
            "or score by reconstruction error."
        )


def run_all_classes(data: Dataset, cfg: OneClassConfig = OneClassConfig(),
                    on_class: Callable[[int, int, OneClassResult], None] | None = None,
                    ) -> list[OneClassResult]:
    """The one-class protocol with each class of ``data`` normal in turn. ``on_class(i, n,
    result)`` is called after each class, for progress."""
    _require_labels(data)
    classes = [int(c) for c in torch.unique(torch.cat([data.y_train, data.y_test]))]
    results = []
    for i, label in enumerate(classes):
        results.append(run_one_class(data, [label], cfg)[1])
        if on_class is not None:
            on_class(i + 1, len(classes), results[-1])
    return results
