"""Rebuild the shipped models in ``pretrained/`` from real MNIST.

    python scripts/build_pretrained.py --data-root ../shared/data [--only NAME ...]

Each model gets a checkpoint folder with a model card (``README.md``: data, epochs, test
metrics as measured on the full MNIST test set) and, for the shipped 4,000-image test
sample, its codes and 2-D projections, so the app opens on it without computing anything.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.catalog import PROJECTIONS_DIR, write_precomputed  # noqa: E402
from explorer.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from explorer.config import DataConfig, ModelConfig, ProjectionConfig, TrainConfig  # noqa: E402
from explorer.data import load_dataset  # noqa: E402
from explorer.data.sample import PRETRAINED_DIR, write_mnist_sample  # noqa: E402
from explorer.metrics import evaluate  # noqa: E402
from explorer.models import build_model  # noqa: E402
from explorer.train import fit  # noqa: E402


@dataclass(frozen=True)
class Recipe:
    name: str
    model: ModelConfig
    train: TrainConfig
    summary: str


MNIST_SHAPE = (1, 28, 28)
PROJECTIONS = [ProjectionConfig(method=m) for m in ("pca", "umap", "tsne")]
RECIPES = [
    Recipe("mnist-ae-2d", ModelConfig("ae", MNIST_SHAPE, 2, hidden=(512, 256)),
           TrainConfig(epochs=30, batch_size=128, lr=1e-3),
           "Plain MLP autoencoder with a 2-D code: compare its map with the VAE's."),
    Recipe("mnist-vae-2d", ModelConfig("vae", MNIST_SHAPE, 2, hidden=(512, 256)),
           TrainConfig(epochs=30, batch_size=128, lr=1e-3),
           "MLP VAE with a 2-D code: the regular latent space of the lecture demo."),
    Recipe("mnist-ae-20d", ModelConfig("ae", MNIST_SHAPE, 20, hidden=(400,)),
           TrainConfig(epochs=20, batch_size=128, lr=1e-3),
           "Plain MLP autoencoder 784-400-20."),
    Recipe("mnist-vae-20d", ModelConfig("vae", MNIST_SHAPE, 20, hidden=(400,)),
           TrainConfig(epochs=20, batch_size=128, lr=1e-3),
           "The pytorch/examples VAE, 784-400-20."),
]


def model_card(recipe: Recipe, metrics: dict, seconds: float, epochs: int) -> str:
    rows = "\n".join(f"| {k} | {v:.3f} |" for k, v in metrics.items() if k != "n_test")
    return (
        f"# {recipe.name}\n\n{recipe.summary}\n\n"
        f"- model: `{recipe.model.name}`, hidden {list(recipe.model.hidden)}, "
        f"latent {recipe.model.latent_dim}, likelihood {recipe.model.likelihood}\n"
        f"- data: MNIST 60,000 training images; metrics on the 10,000 test images\n"
        f"- training: {epochs} epochs, batch {recipe.train.batch_size}, Adam lr {recipe.train.lr}, "
        f"seed {recipe.train.seed}, {seconds:.0f} s on the CPU\n\n"
        f"| test metric | value |\n|---|---|\n{rows}\n\n"
        "`recon_sse`: mean over test images of the summed squared error over 784 pixels in [0, 1]. "
        "`neg_elbo`: mean negative ELBO per image in nats (one posterior sample).\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True, help="folder holding MNIST/raw")
    parser.add_argument("--only", nargs="*", default=None, help="recipe names to rebuild")
    parser.add_argument("--projections-only", action="store_true",
                        help="keep the trained checkpoints; recompute codes and projections")
    args = parser.parse_args()
    full = load_dataset(DataConfig("mnist", root=args.data_root))
    if not args.projections_only:
        write_mnist_sample(full)
    sample = load_dataset(DataConfig("mnist_sample"))
    for recipe in RECIPES:
        if args.only and recipe.name not in args.only:
            continue
        folder = PRETRAINED_DIR / recipe.name
        if args.projections_only:
            model = load_checkpoint(folder).model
            shutil.rmtree(folder / PROJECTIONS_DIR, ignore_errors=True)
            write_precomputed(folder, model, sample, PROJECTIONS)
            continue
        print(f"== {recipe.name}", flush=True)
        model = build_model(recipe.model)
        history = fit(model, full, recipe.train,
                      on_epoch=lambda e, h: print(f"  epoch {e}: test {h.test['total'][-1]:.2f}",
                                                  flush=True))
        metrics = evaluate(model, full)
        # The data config names the source without this machine's path to it.
        save_checkpoint(folder, model, DataConfig("mnist"), recipe.train, metrics, history,
                        extra={"display_data": "mnist_sample", "summary": recipe.summary})
        (folder / "README.md").write_text(model_card(recipe, metrics, history.seconds,
                                                      history.epochs_run))
        started = time.perf_counter()
        write_precomputed(folder, model, sample, PROJECTIONS)
        print(json.dumps({"name": recipe.name, **metrics,
                          "projection_seconds": round(time.perf_counter() - started, 1)}), flush=True)


if __name__ == "__main__":
    main()
