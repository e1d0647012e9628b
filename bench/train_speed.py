"""Time to a test negative ELBO of 106 for the 784-400-20 MLP VAE on MNIST: our recipe
(``explorer.training.train.fit``: whole-tensor batches on the device, a one-cycle
schedule) against the pytorch/examples recipe (torchvision MNIST through ``ToTensor`` and a
shuffled DataLoader, batch 128, Adam 1e-3), same model, same test measure, interleaved in
one run. The last line ends with the speed-up.

    python bench/train_speed.py [--data-root ROOT] [--device cpu|cuda] [--repeats 1]

Both recipes are timed as the textbook script runs: train an epoch, measure the test loss;
the clock covers both. The pytorch/examples recipe stops at the first epoch at or under the
target; ours trains its fixed one-cycle budget and is measured at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path


import explorer  # noqa: E402, F401, I001  (sets the OpenMP wait policy before torch loads)
import torch  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

from explorer.config import DataConfig, ModelConfig, TrainConfig  # noqa: E402
from explorer.data import load_dataset, resolve_root  # noqa: E402
from explorer.device import resolve_device  # noqa: E402
from explorer.errors import ExplorerError  # noqa: E402
from explorer.training.history import evaluate_losses  # noqa: E402
from explorer.models import build_model  # noqa: E402
from explorer.training.train import fit  # noqa: E402

TARGET = 106.0


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def textbook(cfg: ModelConfig, data, root: Path, device: torch.device, max_epochs: int):
    """The pytorch/examples VAE loop until the test negative ELBO reaches the target:
    (seconds, epochs, test loss)."""
    from torchvision import datasets, transforms

    mnist = datasets.MNIST(str(root), train=True, download=False, transform=transforms.ToTensor())
    loader = DataLoader(mnist, batch_size=128, shuffle=True)
    torch.manual_seed(0)
    model = build_model(cfg).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    epochs = 0
    while epochs < max_epochs:
        epochs += 1
        model.train()
        for batch, _ in loader:
            batch = batch.to(device)
            loss = model.loss(batch)["total"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        test = evaluate_losses(model, data.x_test, seed=0)["total"]
        if test <= TARGET:
            break
    _sync(device)
    return time.perf_counter() - start, epochs, test


def ours(cfg: ModelConfig, data, train: TrainConfig):
    """Our recipe: (seconds, epochs, test loss)."""
    torch.manual_seed(0)
    model = build_model(cfg)
    start = time.perf_counter()
    history = fit(model, data, train)
    _sync(model.device)
    return time.perf_counter() - start, history.epochs_run, history.test["total"][-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=1, help="interleaved runs of each recipe")
    parser.add_argument("--max-epochs", type=int, default=30, help="the textbook recipe's cap")
    parser.add_argument("--epochs", type=int, default=6, help="our one-cycle budget")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3, help="our one-cycle peak rate")
    args = parser.parse_args()
    try:
        device = resolve_device(args.device)
        root = resolve_root(args.data_root)
        data = load_dataset(DataConfig("mnist", root=args.data_root))
        # The test loss is measured once, after the last epoch (the last is always measured).
        train = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                            schedule="one_cycle", device=str(device), eval_every=args.epochs)
    except ExplorerError as exc:
        print(f"train_speed: {exc}", file=sys.stderr)
        sys.exit(2)
    cfg = ModelConfig("vae", data.item_shape, 20, hidden=(400,))
    recipes = {
        "pytorch/examples (DataLoader, batch 128, Adam 1e-3)":
            lambda: textbook(cfg, data, root, device, args.max_epochs),
        f"ours (fit, batch {args.batch_size}, one-cycle {args.lr:g}, {args.epochs} epochs)":
            lambda: ours(cfg, data, train),
    }
    runs: dict[str, list] = {name: [] for name in recipes}
    for _ in range(args.repeats):  # interleaved, so a change in the machine's load hits both
        for name, run in recipes.items():
            runs[name].append(run())
            print(f"{name}: {runs[name][-1][0]:.1f} s", file=sys.stderr, flush=True)
    print(f"\n784-400-20 VAE, MNIST ({len(data.x_train):,} training items), target test negative "
          f"ELBO {TARGET:g}, {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.repeats} interleaved run(s) each")
    print(f"{'recipe':<58}{'epochs':>7}{'test -ELBO':>11}{'seconds':>9}")
    medians = []
    for name, results in runs.items():
        for seconds, epochs, test in results:
            print(f"{name:<58}{epochs:>7}{test:>11.2f}{seconds:>9.1f}")
        medians.append(statistics.median(r[0] for r in results))
    reached = all(r[2] <= TARGET for r in runs[next(reversed(runs))])
    print(f"time to {TARGET:g}, median, ours {'reached it' if reached else 'DID NOT reach it'}: "
          f"{medians[0]:.1f} s against {medians[1]:.1f} s: {medians[0] / medians[1]:.2f}x")


if __name__ == "__main__":
    main()
