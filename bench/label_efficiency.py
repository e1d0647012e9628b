"""Label efficiency of shipped pretrained encoders on MNIST: test accuracy of a classifier on
the frozen encoder, on the fine-tuned encoder and on the same architecture trained from
scratch, with only N labels per class, on the full 10,000-image test set.

    python bench/label_efficiency.py --data-root ROOT [--models mnist-vae-20d,mnist-ae-20d]
                                     [--labels 10,100,1000] [--seed 0]

Reference (ANCHORS.md): stacked denoising autoencoders, pretrained and fine-tuned on all
60,000 labels, reach 1.28 % test error (Vincent et al., 2010).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

import explorer  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)
import torch

from explorer.store.checkpoint import load_checkpoint
from explorer.config import DataConfig
from explorer.data import load_dataset
from explorer.apps.finetune import FinetuneConfig, format_table, label_efficiency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--models", default="mnist-vae-20d,mnist-ae-20d",
                        help="comma-separated folders under pretrained/ (or checkpoint paths)")
    parser.add_argument("--labels", default="10,100,1000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=FinetuneConfig.epochs)
    parser.add_argument("--min-steps", type=int, default=FinetuneConfig.min_steps)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    data = load_dataset(DataConfig("mnist", root=args.data_root))
    sizes = [int(v) for v in args.labels.split(",")]
    cfg = FinetuneConfig(epochs=args.epochs, min_steps=args.min_steps, seed=args.seed)
    print(f"{data.name}: {len(data.x_train):,} training items (labels drawn from them), "
          f"{len(data.x_test):,} test items; torch {torch.__version__}, {args.device}, "
          f"{torch.get_num_threads()} threads")
    head = "-".join(str(v) for v in ("code", *cfg.head_hidden, "classes"))
    print(f"head {head}; head_lr {cfg.head_lr}, finetune_lr {cfg.finetune_lr}, "
          f"scratch_lr {cfg.scratch_lr} (head included); batch {cfg.batch_size}; "
          f"max({cfg.min_steps}, {cfg.epochs} epochs) steps; seed {cfg.seed}")
    for name in args.models.split(","):
        folder = Path(name) if Path(name).is_dir() else REPO / "pretrained" / name
        model = load_checkpoint(folder, device=args.device).model
        start = time.perf_counter()
        rows = label_efficiency(model, data, sizes, cfg)
        print(f"\n{folder.name} ({model.cfg.name}, latent {model.latent_dim}), "
              f"{time.perf_counter() - start:.0f} s")
        print(format_table(rows))
        best = {n: max(r.accuracy for r in rows if r.labels_per_class == n and r.method != "scratch")
                for n in sizes}
        scratch = {r.labels_per_class: r.accuracy for r in rows if r.method == "scratch"}
        print("scratch error / best pretrained error: " + ", ".join(
            f"{n}: {(1 - scratch[n]) / max(1 - best[n], 1e-9):.2f}x" for n in sizes))


if __name__ == "__main__":
    main()
