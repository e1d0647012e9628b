"""Pretrain, then fine-tune: how much an autoencoder's encoder helps a classifier that sees
only a few labels per class.

Three classifiers share one head architecture on top of the code (``model.encode``, the
posterior mean for VAEs) and one labelled subset:

- ``frozen``: only the head trains; the pretrained encoder stays as it is, in eval mode.
- ``finetuned``: a copy of the pretrained encoder trains with the head, at a smaller rate.
- ``scratch``: the same encoder architecture freshly initialized, trained with the head.

``label_efficiency`` sweeps the number of labels per class and returns rows a line chart
draws directly (accuracy against labels per class, log x).
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from explorer.data import Dataset
from explorer.errors import DataError, ExplorerError, TrainingDivergedError
from explorer.models import Autoencoder, build_model
from explorer.models.bodies import mlp

Method = Literal["frozen", "finetuned", "scratch"]
METHODS: tuple[Method, ...] = ("frozen", "finetuned", "scratch")

ProgressCallback = Callable[[int, int, str], None]


@dataclass(frozen=True)
class FinetuneConfig:
    """How each classifier is trained.

    Tiny label sets make epochs meaningless (10 labels per class is one or two batches), so
    training runs ``max(min_steps, epochs * batches per epoch)`` optimizer steps: enough
    steps for 10 labels per class, ``epochs`` passes over the data for 1000.
    """

    labels_per_class: int = 100
    epochs: int = 20
    min_steps: int = 300
    batch_size: int = 64
    # A fresh head on a pretrained encoder (frozen or fine-tuned) has to catch up in a few
    # hundred steps; large updates from it would wreck pretrained features before it has
    # learned anything, so the fine-tuned encoder moves more slowly than the head.
    head_lr: float = 1e-2
    finetune_lr: float = 3e-4
    # From scratch there is nothing to protect: the whole network trains at one rate.
    scratch_lr: float = 1e-3
    weight_decay: float = 0.0
    # One hidden layer: a VAE's codes are far from linearly separable (on MNIST a linear head
    # on the frozen 20-D VAE reaches 86 % with 100 labels per class, this one 93 %).
    head_hidden: tuple[int, ...] = (256,)
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "head_hidden", tuple(int(v) for v in self.head_hidden))
        for name in ("labels_per_class", "batch_size", "head_lr", "finetune_lr", "scratch_lr"):
            if getattr(self, name) <= 0:
                raise ExplorerError(f"{name} must be positive, got {getattr(self, name)}.")
        if self.epochs < 0 or self.min_steps < 0 or self.epochs + self.min_steps == 0:
            raise ExplorerError("Set epochs or min_steps to a positive number of training steps.")


class CodeClassifier(nn.Module):
    """An autoencoder's encoding path (encoder body and latent head) and a classifier head.

    With ``frozen`` the autoencoder takes no gradients and stays in eval mode even while
    the classifier trains, so BatchNorm keeps its pretrained statistics and dropout is off.
    """

    def __init__(self, autoencoder: Autoencoder, head: nn.Module, frozen: bool) -> None:
        super().__init__()
        self.autoencoder = autoencoder
        self.head = head
        self.frozen = frozen
        if frozen:
            autoencoder.requires_grad_(False)
            autoencoder.eval()

    def train(self, mode: bool = True) -> CodeClassifier:
        super().train(mode)
        if self.frozen:
            self.autoencoder.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.autoencoder.encode(x))


@dataclass(frozen=True, eq=False)
class FinetuneResult:
    """One trained classifier and its test accuracy."""

    method: Method
    labels_per_class: int
    accuracy: float
    steps: int
    seconds: float
    classifier: CodeClassifier


@dataclass(frozen=True)
class LabelEfficiencyRow:
    """One point of the label-efficiency curve; ``dataclasses.asdict`` makes it JSON."""

    labels_per_class: int
    method: Method
    accuracy: float
    steps: int
    seconds: float


def labelled_subset(data: Dataset, labels_per_class: int, seed: int = 0) -> torch.Tensor:
    """Indices into the training split: ``labels_per_class`` items of every class, drawn with
    ``seed``. One seeded shuffle serves every size, so with the same seed the subset for 10
    labels per class lies inside the subset for 100."""
    if data.y_train is None or data.y_test is None:
        raise DataError(f"{data.name} has no labels; a classifier needs labelled data.")
    if labels_per_class < 1:
        raise DataError(f"labels_per_class must be at least 1, got {labels_per_class}.")
    y = data.y_train.numpy()
    order = np.random.default_rng(seed).permutation(len(y))
    picked = []
    for label in range(data.n_classes):
        members = order[y[order] == label]
        if len(members) < labels_per_class:
            raise DataError(
                f"Class {data.label_name(label)!r} has only {len(members)} training items, fewer "
                f"than the {labels_per_class} labels per class asked for. Ask for at most "
                f"{len(members)} labels per class."
            )
        picked.append(members[:labels_per_class])
    return torch.from_numpy(np.sort(np.concatenate(picked)))


def build_classifier(model: Autoencoder, n_classes: int, method: Method,
                     head_hidden: tuple[int, ...]) -> CodeClassifier:
    """A classifier for ``method`` on the model's device; ``model`` itself is never touched."""
    if method not in METHODS:
        raise ExplorerError(f"Unknown method {method!r}. Choose one of {', '.join(METHODS)}.")
    # The head first, so that under one seed all three methods start from the same head.
    head = mlp([model.latent_dim, *head_hidden, n_classes], last_activation=False)
    encoder = build_model(model.cfg) if method == "scratch" else copy.deepcopy(model)
    return CodeClassifier(encoder, head, frozen=method == "frozen").to(model.device)


def train_classifier(model: Autoencoder, data: Dataset, method: Method,
                     cfg: FinetuneConfig = FinetuneConfig()) -> FinetuneResult:
    """Train one classifier on ``cfg.labels_per_class`` labels per class of the training
    split and score it on the whole test split. The global random state is left as it was."""
    model.check_input(data.x_train[:1])
    index = labelled_subset(data, cfg.labels_per_class, cfg.seed)
    device = model.device
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(cfg.seed)
        classifier = build_classifier(model, data.n_classes, method, cfg.head_hidden)
        steps = _fit(classifier, data.x_train[index].to(device), data.y_train[index].to(device),
                     method, cfg)
    seconds = time.perf_counter() - start
    return FinetuneResult(method, cfg.labels_per_class, accuracy(classifier, data.x_test, data.y_test),
                          steps, seconds, classifier)


def _fit(classifier: CodeClassifier, x: torch.Tensor, y: torch.Tensor, method: Method,
         cfg: FinetuneConfig) -> int:
    head_lr = cfg.scratch_lr if method == "scratch" else cfg.head_lr
    groups: list[dict[str, Any]] = [{"params": classifier.head.parameters(), "lr": head_lr}]
    if method != "frozen":
        # Only the path to the code trains; the decoder plays no part in classifying.
        autoencoder = classifier.autoencoder
        encoding = [*autoencoder.encoder.parameters(), *autoencoder.head.parameters()]
        groups.append({"params": encoding,
                       "lr": cfg.finetune_lr if method == "finetuned" else cfg.scratch_lr})
    optimizer = torch.optim.Adam(groups, weight_decay=cfg.weight_decay)
    batch = min(cfg.batch_size, len(x))
    # Whole batches only: a last batch of one item would break BatchNorm in training mode.
    per_epoch = len(x) // batch
    steps = max(cfg.min_steps, cfg.epochs * per_epoch)
    generator = torch.Generator(device=x.device).manual_seed(cfg.seed)
    classifier.train()
    for step in range(steps):
        if step % per_epoch == 0:
            order = torch.randperm(len(x), device=x.device, generator=generator)
        idx = order[(step % per_epoch) * batch:(step % per_epoch + 1) * batch]
        loss = F.cross_entropy(classifier(x[idx]), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    classifier.eval()
    # One check at the end rather than a device sync every step.
    if not torch.isfinite(loss):
        raise TrainingDivergedError(
            f"The {method} classifier's loss became {loss.item()}. Lower the learning rates "
            f"(head_lr {cfg.head_lr}, finetune_lr {cfg.finetune_lr}, scratch_lr {cfg.scratch_lr})."
        )
    return steps


@torch.no_grad()
def predict(classifier: CodeClassifier, x: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
    """Predicted class of every item, on the CPU."""
    classifier.eval()
    device = next(classifier.parameters()).device
    return torch.cat([classifier(x[start:start + batch_size].to(device)).argmax(dim=1).cpu()
                      for start in range(0, len(x), batch_size)])


def accuracy(classifier: CodeClassifier, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of items whose predicted class is their label."""
    return float((predict(classifier, x) == y.cpu()).float().mean())


def classifier_confusion(classifier: CodeClassifier, data: Dataset) -> np.ndarray:
    """Test-split confusion matrix: row = true class, column = predicted, one per class."""
    from sklearn.metrics import confusion_matrix

    if data.y_test is None:
        raise DataError(f"{data.name} has no labels; a confusion matrix needs labelled data.")
    return confusion_matrix(data.y_test.numpy(), predict(classifier, data.x_test).numpy(),
                            labels=np.arange(data.n_classes))


def label_efficiency(model: Autoencoder, data: Dataset, labels_per_class: Sequence[int],
                     cfg: FinetuneConfig = FinetuneConfig(), methods: Sequence[Method] = METHODS,
                     on_progress: ProgressCallback | None = None,
                     should_stop: Callable[[], bool] | None = None) -> list[LabelEfficiencyRow]:
    """Test accuracy of each method at each number of labels per class (``cfg``'s own
    ``labels_per_class`` is replaced by each value in turn). ``should_stop`` is asked before
    each classifier; when it says yes, the rows so far are returned.

    Every size is checked against the data before anything trains, so a too-large size fails
    at once instead of after minutes of training. ``on_progress(done, total, message)`` is
    called before the first classifier and after each one.
    """
    if not model.trainable:
        raise ExplorerError("This model was imported as ONNX and runs without gradients, so its "
                            "encoder cannot be fine-tuned; fine-tune it where it was trained.")
    sizes = sorted(set(labels_per_class))
    if not sizes or sizes[0] < 1:
        raise ExplorerError(f"Give one or more positive numbers of labels per class, got {sizes}.")
    if not methods or any(m not in METHODS for m in methods):
        raise ExplorerError(f"Methods must be one or more of {', '.join(METHODS)}, got {list(methods)}.")
    labelled_subset(data, sizes[-1], cfg.seed)
    total = len(sizes) * len(methods)
    if on_progress is not None:
        on_progress(0, total, f"training {total} classifiers")
    rows = []
    for n in sizes:
        for method in methods:
            if should_stop is not None and should_stop():
                return rows
            result = train_classifier(model, data, method, dataclasses.replace(cfg, labels_per_class=n))
            rows.append(LabelEfficiencyRow(n, method, result.accuracy, result.steps, result.seconds))
            if on_progress is not None:
                on_progress(len(rows), total,
                            f"{method}, {n} labels per class: {100 * result.accuracy:.1f}% test accuracy")
    return rows


def format_table(rows: Sequence[LabelEfficiencyRow]) -> str:
    """Test accuracy (%) as a text table: one line per number of labels, one column per method."""
    methods = list(dict.fromkeys(r.method for r in rows))
    sizes = sorted({r.labels_per_class for r in rows})
    cell = {(r.labels_per_class, r.method): r.accuracy for r in rows}
    lines = ["labels/class  " + "  ".join(f"{m:>9}" for m in methods)]
    for n in sizes:
        values = (f"{100 * cell[n, m]:8.2f}%" if (n, m) in cell else f"{'-':>9}" for m in methods)
        lines.append(f"{n:>12}  " + "  ".join(values))
    return "\n".join(lines)


def label_efficiency_report(model: Autoencoder, data: Dataset, labels_per_class: Sequence[int],
                            cfg: FinetuneConfig = FinetuneConfig(), methods: Sequence[Method] = METHODS,
                            on_progress: ProgressCallback | None = None) -> dict[str, Any]:
    """Everything ``python -m explorer finetune`` prints, as a JSON-able dict: what was
    compared, the training settings, one row per (labels per class, method) and the text
    table."""
    rows = label_efficiency(model, data, labels_per_class, cfg, methods, on_progress)
    settings = {k: v for k, v in dataclasses.asdict(cfg).items() if k != "labels_per_class"}
    return {
        "data": data.name,
        "model": model.cfg.name,
        "latent_dim": model.latent_dim,
        "n_test": len(data.x_test),
        "settings": settings,
        "rows": [dataclasses.asdict(r) for r in rows],
        "table": format_table(rows),
    }

