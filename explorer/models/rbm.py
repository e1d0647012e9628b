"""A restricted Boltzmann machine baseline behind the autoencoder interface.

The weights are learned by scikit-learn's ``BernoulliRBM`` (persistent contrastive divergence),
not by backpropagation, and copied into a torch module, so the RBM encodes, decodes, saves and
loads like every other model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import nn

from explorer.config import ModelConfig, TrainConfig
from explorer.device import resolve_device
from explorer.errors import DataError, ModelConfigError
from explorer.models.base import Autoencoder
from explorer.models.bodies import MLPEncoder
from explorer.training.history import EpochSums, History, StepInfo, StepReporter, close_epoch

if TYPE_CHECKING:
    from sklearn.neural_network import BernoulliRBM

    from explorer.data import Dataset


class VisibleBias(nn.Module):
    """The decoder's own parameter: the visible bias b_v, reshaped to items."""

    def __init__(self, output_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.output_shape = output_shape
        self.bias = nn.Parameter(torch.zeros(math.prod(output_shape)))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return (a + self.bias).view(-1, *self.output_shape)


class RBM(Autoencoder):
    """Bernoulli-Bernoulli RBM read as a one-layer autoencoder with tied weights.

    The code is p(h = 1 | v) = sigmoid(W v + b_h) (``BernoulliRBM.transform``); decoding is the
    mean-field visible reconstruction sigmoid(W^T h + b_v). ``head`` holds W and b_h, so the
    decoder holds only b_v.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        if cfg.likelihood != "bernoulli":
            raise ModelConfigError("An RBM has binary visible units; its likelihood must be bernoulli.")
        if cfg.hidden:
            raise ModelConfigError(
                "An RBM has one hidden layer, of latent_dim units; leave the hidden widths empty."
            )
        super().__init__(cfg, MLPEncoder(cfg.input_shape, ()), VisibleBias(cfg.input_shape),
                         variational=False)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return torch.sigmoid(self.head(self.encoder(x))), None

    def decode_params(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z @ self.head.weight)


@torch.no_grad()
def load_bernoulli_rbm(model: RBM, rbm: BernoulliRBM) -> None:
    """Copy a fitted ``BernoulliRBM``'s weights into ``model`` (on the model's device)."""
    model.head.weight.copy_(torch.from_numpy(rbm.components_))
    model.head.bias.copy_(torch.from_numpy(rbm.intercept_hidden_))
    model.decoder.bias.copy_(torch.from_numpy(rbm.intercept_visible_))


def unit_range_rows(x: torch.Tensor, name: str) -> np.ndarray:
    """``x`` flattened to float64 rows, after checking it lies in [0, 1] as binary units need."""
    lo, hi = x.min().item(), x.max().item()
    if lo < 0 or hi > 1:
        raise DataError(
            f"An RBM models binary units, so it needs data in [0, 1]; {name} ranges over "
            f"[{lo:.3g}, {hi:.3g}]. Scale the data to [0, 1] or pick another model."
        )
    return x.flatten(1).to(torch.float64).numpy()


def _refuse_gradient_options(cfg: TrainConfig) -> None:
    default = TrainConfig()
    set_options = [name for name in ("weight_decay", "grad_clip", "validation_fraction",
                                     "early_stopping_patience", "schedule", "augment_shift")
                   if getattr(cfg, name) != getattr(default, name)]
    if set_options:
        raise ModelConfigError(
            "The RBM is trained by scikit-learn's BernoulliRBM for a fixed number of epochs, without "
            f"{', '.join(set_options)}; leave {'it' if len(set_options) == 1 else 'them'} unset."
        )


# OpenBLAS threads spin while they wait: as soon as anything else wants a core, the RBM's small
# matrix products crawl (2 busy cores, digits, 5 epochs: 8.4 s against 0.12 s on one thread),
# and they gain next to nothing from threads when the cores are free.
@threadpool_limits.wrap(limits=1, user_api="blas")
def fit_rbm(
    model: RBM,
    data: Dataset,
    cfg: TrainConfig,
    on_step: Callable[[StepInfo], None] | None = None,
    on_epoch: Callable[[int, History], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> History:
    """``explorer.training.train.fit`` for an RBM: ``BernoulliRBM.partial_fit`` on the very minibatches
    ``BernoulliRBM.fit`` uses (so the weights equal its result), the weights copied into the
    model after each one so progress, Stop and the losses see the model as it is.

    The logged losses are the model's (the Bernoulli NLL of the mean-field reconstruction);
    the RBM itself follows the likelihood gradient, which it cannot evaluate.
    """
    from sklearn.neural_network import BernoulliRBM
    from sklearn.utils import gen_even_slices

    _refuse_gradient_options(cfg)
    rows = unit_range_rows(data.x_train, data.name)
    rbm = BernoulliRBM(n_components=model.latent_dim, learning_rate=cfg.lr,
                       batch_size=cfg.batch_size, n_iter=cfg.epochs, random_state=cfg.seed)
    n_batches = math.ceil(len(rows) / cfg.batch_size)
    batches = list(gen_even_slices(n_batches * cfg.batch_size, n_batches, n_samples=len(rows)))
    model.to(resolve_device(cfg.device))
    x_train = data.x_train.to(model.device)
    history = History()
    start = time.perf_counter()
    reporter = StepReporter(on_step)
    for epoch in range(1, cfg.epochs + 1):
        sums = EpochSums()
        reporter.start_epoch()
        for step, batch in enumerate(batches, start=1):
            rbm.partial_fit(rows[batch])
            load_bernoulli_rbm(model, rbm)
            with torch.no_grad():
                terms = model.loss(x_train[batch])
            sums.add(terms, len(rows[batch]))
            stopping = should_stop is not None and should_stop()
            if stopping or reporter.due(step, n_batches):
                reporter.report(epoch, step, n_batches, sums, cfg.lr)
            if stopping:
                history.stop_reason = "stopped"
                break
        close_epoch(history, epoch, sums, model, data.x_test, cfg, start, on_epoch)
        if history.stop_reason == "stopped":
            break
    return history

