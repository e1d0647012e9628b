"""Rebuild the shipped models in ``pretrained/`` from real MNIST (and synthetic sines).

    python scripts/build_pretrained.py --data-root ../shared/data [--only NAME ...]

Each model gets a checkpoint folder with a model card (``README.md``: data, epochs, test
metrics as measured on the full test set) and, for the data the app shows (the shipped
4,000-image MNIST test sample, or the sines test split), its codes and 2-D projections, so
the app opens on it without computing anything. Models are trained with early stopping on a
validation split where the recipe says so; the best validation epoch's weights are kept.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from explorer.apps.beta_family import (
    BETA_FAMILY_DIR,
    FAMILY_BETAS,
    measure_family,
    read_family,
    write_family_report,
)
from explorer.apps.metrics import evaluate
from explorer.config import DataConfig, ModelConfig, TrainConfig
from explorer.data import load_dataset
from explorer.data.sample import PRETRAINED_DIR, write_mnist_sample
from explorer.models import MODELS, Autoencoder, build_model
from explorer.projection import ProjectionConfig
from explorer.store.catalog import PROJECTIONS_DIR, write_precomputed
from explorer.store.checkpoint import load_checkpoint, save_checkpoint
from explorer.training.timeline import Timeline, TimelineRecorder, read_timeline
from explorer.training.train import History, fit


@dataclass(frozen=True)
class Recipe:
    name: str
    model: ModelConfig
    train: TrainConfig
    summary: str
    data: str = "mnist"  # "mnist" (shown through the shipped sample) or a built-in source
    # Record the training timeline (500 test codes per epoch, ~4 KB an epoch for a 2-D code)
    # for the Timeline page.
    timeline: bool = False
    projections: tuple[str, ...] = ("pca", "umap", "tsne")  # precomputed for the shown data


DATA_LINES = {
    "mnist": "MNIST 60,000 training images; metrics on the 10,000 test images",
    "sines": "synthetic sines (4 frequencies, random phase and amplitude, noise), 3,200 training "
             "and 800 test series",
}
EARLY_STOPPING = {"validation_fraction": 0.1, "early_stopping_patience": 5}


MNIST_SHAPE = (1, 28, 28)
# The beta scrubber's family: one 784-256-2 MLP VAE, the same data, seed and epochs, at five
# KL weights, from beta 0 (a plain autoencoder with a noisy code) to beta 4. Small (1.6 MB
# each) so the five fit the zoo; each records its timeline, the Timeline page's shipped runs.
BETA_FAMILY = [
    Recipe(f"{BETA_FAMILY_DIR}/mnist-vae-2d-beta-{beta:g}",
           ModelConfig("vae", MNIST_SHAPE, 2, hidden=(256,), beta=beta),
           TrainConfig(epochs=20, batch_size=128, lr=1e-3),
           f"2-D MLP VAE at beta {beta:g}, one of the beta scrubber's family "
           f"({', '.join(f'{b:g}' for b in FAMILY_BETAS)}).", timeline=True,
           projections=())  # a 2-D code is its own map
    for beta in FAMILY_BETAS
]
RECIPES = [
    Recipe("mnist-ae-2d", ModelConfig("ae", MNIST_SHAPE, 2, hidden=(512, 256)),
           TrainConfig(epochs=30, batch_size=128, lr=1e-3),
           "Plain MLP autoencoder with a 2-D code: compare its map with the VAE's.", timeline=True),
    Recipe("mnist-vae-2d", ModelConfig("vae", MNIST_SHAPE, 2, hidden=(512, 256)),
           TrainConfig(epochs=30, batch_size=128, lr=1e-3),
           "MLP VAE with a 2-D code: the regular latent space of the lecture demo.", timeline=True),
    Recipe("mnist-ae-20d", ModelConfig("ae", MNIST_SHAPE, 20, hidden=(400,)),
           TrainConfig(epochs=20, batch_size=128, lr=1e-3),
           "Plain MLP autoencoder 784-400-20."),
    Recipe("mnist-vae-20d", ModelConfig("vae", MNIST_SHAPE, 20, hidden=(400,)),
           TrainConfig(epochs=20, batch_size=128, lr=1e-3),
           "The pytorch/examples VAE, 784-400-20."),
    Recipe("mnist-denoising-ae", ModelConfig("denoising_ae", MNIST_SHAPE, 32, hidden=(512, 256),
                                             noise="gaussian", noise_level=0.4),
           TrainConfig(epochs=30, batch_size=128, lr=1e-3, **EARLY_STOPPING),
           "Denoising autoencoder: Gaussian noise (std 0.4) on the input, the clean image as target. "
           "Open it on the Denoise page."),
    Recipe("mnist-sparse-ae", ModelConfig("sparse_ae", MNIST_SHAPE, 64, hidden=(512,),
                                          sparsity_target=0.05, sparsity_kl_weight=1.0),
           TrainConfig(epochs=30, batch_size=128, lr=1e-3, **EARLY_STOPPING),
           "Sparse autoencoder: 64 sigmoid code units pushed toward a mean activation of 0.05."),
    Recipe("mnist-svae-3d", ModelConfig("svae", MNIST_SHAPE, 3, hidden=(512, 256), posterior="vmf"),
           TrainConfig(epochs=40, batch_size=128, lr=1e-3, **EARLY_STOPPING),
           "Hyperspherical VAE: von Mises-Fisher posterior and a uniform prior on the sphere S^2."),
    Recipe("mnist-conv-vae-20d", ModelConfig("conv_vae", MNIST_SHAPE, 20, channels=(32, 64)),
           TrainConfig(epochs=40, batch_size=128, lr=1e-3, **EARLY_STOPPING),
           "Convolutional VAE with a 20-D code."),
    # Without shifts this model overfits: after 30 one-cycle epochs it reaches 3.65 on training
    # images but 5.08 on test; shifting each training image by up to one pixel closes most of
    # that gap (3.91 and 4.15; bench/deep_ae_shift.py), and a long one-cycle run does the rest.
    Recipe("mnist-deep-ae-30d", ModelConfig("deep_ae", MNIST_SHAPE, 30, hidden=(1000, 500, 250)),
           TrainConfig(epochs=150, batch_size=256, lr=3e-3, schedule="one_cycle", augment_shift=1),
           "Deep autoencoder 784-1000-500-250-30 (Hinton & Salakhutdinov 2006), trained end to end "
           "with Adam, no RBM pretraining; each training image shifted by up to one pixel."),
    Recipe("mnist-rbm-64", ModelConfig("rbm", MNIST_SHAPE, 64, hidden=()),
           TrainConfig(epochs=20, batch_size=64, lr=0.05),
           "Restricted Boltzmann machine baseline (scikit-learn's BernoulliRBM, persistent "
           "contrastive divergence): its 64 hidden-unit probabilities as codes, on the same maps."),
    *BETA_FAMILY,
    Recipe("sines-lstm-ae", ModelConfig("lstm_ae", (64, 1), 8, hidden=(64,), likelihood="gaussian"),
           # At lr 2e-3 the LSTM's loss spikes after a dozen epochs; clipping keeps it learning.
           TrainConfig(epochs=80, batch_size=64, lr=1e-3, grad_clip=1.0, validation_fraction=0.1,
                       early_stopping_patience=10),
           "LSTM sequence autoencoder on synthetic sines: codes separate frequencies.", data="sines"),
]


def model_card(recipe: Recipe, metrics: dict, seconds: float, epochs: int, device: str) -> str:
    optimizer = ("scikit-learn BernoulliRBM (persistent contrastive divergence)"
                 if MODELS[recipe.model.name].trainer else "Adam")
    details = []
    if recipe.train.early_stopping_patience:
        details.append(f"early stopping on a {recipe.train.validation_fraction:.0%} validation split, "
                       f"patience {recipe.train.early_stopping_patience}")
    if recipe.train.schedule == "one_cycle":
        details.append("one-cycle schedule: the learning rate rises to lr, then anneals to ~0")
    if recipe.train.augment_shift:
        details.append(f"random whole-pixel shifts of up to {recipe.train.augment_shift} px")
    explained = f" ({'; '.join(details)})" if details else ""
    where = "the CPU" if device == "cpu" else device
    rows = "\n".join(f"| {k} | {v:.3f} |" for k, v in metrics.items() if k != "n_test")
    return (
        f"# {recipe.name}\n\n{recipe.summary}\n\n"
        f"- model: `{recipe.model.name}`, hidden {list(recipe.model.hidden)}, "
        f"latent {recipe.model.latent_dim}, likelihood {recipe.model.likelihood}"
        f"{'' if recipe.model.beta == 1 else f', KL weight beta {recipe.model.beta:g}'}\n"
        f"- data: {DATA_LINES[recipe.data]}\n"
        f"- training: {epochs} epochs{explained}, batch {recipe.train.batch_size}, "
        f"{optimizer} lr {recipe.train.lr}, seed {recipe.train.seed}, {seconds:.0f} s on {where}\n\n"
        f"| test metric | value |\n|---|---|\n{rows}\n\n"
        "`recon_sse`: mean over test items of the summed squared error (784 pixels in [0, 1] for MNIST). "
        "`neg_elbo`: mean negative ELBO per image in nats (one posterior sample).\n"
    )


def adopt(recipe: Recipe, folder: Path) -> tuple[Autoencoder, History, str, Timeline | None]:
    """The model, history, training device and timeline of a checkpoint trained by ``recipe``
    elsewhere (on any device); refuses one trained with another model, training config or
    data, so the model card stays true."""
    checkpoint = load_checkpoint(folder)
    same_training = replace(checkpoint.train, device=recipe.train.device) == recipe.train
    same_data = replace(checkpoint.data, root=None) == DataConfig(recipe.data)
    if checkpoint.config != recipe.model or not same_training or not same_data:
        sys.exit(f"{folder} was not trained by the {recipe.name} recipe:\n"
                 f"  model {checkpoint.config}\n  train {checkpoint.train}\n  data {checkpoint.data}\n"
                 f"  recipe {recipe.model}\n         {recipe.train}\n         {DataConfig(recipe.data)}")
    return checkpoint.model.cpu(), checkpoint.history, checkpoint.train.device, read_timeline(folder)


def train(recipe: Recipe, data) -> tuple[Autoencoder, History, Timeline | None]:
    """Train ``recipe`` here, printing each epoch's test loss, with its timeline if it asks."""
    model = build_model(recipe.model)
    recorder = TimelineRecorder(model, data, seed=recipe.train.seed) if recipe.timeline else None

    def on_epoch(epoch: int, history: History) -> None:
        if recorder is not None:
            recorder.record(epoch)
        print(f"  epoch {epoch}: test {history.test['total'][-1]:.2f}", flush=True)

    history = fit(model, data, recipe.train, on_epoch=on_epoch)
    return model, history, None if recorder is None else recorder.finish()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True, help="folder holding MNIST/raw")
    parser.add_argument("--only", nargs="*", default=None, help="recipe names to rebuild")
    parser.add_argument("--projections-only", action="store_true",
                        help="keep the trained checkpoints; recompute codes and projections")
    parser.add_argument("--adopt", metavar="CHECKPOINT",
                        help="with one --only NAME: ship this checkpoint, trained elsewhere (say, on "
                             "a GPU machine) by exactly that recipe, instead of training it here")
    args = parser.parse_args()
    if args.adopt and (not args.only or len(args.only) != 1 or args.projections_only):
        parser.error("--adopt needs exactly one --only NAME, and no --projections-only")
    full = load_dataset(DataConfig("mnist", root=args.data_root))
    if not args.projections_only:
        write_mnist_sample(full)
    sample = load_dataset(DataConfig("mnist_sample"))
    for recipe in RECIPES:
        if args.only and recipe.name not in args.only:
            continue
        if recipe.data == "mnist":
            train_data, shown = full, sample
        else:
            train_data = shown = load_dataset(DataConfig(recipe.data))
        folder = PRETRAINED_DIR / recipe.name
        if args.projections_only:
            model = load_checkpoint(folder).model
            shutil.rmtree(folder / PROJECTIONS_DIR, ignore_errors=True)
            write_precomputed(folder, model, shown, [ProjectionConfig(m) for m in recipe.projections])
            continue
        print(f"== {recipe.name}", flush=True)
        device = recipe.train.device
        if args.adopt:
            model, history, device, timeline = adopt(recipe, Path(args.adopt))
        else:
            model, history, timeline = train(recipe, train_data)
        metrics = evaluate(model, train_data)
        # The data config names the source without this machine's path to it.
        display = "mnist_sample" if recipe.data == "mnist" else recipe.data
        save_checkpoint(folder, model, DataConfig(recipe.data), recipe.train, metrics, history,
                        extra={"display_data": display, "summary": recipe.summary}, overwrite=True,
                        timeline=timeline)
        (folder / "README.md").write_text(model_card(recipe, metrics, history.seconds,
                                                      history.epochs_run, device))
        started = time.perf_counter()
        write_precomputed(folder, model, shown, [ProjectionConfig(m) for m in recipe.projections])
        print(json.dumps({"name": recipe.name, **metrics,
                          "projection_seconds": round(time.perf_counter() - started, 1)}), flush=True)
    if any(r.name.startswith(f"{BETA_FAMILY_DIR}/") and (not args.only or r.name in args.only)
           for r in RECIPES):
        write_beta_report()


def write_beta_report() -> None:
    """The family's measures, judged as the app judges them (a classifier of the shown data)."""
    folder = PRETRAINED_DIR / BETA_FAMILY_DIR
    reports = measure_family(read_family(folder))
    write_family_report(folder, reports)
    for report in reports:
        print(json.dumps(report.as_dict()), flush=True)


if __name__ == "__main__":
    main()
