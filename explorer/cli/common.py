"""What the commands share: the data a command runs on, the model it opens, the codes it
encodes and the tables it writes, each failure as one line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from explorer.errors import ExplorerError

UPLOAD_SUFFIXES = (".npz", ".npy", ".csv", ".zip", ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


class UsageError(ExplorerError):
    """A bad command line."""


def is_file_source(source: str) -> bool:
    return source.lower().endswith(UPLOAD_SUFFIXES) or Path(source).is_file()


def data_config_from(args: argparse.Namespace):
    from explorer.config import DataConfig

    source = args.data
    # image_size and color only shape decoded image files, but are checked for every source.
    shared = {"seed": args.seed, "max_samples": args.max_samples, "image_size": args.image_size,
              "color": args.color}
    if is_file_source(source):
        return DataConfig(name="upload", path=absolute_path(source), label_column=args.label_column,
                          **shared)
    return DataConfig(name=source, root=args.data_root, **shared)


def absolute_path(path: str) -> str:
    """``path`` made absolute without following links (a link loop is the loader's to report)."""
    return os.path.abspath(os.path.expanduser(path))


# What a folder of imported codes (no decoder) can do; every other command decodes.
READS_CODES_ONLY = frozenset({"encode", "project", "knn"})


def require_decoder(ckpt, command: str) -> None:
    """Stop before any work when a codes-only folder meets a command that decodes."""
    if not ckpt.model.has_decoder and command not in READS_CODES_ONLY:
        from explorer.models.stored_codes import NO_DECODER, NoDecoderError

        raise NoDecoderError(f"{command} decodes. {NO_DECODER}")


def load_model_and_data(args: argparse.Namespace, checkpoint: str | None = None):
    """The checkpoint (``args.checkpoint`` unless given) and the data it is run on."""
    from explorer.store.checkpoint import load_checkpoint

    ckpt = load_checkpoint(checkpoint or args.checkpoint)
    require_decoder(ckpt, args.command)
    data = open_dataset(args, ckpt)
    ckpt.model.check_input(data.x_test[:1])
    return ckpt, data


def open_dataset(args: argparse.Namespace, ckpt=None, source: str | None = None):
    """``source`` or ``--data`` (a built-in source or a file) if given, else the checkpoint's
    own data. Other data is split the way the checkpoint's was (same seed and test share), so
    naming the checkpoint's own source gives exactly its test split."""
    from dataclasses import replace

    from explorer.config import DataConfig
    from explorer.data import load_dataset
    from explorer.store.checkpoint import stored_dataset

    source = source or getattr(args, "data", None)
    if ckpt is not None and source is None and ckpt.path is not None:
        stored = stored_dataset(ckpt.path)
        if stored is not None:
            return stored
    if ckpt is not None and source in (None, ckpt.data.name):
        data_cfg = ckpt.data
    else:
        split = ({"seed": ckpt.data.seed, "test_fraction": ckpt.data.test_fraction,
                  "image_size": ckpt.data.image_size, "color": ckpt.data.color}
                 if ckpt is not None else {"seed": args.seed})
        source = source or "digits"
        data_cfg = (DataConfig(name="upload", path=absolute_path(source), **split)
                    if is_file_source(source) else DataConfig(name=source, **split))
    if args.data_root is not None:
        data_cfg = replace(data_cfg, root=args.data_root)
    return load_dataset(data_cfg)


def encoded_split(args: argparse.Namespace):
    from explorer.latent import encode_all

    ckpt, data = load_model_and_data(args)
    x, y = (data.x_test, data.y_test) if args.split == "test" else (data.x_train, data.y_train)
    mu, logvar = encode_all(ckpt.model, x, with_logvar=True)
    return mu.numpy(), (None if logvar is None else logvar.numpy()), (None if y is None else y.numpy())


TABLE_SUFFIXES = (".npz", ".csv")


def write_table(path: Path, columns: dict[str, Any]) -> None:
    """Write arrays as .npz (each its own entry) or .csv (one column per dimension) at a path
    ``check_output_file`` passed."""
    from explorer.store.io import atomic_write_bytes, atomic_write_npz, csv_bytes

    if path.suffix.lower() == ".npz":
        written(path, lambda: atomic_write_npz(path, columns))
    else:
        written(path, lambda: atomic_write_bytes(path, csv_bytes(columns)))


def written(path: Path | str, write) -> None:
    """Run ``write``; a failure the checks could not foresee (a full disk) is one line too."""
    try:
        write()
    except OSError as exc:
        raise UsageError(f"Cannot write {path}: {exc.strerror or exc}.") from None


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Progress:
    """A tqdm bar over all steps on stderr, with the running loss."""

    def __init__(self, epochs: int, quiet: bool) -> None:
        self.epochs, self.quiet, self.bar = epochs, quiet, None

    def step(self, info) -> None:
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=self.epochs * info.steps_per_epoch, unit="step", file=sys.stderr,
                            dynamic_ncols=True)
        # Reports are throttled (a few a second), so the bar moves to the step reached.
        self.bar.update((info.epoch - 1) * info.steps_per_epoch + info.step - self.bar.n)
        self.bar.set_description(f"epoch {info.epoch}/{self.epochs}")
        self.bar.set_postfix({**{k: f"{v:.3g}" for k, v in info.losses.items()}, "lr": f"{info.lr:.2g}"},
                             refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
