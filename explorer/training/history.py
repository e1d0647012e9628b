"""What a training run records, and the epoch bookkeeping every trainer shares.

Both the gradient-descent loop (``explorer.training.train``) and the RBM's trainer
(``explorer.models.rbm``) import this module, and it imports no trainer and no model
family, so neither trainer depends on the other and the model registry can name the RBM's
trainer without importing the training loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch

from explorer.config import TrainConfig


@dataclass(frozen=True)
class StepInfo:
    epoch: int
    step: int
    steps_per_epoch: int
    losses: dict[str, float]
    lr: float  # the learning rate this step used

    @property
    def progress(self) -> float:
        return self.step / self.steps_per_epoch


@dataclass
class History:
    """Per-epoch means of every loss term on train, validation and test data."""

    train: dict[str, list[float]] = field(default_factory=dict)
    validation: dict[str, list[float]] = field(default_factory=dict)
    test: dict[str, list[float]] = field(default_factory=dict)
    epochs_run: int = 0
    seconds: float = 0.0
    stop_reason: str = "completed"
    best_epoch: int | None = None

    def add(self, split: str, epoch_losses: dict[str, float]) -> None:
        part = getattr(self, split)
        for name, value in epoch_losses.items():
            part.setdefault(name, []).append(value)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, values: dict) -> History:
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})


class EpochSums:
    """Item-weighted sums of the loss terms over the batches of one epoch, kept where the
    losses are (on the device: adding them costs no sync), and the number of items seen, so a
    partial epoch (after Stop) is averaged over what it saw, not over the whole training set."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.seen = 0

    def add(self, terms: dict[str, torch.Tensor], n_items: int) -> None:
        for name, value in terms.items():
            weighted = value.detach() * n_items
            self.sums[name] = self.sums[name] + weighted if name in self.sums else weighted
        self.seen += n_items

    def means(self) -> dict[str, float]:
        """Each term's mean over the items seen (one sync for all terms): NaN or infinite from
        the first bad batch on, so a caller checks the epoch's health from these values."""
        values = torch.stack(list(self.sums.values())).tolist()
        return {name: value / self.seen for name, value in zip(self.sums, values)}


# Progress is drawn by people: ten reports a second look continuous, and reading a loss
# forces the host to wait for the device, so a report on every step would stall a GPU's
# queue once per step.
REPORT_SECONDS = 0.1


class StepReporter:
    """Tells a trainer when a step is due for a report: at most every ``REPORT_SECONDS`` of
    wall time, and always at an epoch's last step or when the loop is about to stop. The
    trainer reads the losses (its only sync) only at those steps, reporting each report's
    mean over the steps since the previous one, so the curve covers every step."""

    def __init__(self, on_step: Callable[[StepInfo], None] | None) -> None:
        self.on_step = on_step
        self.last_time = time.perf_counter()
        self.last_step = 0
        self.last_sums: dict[str, torch.Tensor] = {}
        self.last_seen = 0

    def due(self, step: int, steps: int) -> bool:
        return step == steps or time.perf_counter() - self.last_time >= REPORT_SECONDS

    def start_epoch(self) -> None:
        self.last_step, self.last_sums, self.last_seen = 0, {}, 0

    def report(self, epoch: int, step: int, steps: int, sums: EpochSums, lr: float) -> dict[str, float]:
        """The mean of each term over the steps since the last report (one sync), handed to
        ``on_step``; NaN or infinite when a step in that window was."""
        names = list(sums.sums)
        window = torch.stack([sums.sums[n] - self.last_sums.get(n, 0.0) for n in names])
        values = (window / (sums.seen - self.last_seen)).tolist()
        losses = dict(zip(names, values))
        self.last_step, self.last_sums, self.last_seen = step, dict(sums.sums), sums.seen
        self.last_time = time.perf_counter()
        if self.on_step is not None:
            self.on_step(StepInfo(epoch, step, steps, losses, lr))
        return losses


class LossModel(Protocol):
    """What the bookkeeping needs of a model; every ``explorer.models.Autoencoder`` is one.
    A protocol, because importing ``explorer.models`` here would import the registry, which
    imports the RBM's trainer, which imports this module."""

    training: bool

    @property
    def device(self) -> torch.device: ...

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]: ...

    def train(self, mode: bool = True) -> Any: ...

    def eval(self) -> Any: ...


@torch.no_grad()
def evaluate_losses(model: LossModel, x: torch.Tensor, batch_size: int = 1024,
                    seed: int = 0) -> dict[str, float]:
    """Mean of each loss term over ``x`` in eval mode, with a fixed seed for VAE sampling."""
    was_training = model.training
    model.eval()
    device = model.device
    sums: dict[str, float] = {}
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for start in range(0, len(x), batch_size):
            batch = x[start:start + batch_size].to(device, non_blocking=True)
            for name, value in model.loss(batch).items():
                sums[name] = sums.get(name, 0.0) + value.item() * len(batch)
    model.train(was_training)
    return {name: total / len(x) for name, total in sums.items()}


def close_epoch(history: History, epoch: int, sums: EpochSums, model: LossModel,
                x_test: torch.Tensor, cfg: TrainConfig, start: float,
                on_epoch: Callable[[int, History], None] | None) -> None:
    """Record epoch ``epoch``: its training means, its test losses when due (every
    ``cfg.eval_every`` epochs and the last), the time since ``start``; then tell ``on_epoch``."""
    history.add("train", sums.means())
    history.epochs_run = epoch
    if epoch % cfg.eval_every == 0 or epoch == cfg.epochs:
        history.add("test", evaluate_losses(model, x_test, seed=cfg.seed))
    history.seconds = time.perf_counter() - start
    if on_epoch is not None:
        on_epoch(epoch, history)
