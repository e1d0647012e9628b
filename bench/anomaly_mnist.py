"""One-class anomaly detection on MNIST (Ruff et al., ICML 2018 protocol): each digit normal
in turn, trained on its ~6,000 training images, scored on all 10,000 test images. Prints our
AUROC per class beside a PCA of the same code size fitted on the same images in the same
run (difference in points, ratio of errors 1 - AUROC) and Ruff et al.'s Table 1 numbers.

    python bench/anomaly_mnist.py --data-root ROOT [--model vae] [--latent-dim 30] [--epochs E]
"""

from __future__ import annotations

import argparse
import sys
import time


import explorer  # noqa: F401  (sets the OpenMP wait policy before torch loads)
import torch

from explorer.apps import anomaly as an
from explorer.apps import anomaly_reference as ref
from explorer.config import DataConfig
from explorer.data import load_dataset


def main() -> None:
    defaults = an.OneClassConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None, help="folder holding MNIST/raw")
    parser.add_argument("--model", default=defaults.model)
    parser.add_argument("--latent-dim", type=int, default=defaults.latent_dim)
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"default: as many as make {defaults.steps} steps per class")
    parser.add_argument("--score", choices=an.SCORE_KINDS, default=defaults.score)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    cfg = an.recipe(model=args.model, latent_dim=args.latent_dim, epochs=args.epochs, score=args.score,
                    device=args.device)
    data = load_dataset(DataConfig("mnist", root=args.data_root))
    start = time.perf_counter()

    def progress(i: int, n: int, r: an.OneClassResult) -> None:
        print(f"[{i}/{n}] normal {r.normal_names[0]}: AUROC {100 * r.auroc:.1f}, PCA "
              f"{100 * r.pca_auroc:.1f} ({r.seconds:.0f} s)", file=sys.stderr, flush=True)

    rows = ref.comparison_table(an.run_all_classes(data, cfg, on_class=progress))
    print(ref.format_comparison_table(
        rows,
        f"MNIST one-class AUROC (%): {an.describe(cfg)}; PCA with {cfg.latent_dim} components; "
        f"torch {torch.__version__}, {cfg.device}, {time.perf_counter() - start:.0f} s",
    ))


if __name__ == "__main__":
    main()
