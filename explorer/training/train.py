"""The training loop. It owns the device and the loop; callers observe it through
``on_step`` and stop it through ``should_stop``."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable

import torch

from explorer.config import TrainConfig
from explorer.data import Dataset
from explorer.data.augment import random_shift
from explorer.device import resolve_device
from explorer.errors import ModelConfigError, OutOfMemoryError, TrainingDivergedError
from explorer.models import MODELS, Autoencoder
from explorer.training.history import EpochSums, History, StepInfo, StepReporter, close_epoch, evaluate_losses

# The records of a run are defined with the bookkeeping the RBM's trainer shares; they are
# part of the trainer's API, so callers keep importing them from here.
__all__ = ["History", "StepInfo", "evaluate_losses", "fit"]


def fit(
    model: Autoencoder,
    data: Dataset,
    cfg: TrainConfig,
    on_step: Callable[[StepInfo], None] | None = None,
    on_epoch: Callable[[int, History], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> History:
    """Train ``model`` in place on ``data.x_train`` and return its history.

    The whole training set is moved to the device once and batches are index slices, which
    is many times faster than a DataLoader on data sets this size. With a validation split
    and a patience, the best weights by validation loss are restored at the end.

    Raises TrainingDivergedError (weights kept at the last finite state) on a NaN or
    infinite loss, and OutOfMemoryError with advice when the device runs out of memory.
    Families that are not trained by gradient descent (the RBM) hand over to their trainer.
    """
    device = resolve_device(cfg.device)
    model.check_input(data.x_train[:1])
    _check_options(cfg, data)
    trainer = MODELS[model.cfg.name].trainer
    if trainer is not None:
        return trainer(model, data, cfg, on_step, on_epoch, should_stop)
    torch.manual_seed(cfg.seed)
    history = History()
    try:
        model.to(device)
        x_train, x_val = _validation_split(data.x_train, cfg)
        x_train = x_train.to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        scheduler = None
        if cfg.schedule == "one_cycle":
            scheduler = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, cfg.lr, total_steps=cfg.epochs * math.ceil(len(x_train) / cfg.batch_size))
        _loop(model, x_train, x_val, data.x_test, cfg, optimizer, scheduler, history, on_step,
              on_epoch, should_stop)
    except torch.OutOfMemoryError:
        model.to("cpu")
        if device.type == "cuda":
            torch.cuda.empty_cache()
        raise OutOfMemoryError(
            f"{device} ran out of memory. Lower the batch size ({cfg.batch_size}) or the model "
            "size, or train on the CPU."
        ) from None
    return history


def _check_options(cfg: TrainConfig, data: Dataset) -> None:
    # TrainConfig checks each option's range; this is what depends on the data.
    if cfg.augment_shift and data.kind != "image":
        raise ModelConfigError(
            f"Random shifts move images; this data has items of shape {data.item_shape}. Set the shift to 0."
        )


def _validation_split(x: torch.Tensor, cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor | None]:
    n_val = cfg.validation_items(len(x))  # the one rule for its size, shared with the CLI's early check
    if n_val == 0:
        return x, None
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(cfg.seed))
    return x[order[n_val:]], x[order[:n_val]]


def _loop(model, x_train, x_val, x_test, cfg, optimizer, scheduler, history, on_step, on_epoch,
          should_stop) -> None:
    steps = math.ceil(len(x_train) / cfg.batch_size)
    start = time.perf_counter()
    initial_state = copy.deepcopy(model.state_dict())
    good_state, good_epoch = initial_state, 0
    best_val, best_state, bad_epochs = math.inf, None, 0
    generator = torch.Generator(device=x_train.device).manual_seed(cfg.seed)
    reporter = StepReporter(on_step)
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        order = torch.randperm(len(x_train), device=x_train.device, generator=generator)
        sums = EpochSums()
        reporter.start_epoch()
        for step in range(1, steps + 1):
            batch = x_train[order[(step - 1) * cfg.batch_size:step * cfg.batch_size]]
            if cfg.augment_shift:
                batch = random_shift(batch, cfg.augment_shift, generator)
            terms = model.loss(batch)
            optimizer.zero_grad(set_to_none=True)
            terms["total"].backward()
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            sums.add(terms, len(batch))
            stopping = should_stop is not None and should_stop()
            # The loss is read only at report points (the one sync): a bad step there shows
            # as a non-finite window mean. The steps after it until then may move the weights
            # to NaN, which is harmless: they are rolled back to the last good epoch's.
            if stopping or reporter.due(step, steps):
                first = reporter.last_step + 1
                total = reporter.report(epoch, step, steps, sums, lr)["total"]
                if not math.isfinite(total):
                    kept = _restore_finite(model, good_epoch, good_state, initial_state,
                                           [batch, x_test], cfg.seed)
                    history.epochs_run, history.seconds = epoch - 1, time.perf_counter() - start
                    history.stop_reason = "diverged"
                    where = f"step {step}" if first == step else f"steps {first}-{step}"
                    raise TrainingDivergedError(
                        f"The loss became {total} at epoch {epoch}, {where}. Training stopped "
                        f"and the model keeps its last good weights ({kept}). Lower the learning "
                        f"rate ({cfg.lr}), set a gradient clip, or check the data for extreme "
                        "values.",
                        history,
                    )
            if stopping:
                history.stop_reason = "stopped"
                break
        good_state, good_epoch = copy.deepcopy(model.state_dict()), epoch
        if x_val is not None:
            val = evaluate_losses(model, x_val, seed=cfg.seed)
            history.add("validation", val)
            if val["total"] < best_val:
                best_val, best_state, bad_epochs = val["total"], good_state, 0
                history.best_epoch = epoch
            else:
                bad_epochs += 1
        close_epoch(history, epoch, sums, model, x_test, cfg, start, on_epoch)
        if history.stop_reason == "stopped":
            break
        if cfg.early_stopping_patience is not None and bad_epochs > cfg.early_stopping_patience:
            history.stop_reason = "early_stopping"
            break
    if best_state is not None:
        model.load_state_dict(best_state)


def _restore_finite(model: Autoencoder, good_epoch: int, good_state: dict, initial_state: dict,
                    probes: list[torch.Tensor], seed: int) -> str:
    """Roll back to the weights at the end of epoch ``good_epoch`` if their losses on every
    probe are finite, else to the initial weights, and say which were kept. Finite weights
    are not enough: a huge step leaves weights that are finite but overflow the loss, and
    what is kept gets saved and must evaluate."""
    if good_epoch:
        model.load_state_dict(good_state)
        if _finite_losses(model, probes, seed):
            return f"those at the end of epoch {good_epoch}"
    model.load_state_dict(initial_state)
    if not _finite_losses(model, probes, seed):
        return "the initial ones, though even they give a non-finite loss on this data"
    if good_epoch:
        return f"the initial ones: those of epoch {good_epoch} give a non-finite loss"
    return "the initial ones"


def _finite_losses(model: Autoencoder, probes: list[torch.Tensor], seed: int) -> bool:
    return all(math.isfinite(value)
               for x in probes for value in evaluate_losses(model, x, seed=seed).values())
