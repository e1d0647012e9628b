"""Training throughput: whole-tensor batches on the device (our trainer) against the
pytorch/examples loop (a DataLoader over a TensorDataset, batch 128), same model, same
data, same run. Prints seconds per epoch and the speed-up.

    python bench/train_speed.py [--data mnist --data-root ROOT] [--epochs 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import explorer  # noqa: E402, F401, I001  (sets the OpenMP wait policy before torch loads)
import torch  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from explorer.config import DataConfig, ModelConfig, TrainConfig  # noqa: E402
from explorer.data import load_dataset  # noqa: E402
from explorer.models import build_model  # noqa: E402
from explorer.train import fit  # noqa: E402


def dataloader_epoch(model, loader: DataLoader, device: torch.device) -> None:
    """The textbook loop: a shuffled DataLoader, each batch copied to the device."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for batch, *_ in loader:
        batch = batch.to(device)
        loss = model.loss(batch)["total"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="mnist_sample")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    data = load_dataset(DataConfig(args.data, root=args.data_root))
    device = torch.device(args.device)
    cfg = ModelConfig("vae", data.item_shape, 20, hidden=(400,))
    loaders = {}
    if args.data == "mnist":
        from torchvision import datasets, transforms

        from explorer.data import resolve_root

        # Exactly the pytorch/examples VAE input pipeline: PIL images through ToTensor.
        mnist = datasets.MNIST(
            str(resolve_root(args.data_root)), train=True, download=False, transform=transforms.ToTensor()
        )
        loaders["pytorch/examples loop"] = DataLoader(mnist, batch_size=args.batch_size, shuffle=True)
    loaders["DataLoader over tensors"] = DataLoader(
        TensorDataset(data.x_train), batch_size=args.batch_size, shuffle=True
    )
    rows = []
    for name in [*loaders, "whole-tensor slices (fit)"]:
        torch.manual_seed(0)
        model = build_model(cfg).to(device)
        start = time.perf_counter()
        if name in loaders:
            for _ in range(args.epochs):
                dataloader_epoch(model, loaders[name], device)
        else:
            fit(
                model,
                data,
                TrainConfig(
                    epochs=args.epochs, batch_size=args.batch_size, device=args.device, eval_every=10**9
                ),
            )
        if device.type == "cuda":
            torch.cuda.synchronize()
        rows.append((name, (time.perf_counter() - start) / args.epochs))
    baseline = rows[0][1]
    print(
        f"\n784-400-20 VAE, {data.name}: {len(data.x_train):,} training items, batch {args.batch_size}, "
        f"{args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(f"{'loop':<30}{'s / epoch':>10}{'speed-up':>10}")
    for name, seconds in rows:
        print(f"{name:<30}{seconds:>10.2f}{baseline / seconds:>9.2f}x")


if __name__ == "__main__":
    main()
