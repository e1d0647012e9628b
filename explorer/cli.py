"""``python -m explorer``: everything the app does, from a shell. Every command takes
``--json``; bad input exits 2 with one line saying what to fix."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from explorer.errors import (
    OUT_OF_MEMORY_MESSAGE,
    DataError,
    ExplorerError,
    OutOfMemoryError,
    TrainingDivergedError,
)

UPLOAD_SUFFIXES = (".npz", ".npy", ".csv", ".zip", ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


class UsageError(ExplorerError):
    """A bad command line."""


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        # No prefix matching: `evaluate --data X` must not quietly mean `--data-root X`.
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        # prog is "python -m explorer" for the main parser, "python -m explorer train" for a command.
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if any(v <= 0 for v in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return sizes


def _parsed(cast: type, what: str):
    """An argparse type: ``cast(text)``, with a one-line message when it is not one. Ranges are
    the config dataclasses' to check (explorer.config), so the app and the library share them."""

    def parse(text: str):
        try:
            return cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None

    return parse


_whole = _parsed(int, "a whole number")
_number = _parsed(float, "a number")


def _positive_int(text: str) -> int:
    """For counts no config holds (--k, --items, ...): a whole number > 0."""
    value = _whole(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _seed(text: str) -> int:
    from explorer.checks import check_seed

    return check_seed(_whole(text))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m explorer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
        return p

    command("devices", "list the devices training can use")
    command("models", "list the model names")
    command("data", "list the built-in data sources")

    train = command("train", "train a model and save a checkpoint folder")
    train.add_argument("--data", default="digits",
                       help="a built-in source or the path of a .npz/.npy/.csv/image/.zip file")
    train.add_argument("--model", default="vae")
    train.add_argument("--latent-dim", type=_whole, default=2)
    train.add_argument("--epochs", type=_whole, default=30)
    train.add_argument("--batch-size", type=_whole, default=128)
    train.add_argument("--lr", type=_number, default=None,
                       help="default: the model family's own (1e-3; 0.05 for the RBM)")
    train.add_argument("--weight-decay", type=_number, default=0.0)
    train.add_argument("--beta", type=_number, default=None)
    train.add_argument("--hidden", type=_sizes, default=None, help="MLP widths, e.g. 512,256")
    train.add_argument("--channels", type=_sizes, default=None, help="conv channels, e.g. 32,64")
    train.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default=None,
                       help="default: bernoulli for images in [0, 1], else gaussian")
    train.add_argument("--dropout", type=_number, default=None)
    train.add_argument("--noise", choices=("none", "gaussian", "masking", "salt_pepper", "patch"),
                       default=None)
    train.add_argument("--activation", choices=("relu", "leaky_relu", "tanh", "sigmoid", "linear"),
                       default=None)
    train.add_argument("--noise-level", type=_number, default=None)
    train.add_argument("--sparsity-l1", type=_number, default=None)
    train.add_argument("--sparsity-target", type=_number, default=None)
    train.add_argument("--sparsity-kl-weight", type=_number, default=None)
    train.add_argument("--contractive-weight", type=_number, default=None)
    train.add_argument("--validation-fraction", type=_number, default=0.0)
    train.add_argument("--patience", type=_whole, default=None, help="early stopping patience (epochs)")
    train.add_argument("--grad-clip", type=_number, default=None)
    train.add_argument("--schedule", choices=("constant", "one_cycle"), default="constant",
                       help="learning-rate schedule; one_cycle warms up to --lr, then anneals to ~0")
    train.add_argument("--augment-shift", type=_whole, default=0, metavar="PIXELS",
                       help="move each training image by a random whole-pixel offset of up to this")
    train.add_argument("--seed", type=_whole, default=0)
    train.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto")
    train.add_argument("--max-samples", type=_whole, default=None)
    train.add_argument("--label-column", default=None, help="CSV uploads: the label column")
    train.add_argument("--image-size", type=_whole, default=28,
                       help="image uploads and celeba: side length (64 is usual for celeba)")
    train.add_argument("--color", choices=("grayscale", "rgb"), default="grayscale",
                       help="image uploads and celeba")
    _data_root(train)
    train.add_argument("--out", default=None, help="checkpoint folder (default: runs/NAME); it must "
                       "not exist yet, be empty, or hold a checkpoint and --overwrite be given")
    train.add_argument("--overwrite", action="store_true", help="replace the checkpoint at --out")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--timeline", action="store_true",
                       help="record the codes of 500 fixed test items after every epoch (timeline.npz "
                            "in the checkpoint), to replay the map as it forms")

    evaluate = command("evaluate", "report test-split metrics of a checkpoint")
    evaluate.add_argument("checkpoint")
    evaluate.add_argument("--nll-samples", type=int, default=100, choices=range(0, 5001), metavar="K",
                          help="VAEs: importance samples per item for the test log-likelihood "
                               "estimate `nll` (Burda et al. 2016; 0 skips it)")
    _data_root(evaluate)

    encode = command("encode", "write the latent codes of a split to .npz or .csv")
    encode.add_argument("checkpoint")
    encode.add_argument("--split", choices=("test", "train"), default="test")
    encode.add_argument("--out", required=True)
    _data_root(encode)

    knn = command("knn", "neighbours and clusters: kNN accuracy, k-means/GMM ARI and NMI, trustworthiness")
    knn.add_argument("checkpoint")
    knn.add_argument("--k", type=_positive_int, default=5)
    knn.add_argument("--method", default="umap", metavar="METHOD",
                     help="the 2-D map whose trustworthiness is reported: a method that maps codes "
                          "of any size (pca, umap, tsne; default umap)")
    knn.add_argument("--baselines", action="store_true",
                     help="also kNN on raw inputs and on PCA codes of the same size")
    _data_root(knn)

    project = command("project", "encode a split and project the codes to 2-D or 3-D")
    project.add_argument("checkpoint")
    # Names are checked by ProjectionConfig against explorer.projection.METHODS, which the
    # parser does not import (scikit-learn and scipy: 2 s before any --help).
    project.add_argument("--method", default="pca", metavar="METHOD",
                         help="a map method: raw, pca, umap, tsne, hammer, ... (default pca)")
    project.add_argument("--n-components", type=_whole, default=2, help="2 or 3")
    project.add_argument("--seed", type=_whole, default=0)
    project.add_argument("--n-neighbors", type=_whole, default=15)
    project.add_argument("--min-dist", type=_number, default=0.1)
    project.add_argument("--perplexity", type=_number, default=30.0)
    project.add_argument("--split", choices=("test", "train"), default="test")
    project.add_argument("--out", required=True)
    _data_root(project)

    finetune = command("finetune", "label efficiency: a classifier on the frozen encoder, on the "
                       "fine-tuned encoder and from scratch, with N labels per class")
    finetune.add_argument("checkpoint")
    finetune.add_argument("--labels", type=_sizes, default=(10, 100, 1000),
                          help="labels per class, e.g. 10,100,1000")
    finetune.add_argument("--methods", default="frozen,finetuned,scratch")
    finetune.add_argument("--min-steps", type=_positive_int, default=300,
                          help="each classifier trains for at least this many steps")
    finetune.add_argument("--seed", type=_seed, default=0)
    _data_root(finetune)

    regularity = command("regularity", "how regular latent spaces are: completeness (decoded prior "
                         "samples judged, their class mix) and continuity (steps and midpoints on paths); "
                         "give an AE and a VAE to compare them row by row")
    regularity.add_argument("checkpoints", nargs="+", metavar="checkpoint")
    _data_source(regularity)
    regularity.add_argument("--judge-data", default=None, metavar="SOURCE",
                            help="train the judging classifier on this source's training split "
                                 "(default: the data's own), e.g. full mnist for a stronger judge")
    regularity.add_argument("--n-prior", type=_positive_int, default=2000, help="prior samples to decode")
    regularity.add_argument("--seed", type=_seed, default=0)

    beta = command("beta", "the beta scrubber's family: one model at several KL weights beta, member "
                   "by member (reconstruction, KL, the aggregate posterior against N(0, I), regularity)")
    beta.add_argument("family", nargs="?", default=None,
                      help="a folder of checkpoints that differ only in beta "
                           "(default: the shipped pretrained/mnist-beta-2d)")
    beta.add_argument("--measure", action="store_true",
                      help="measure now (trains the judging classifier, about a minute) instead of "
                           "reading the measures stored with the family")
    beta.add_argument("--seed", type=_seed, default=0)

    seams = command("stretch", "where the decoder jumps: its local stretch over the map's plane, inside "
                               "classes against between them and near the codes against far")
    seams.add_argument("checkpoint")
    _data_source(seams)
    seams.add_argument("--resolution", type=_positive_int, default=60, help="grid cells per side")
    seams.add_argument("--seed", type=int, default=0)
    samplers = command("samplers", "make any autoencoder generative: decode samples of the prior and of a "
                       "Gaussian mixture fitted to the training codes (Ghosh et al. 2020), each judged "
                       "by a classifier of real items: class mix, confident share, Fréchet distance")
    samplers.add_argument("checkpoint")
    _data_source(samplers)
    samplers.add_argument("--n", type=_positive_int, default=2000, help="samples per sampler")
    samplers.add_argument("--seed", type=int, default=0)

    interpolate = command("interpolate", "interpolation lab: linear, spherical and data-following paths "
                          "(shortest path on a k-nearest-neighbour graph of the test codes) between two test "
                          "items, with each step's prior log-density, distance to the nearest code and "
                          "decoder change")
    interpolate.add_argument("checkpoint")
    interpolate.add_argument("--a", type=_whole, required=True, metavar="I", help="the first test item")
    interpolate.add_argument("--b", type=_whole, required=True, metavar="J", help="the last test item")
    interpolate.add_argument("--steps", type=_whole, default=16, help="points on each path (2 to 512)")
    interpolate.add_argument("--k", type=_positive_int, default=10, help="neighbours per code in the graph")
    _data_source(interpolate)

    denoise = command("denoise", "denoising: PSNR of the noisy input, the autoencoder's reconstruction "
                      "and the best-tuned median and Gaussian filters (scipy.ndimage)")
    denoise.add_argument("checkpoint")
    _data_source(denoise)
    denoise.add_argument("--noise", choices=("gaussian", "masking", "salt_pepper"), default="gaussian")
    denoise.add_argument("--level", type=_number, default=0.3,
                         help="Gaussian std, or the share of pixels masked / set to 0 or 1")
    denoise.add_argument("--items", type=_positive_int, default=1000, help="test images to corrupt")
    denoise.add_argument("--seed", type=_seed, default=0)

    arithmetic = command("arithmetic", "latent arithmetic: decode mean(z_A) - mean(z_B) + mean(z_C) "
                         "and every class-mean code, each named by a classifier of real items")
    arithmetic.add_argument("checkpoint")
    for group, example in (("a", "items:12"), ("b", "the class of A's item"), ("c", "another class")):
        arithmetic.add_argument(f"--{group}", required=True, metavar="GROUP",
                                help=f"a class name or items:I,J,... of the test split (e.g. {example})")
    _data_source(arithmetic)
    arithmetic.add_argument("--out", default=None, help="write a PNG: mean A, mean B, mean C, the result")

    anomaly = command("anomaly", "one-class anomaly detection: train on the normal class(es), "
                      "score the whole test split, compare the AUROC with a PCA baseline")
    anomaly.add_argument("--data", default=None,
                         help="a built-in source or a file (default: the checkpoint's data, else digits)")
    normal = anomaly.add_mutually_exclusive_group(required=True)
    normal.add_argument("--normal", nargs="+", metavar="CLASS",
                        help="the normal class(es), by name (e.g. 0 for MNIST's zeros)")
    normal.add_argument("--all-classes", action="store_true",
                        help="each class normal in turn; prints the per-class table with the mean")
    anomaly.add_argument("--model", default=None, help="default: the anomaly recipe's (vae)")
    anomaly.add_argument("--latent-dim", type=_positive_int, default=None,
                         help="default: the recipe's (30); the PCA baseline gets as many components")
    anomaly.add_argument("--epochs", type=_positive_int, default=None,
                         help="default: enough for the recipe's number of updates (30 on an MNIST class)")
    anomaly.add_argument("--score", choices=("reconstruction", "neg_elbo"), default=None,
                         help="reconstruction error (default) or the negative ELBO (VAEs)")
    anomaly.add_argument("--target-fpr", type=_number, default=0.05,
                         help="report precision/recall/F1 at the threshold with this false-positive rate")
    anomaly.add_argument("--checkpoint", default=None,
                         help="a saved model trained on the normal class: score only, no training")
    anomaly.add_argument("--seed", type=_seed, default=0)
    anomaly.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto")
    anomaly.add_argument("--quiet", action="store_true", help="no progress on stderr")
    _data_root(anomaly)

    app = command("app", "start the app on a model folder (yours, imported or shipped)")
    app.add_argument("folder", help="a model folder, e.g. one `import` wrote")
    app.add_argument("--port", type=_positive_int, default=None)

    imp = command("import", "make a model folder from an encoder.onnx and decoder.onnx made anywhere, "
                            "or from codes alone (--codes)")
    imp.add_argument("--encoder", help="an ONNX encoder: items to codes (and log-variances)")
    imp.add_argument("--decoder", help="an ONNX decoder: codes to items")
    imp.add_argument("--codes", help="codes computed elsewhere (.npz, .csv or .parquet), one per row; "
                                     "the folder can map and compare them but not decode")
    imp.add_argument("--labels", help="with --codes: the label column of a .csv or .parquet")
    imp.add_argument("--data", help="the items: a built-in source or a file (needed with --encoder; with "
                                    "--codes, the items the codes belong to: its test split or all of it)")
    imp.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli")
    imp.add_argument("--decoder-output", choices=("mean", "logits"), default="mean",
                     help="what the decoder returns: data-space values (default) or Bernoulli logits")
    imp.add_argument("--out", required=True, help="the new model folder")
    imp.add_argument("--overwrite", action="store_true")
    _data_root(imp)
    return parser


def _data_source(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default=None,
                   help="a built-in source or a file (default: the checkpoint's own data; "
                        "shipped models: mnist_sample needs no download)")
    _data_root(p)


def _data_root(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-root", default=None,
                   help="folder holding MNIST/raw, FashionMNIST/raw, KMNIST/raw, EMNIST/raw, "
                        "cifar-10-batches-py or celeba (default: $LATENT_EXPLORER_DATA or ./data)")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        result = COMMANDS[args.command](args)
    except ExplorerError as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except _out_of_memory():
        print(f"error: {OutOfMemoryError(OUT_OF_MEMORY_MESSAGE)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(_as_text(result))
    return 0


def _one_line(exc: Exception) -> str:
    """A message on one line, whatever a path or a library's text put in it."""
    return " ".join(str(exc).split())


def _out_of_memory() -> tuple[type[BaseException], ...]:
    """MemoryError, and torch's device OOM once torch is loaded (the CLI imports it lazily)."""
    torch = sys.modules.get("torch")
    return (MemoryError,) if torch is None else (MemoryError, torch.OutOfMemoryError)


def _as_text(result: Any) -> str:
    if isinstance(result, list):
        return "\n".join(
            "  ".join(str(v) for v in item.values() if v is not None) if isinstance(item, dict)
            else str(item)
            for item in result
        )
    if isinstance(result, dict):
        return "\n".join(
            f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}" for k, v in result.items()
        )
    return str(result)


# ---- commands -------------------------------------------------------------------------------


def cmd_devices(args: argparse.Namespace) -> list[dict[str, Any]]:
    from explorer.device import list_devices

    return [{"id": d.id, "name": d.name, "memory_gib": d.memory_gib} for d in list_devices()]


def cmd_models(args: argparse.Namespace) -> list[dict[str, Any]]:
    from explorer.models import MODELS

    return [{"name": s.name, "variational": s.variational, "description": s.description,
             "preset": {k: list(v) if isinstance(v, tuple) else v for k, v in s.preset.items()}}
            for s in MODELS.values()]


def cmd_data(args: argparse.Namespace) -> list[str]:
    from explorer.data import SOURCES

    return list(SOURCES)


def _is_file_source(source: str) -> bool:
    return source.lower().endswith(UPLOAD_SUFFIXES) or Path(source).is_file()


def _data_config(args: argparse.Namespace):
    from explorer.config import DataConfig

    source = args.data
    # image_size and color only shape decoded image files, but are checked for every source.
    shared = {"seed": args.seed, "max_samples": args.max_samples, "image_size": args.image_size,
              "color": args.color}
    if _is_file_source(source):
        return DataConfig(name="upload", path=_absolute(source), label_column=args.label_column,
                          **shared)
    return DataConfig(name=source, root=args.data_root, **shared)


def _absolute(path: str) -> str:
    """``path`` made absolute without following links (a link loop is the loader's to report)."""
    return os.path.abspath(os.path.expanduser(path))


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    from explorer.checkpoint import check_save_target, save_checkpoint
    from explorer.config import TrainConfig
    from explorer.data import load_dataset
    from explorer.device import resolve_device
    from explorer.metrics import evaluate
    from explorer.models import build_model, model_config, model_spec
    from explorer.timeline import TimelineRecorder
    from explorer.train import fit

    # Everything that can be checked without the data fails before the (possibly slow) load.
    resolve_device(args.device)
    if args.out is not None:
        check_save_target(args.out, args.overwrite)
    spec = model_spec(args.model)
    train_cfg = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, lr=spec.lr if args.lr is None else args.lr,
        weight_decay=args.weight_decay,
        seed=args.seed, device=args.device, grad_clip=args.grad_clip,
        validation_fraction=args.validation_fraction, early_stopping_patience=args.patience,
        schedule=args.schedule, augment_shift=args.augment_shift,
    )
    data_cfg = _data_config(args)
    data = load_dataset(data_cfg)
    train_cfg.validation_items(len(data.x_train))
    model_cfg = model_config(
        args.model, data.item_shape, args.latent_dim, hidden=args.hidden, channels=args.channels,
        likelihood=args.likelihood or spec.preset.get("likelihood") or data.likelihood, beta=args.beta,
        dropout=args.dropout, activation=args.activation, noise=args.noise,
        noise_level=args.noise_level, sparsity_l1=args.sparsity_l1,
        sparsity_target=args.sparsity_target, sparsity_kl_weight=args.sparsity_kl_weight,
        contractive_weight=args.contractive_weight,
    )
    model = build_model(model_cfg)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = check_save_target(args.out or f"runs/{args.model}-{data.name}-{args.latent_dim}d-{stamp}",
                            args.overwrite)
    progress = _Progress(train_cfg.epochs, quiet=args.quiet)
    recorder = TimelineRecorder(model, data, seed=train_cfg.seed) if args.timeline else None
    diverged: TrainingDivergedError | None = None
    try:
        history = fit(model, data, train_cfg, on_step=progress.step,
                      on_epoch=None if recorder is None else recorder.record)
    except TrainingDivergedError as exc:
        diverged, history = exc, exc.history
    finally:
        progress.close()
    metrics = evaluate(model, data)
    # An upload may not exist elsewhere, or another file may take its name: keep its data.
    timeline = None if recorder is None else recorder.finish()
    save_checkpoint(out, model, data_cfg, train_cfg, metrics, history, overwrite=args.overwrite,
                    dataset=data if data_cfg.name == "upload" else None, timeline=timeline)
    if diverged is not None:
        raise TrainingDivergedError(f"{diverged} The last good weights were saved to {out}.")
    return {"checkpoint": str(out), "epochs_run": history.epochs_run,
            "seconds": round(history.seconds, 2),
            "seconds_per_epoch": round(history.seconds / max(history.epochs_run, 1), 3),
            "stop_reason": history.stop_reason, **metrics,
            **({} if timeline is None else {"timeline_frames": timeline.n_frames,
                                            "timeline_items": len(timeline.items)})}


class _Progress:
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


# What a folder of imported codes (no decoder) can do; every other command decodes.
READS_CODES_ONLY = frozenset({"encode", "project", "knn"})


def _require_decoder(ckpt, command: str) -> None:
    """Stop before any work when a codes-only folder meets a command that decodes."""
    if not ckpt.model.has_decoder and command not in READS_CODES_ONLY:
        from explorer.models.stored_codes import NO_DECODER, NoDecoderError

        raise NoDecoderError(f"{command} decodes. {NO_DECODER}")


def _load(args: argparse.Namespace, checkpoint: str | None = None):
    """The checkpoint (``args.checkpoint`` unless given) and the data it is run on."""
    from explorer.checkpoint import load_checkpoint

    ckpt = load_checkpoint(checkpoint or args.checkpoint)
    _require_decoder(ckpt, args.command)
    data = _dataset(args, ckpt)
    ckpt.model.check_input(data.x_test[:1])
    return ckpt, data


def _dataset(args: argparse.Namespace, ckpt=None, source: str | None = None):
    """``source`` or ``--data`` (a built-in source or a file) if given, else the checkpoint's
    own data. Other data is split the way the checkpoint's was (same seed and test share), so
    naming the checkpoint's own source gives exactly its test split."""
    from dataclasses import replace

    from explorer.checkpoint import stored_dataset
    from explorer.config import DataConfig
    from explorer.data import load_dataset

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
        data_cfg = (DataConfig(name="upload", path=_absolute(source), **split)
                    if _is_file_source(source) else DataConfig(name=source, **split))
    if args.data_root is not None:
        data_cfg = replace(data_cfg, root=args.data_root)
    return load_dataset(data_cfg)


def cmd_evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from explorer.likelihood import latent_usage, log_likelihood
    from explorer.metrics import evaluate

    ckpt, data = _load(args)
    report = {"checkpoint": args.checkpoint, "model": ckpt.config.name, "data": data.name,
              "latent_dim": ckpt.config.latent_dim, **evaluate(ckpt.model, data)}
    if ckpt.model.variational and args.nll_samples > 0:
        print(f"estimating the test log-likelihood with {args.nll_samples} importance samples per "
              "item...", file=sys.stderr)
        report["nll"] = -log_likelihood(ckpt.model, data.x_test, k=args.nll_samples).mean().item()
        report["nll_samples"] = args.nll_samples
    if ckpt.model.variational and ckpt.config.posterior == "gaussian":
        report["active_units"] = latent_usage(ckpt.model, data.x_test).n_active
    return report


def _codes(args: argparse.Namespace):
    from explorer.latent import encode_all

    ckpt, data = _load(args)
    x, y = (data.x_test, data.y_test) if args.split == "test" else (data.x_train, data.y_train)
    mu, logvar = encode_all(ckpt.model, x, with_logvar=True)
    return mu.numpy(), (None if logvar is None else logvar.numpy()), (None if y is None else y.numpy())


TABLE_SUFFIXES = (".npz", ".csv")


def _write_table(path: Path, columns: dict[str, Any]) -> None:
    """Write arrays as .npz (each its own entry) or .csv (one column per dimension) at a path
    ``check_output_file`` passed."""
    import numpy as np

    from explorer.io import atomic_write_bytes, atomic_write_npz

    present = {k: np.asarray(v) for k, v in columns.items() if v is not None}
    if path.suffix.lower() == ".npz":
        _written(path, lambda: atomic_write_npz(path, present))
    else:
        header, blocks = [], []
        for name, arr in present.items():
            arr = arr.reshape(len(arr), -1)
            header += [name] if arr.shape[1] == 1 else [f"{name}{i}" for i in range(arr.shape[1])]
            blocks.append(arr.astype(np.float64))
        import io

        buffer = io.StringIO()
        np.savetxt(buffer, np.hstack(blocks), delimiter=",", header=",".join(header), comments="",
                   fmt="%.6g")
        _written(path, lambda: atomic_write_bytes(path, buffer.getvalue().encode()))


def _written(path: Path | str, write) -> None:
    """Run ``write``; a failure the checks could not foresee (a full disk) is one line too."""
    try:
        write()
    except OSError as exc:
        raise UsageError(f"Cannot write {path}: {exc.strerror or exc}.") from None


def cmd_encode(args: argparse.Namespace) -> dict[str, Any]:
    from explorer.paths import check_output_file

    out = check_output_file(args.out, TABLE_SUFFIXES)
    z, logvar, y = _codes(args)
    _write_table(out, {"z": z, "logvar": logvar, "label": y})
    return {"out": str(out), "n": len(z), "latent_dim": z.shape[1]}


def cmd_project(args: argparse.Namespace) -> dict[str, Any]:
    from explorer.paths import check_output_file
    from explorer.projection import ProjectionConfig, project

    out = check_output_file(args.out, TABLE_SUFFIXES)
    cfg = ProjectionConfig(method=args.method, n_components=args.n_components, seed=args.seed,
                           n_neighbors=args.n_neighbors, min_dist=args.min_dist,
                           perplexity=args.perplexity)
    z, _, y = _codes(args)
    print(f"projecting {len(z)} codes with {args.method}...", file=sys.stderr)
    result = project(z, cfg)
    _write_table(out, {"p": result.embedding, "label": y})
    return {"out": str(out), "n": len(z), "method": args.method,
            "seconds": round(result.seconds, 2)}


def cmd_knn(args: argparse.Namespace) -> dict[str, Any]:
    from explorer.latent import encode_all
    from explorer.metrics import projection_trustworthiness
    from explorer.neighbours import check_labelled, neighbour_report
    from explorer.projection import METHODS, ProjectionConfig, project

    cfg = ProjectionConfig(method=args.method)
    if not cfg.spec.any_code:
        general = ", ".join(name for name, spec in METHODS.items() if spec.any_code)
        raise UsageError(f"knn reports the trustworthiness of a map of codes of any size; {args.method} "
                         f"is not one. Choose one of {general}.")
    ckpt, data = _load(args)
    y_train = None if data.y_train is None else data.y_train.numpy()
    y_test = None if data.y_test is None else data.y_test.numpy()
    check_labelled(y_train, y_test, args.k)
    z_train = encode_all(ckpt.model, data.x_train).numpy()
    z_test = encode_all(ckpt.model, data.x_test).numpy()
    inputs = {"x_train": data.x_train.numpy(), "x_test": data.x_test.numpy()} if args.baselines else {}
    report = neighbour_report(z_train, y_train, z_test, y_test, args.k, **inputs).as_dict()
    if not args.baselines:
        report = {k: v for k, v in report.items() if k not in ("knn_accuracy_raw", "knn_accuracy_pca")}
    print(f"projecting {len(z_test)} test codes with {args.method} for trustworthiness...", file=sys.stderr)
    embedding = project(z_test, cfg).embedding
    return {"checkpoint": args.checkpoint, "latent_dim": int(z_test.shape[1]), **report,
            "trustworthiness": projection_trustworthiness(z_test, embedding, k=5),
            "trustworthiness_method": args.method}


def cmd_finetune(args: argparse.Namespace) -> dict[str, Any]:
    from explorer.finetune import FinetuneConfig, label_efficiency_report

    ckpt, data = _load(args)

    def progress(done: int, total: int, message: str) -> None:
        print(f"[{done}/{total}] {message}", file=sys.stderr)

    report = label_efficiency_report(ckpt.model, data, args.labels,
                                     FinetuneConfig(min_steps=args.min_steps, seed=args.seed),
                                     methods=tuple(m.strip() for m in args.methods.split(",")),
                                     on_progress=progress)
    return report if args.json else report["table"]


def cmd_regularity(args: argparse.Namespace) -> dict[str, Any] | str:
    from dataclasses import replace

    from explorer.checkpoint import load_checkpoint
    from explorer.latent import encode_all
    from explorer.regularity import favours, regularity_report

    if len(set(args.checkpoints)) != len(args.checkpoints):
        raise UsageError("The same checkpoint is named twice.")
    names = [Path(c).name for c in args.checkpoints]
    if len(set(names)) != len(names):
        names = list(args.checkpoints)  # folders of one name in different places
    rows: dict[str, Any] = {}
    judge = data = first = None
    for name, checkpoint in zip(names, args.checkpoints):
        ckpt = load_checkpoint(checkpoint)
        _require_decoder(ckpt, args.command)
        if data is None:  # every model runs on the same items: the first one's data or --data
            data, first = _dataset(args, ckpt), replace(ckpt.data, root=None)
            judge = _regularity_judge(args, data)
        elif args.data is None and replace(ckpt.data, root=None) != first:
            raise DataError(f"{args.checkpoints[0]} and {checkpoint} were trained on different data "
                            "(or splits of it); give --data to run both on the same items.")
        ckpt.model.check_input(data.x_test[:1])
        mu, logvar = encode_all(ckpt.model, data.x_test, with_logvar=True)
        labels = None if data.y_test is None else data.y_test.numpy()
        report = regularity_report(ckpt.model, mu.numpy(), None if logvar is None else logvar.numpy(),
                                   n_prior=args.n_prior, seed=args.seed, judge=judge, labels=labels)
        rows[name] = report.as_rows()
    verdicts = {}
    if len(names) == 2:
        verdicts = {m: "tie" if w is None else names[w] for m, w in favours(*rows.values()).items()}
    values = {name: {m: v for m, v, _ in model_rows} for name, model_rows in rows.items()}
    readings = {m: reading for model_rows in rows.values() for m, _, reading in model_rows}
    if args.json:
        return {"models": values, "reading": readings, "favours": verdicts}
    return _regularity_text(values, readings, verdicts)


def cmd_beta(args: argparse.Namespace) -> dict[str, Any] | str:
    from explorer import beta_family
    from explorer.data.sample import PRETRAINED_DIR

    folder = Path(args.family) if args.family else PRETRAINED_DIR / beta_family.BETA_FAMILY_DIR
    members = beta_family.read_family(folder)
    reports = None if args.measure else beta_family.read_family_report(folder, members)
    measured_now = reports is None
    if reports is None:
        print("training a classifier of the shown data to judge decoded items...", file=sys.stderr)
        reports = beta_family.measure_family(members, seed=args.seed)
    _, rotations = beta_family.aligned_maps(members)
    result = {"family": str(folder), "reference_beta": members[beta_family.reference_member(members)].beta,
              "measured": "now" if measured_now else "stored",
              "members": [{**r.as_dict(), "rotation": rot.round(6).tolist()}
                          for r, rot in zip(reports, rotations)]}
    return result if args.json else _beta_text(reports)


def _beta_text(reports) -> str:
    columns = ("beta", "recon_sse", "kl", "prior_gap", "active_units", "prior_valid", "midpoint_valid")
    lines = ["  ".join(f"{c:>14}" for c in columns)]
    for r in reports:
        values = (r.beta, r.recon_sse, r.kl, r.prior_gap, r.active_units, r.regularity.prior_valid,
                  r.regularity.midpoint_valid)
        lines.append("  ".join(f"{'—' if v is None else f'{v:.3g}':>14}" for v in values))
    return "\n".join(lines)


def _regularity_judge(args: argparse.Namespace, data):
    """The classifier that judges decoded items: trained on ``--judge-data`` if given, else on
    ``data``'s training split; None without labels."""
    from explorer.regularity import fit_judge

    known = _dataset(args, source=args.judge_data) if args.judge_data else data
    if known.item_shape != data.item_shape:
        raise DataError(f"The judge's data {known.name} has items of shape {known.item_shape}; "
                        f"{data.name}'s are {data.item_shape}.")
    if known is not data and data.y_test is not None and (
            known.y_train is None or set(data.y_test.tolist()) - set(known.y_train.tolist())):
        raise DataError(f"The judge's data {known.name} does not have every class of {data.name}, "
                        "so it cannot name their decodes.")
    if known.y_train is None:
        return None
    print(f"training a classifier of {known.name} to judge decoded items...", file=sys.stderr)
    return fit_judge(known.x_train.numpy(), known.y_train.numpy(), seed=args.seed)


def _regularity_text(values: dict[str, dict[str, float]], readings: dict[str, str],
                     verdicts: dict[str, str]) -> str:
    measure_width = max(map(len, readings))
    widths = {name: max(len(name), 8) for name in values}
    verdict_width = max(map(len, verdicts.values()), default=0)
    header = [f"{'measure':<{measure_width}}", *(f"{n:>{w}}" for n, w in widths.items())]
    lines = ["  ".join(header + (["favours"] if verdicts else []))]
    for measure, reading in readings.items():
        cells = [f"{measure:<{measure_width}}"]
        cells += [f"{values[n][measure]:>{w}.3f}" if measure in values[n] else f"{'—':>{w}}"
                  for n, w in widths.items()]
        if verdicts:
            cells.append(verdicts.get(measure, "").ljust(verdict_width))
        lines.append("  ".join(cells + [f"({reading})"]))
    return "\n".join(lines)


def cmd_stretch(args: argparse.Namespace) -> dict[str, Any] | str:
    from explorer.latent import encode_all
    from explorer.stretch import map_plane, seam_report, stretch_by_coverage, stretch_grid

    ckpt, data = _load(args)
    if data.y_test is None:
        raise DataError(f"{data.name} has no labels; inside and between classes needs labelled data. "
                        "Give it with --data.")
    plane, points = map_plane(encode_all(ckpt.model, data.x_test).numpy())
    report = seam_report(ckpt.model, plane, points, data.y_test.numpy(), seed=args.seed)
    grid = stretch_grid(ckpt.model, plane, points, args.resolution)
    out = {"checkpoint": args.checkpoint, "data": data.name,
           "plane": "latent" if ckpt.config.latent_dim == 2 else "pca",
           **report.summary(), **stretch_by_coverage(grid, points)}
    if args.json:
        return out
    return "\n".join(f"{key:<24} {value:.4g}" if isinstance(value, float) else f"{key:<24} {value}"
                     for key, value in out.items())


def cmd_samplers(args: argparse.Namespace) -> dict[str, Any] | str:
    from explorer.latent import encode_all
    from explorer.regularity import fit_judge
    from explorer.samplers import SAMPLERS, sampler_report

    ckpt, data = _load(args)
    if data.y_train is None:
        raise DataError(f"{data.name} has no labels; judging decoded samples needs a classifier of "
                        "labelled items. Give labelled data with --data.")
    print(f"training a classifier of {data.name} to judge decoded samples...", file=sys.stderr)
    judge = fit_judge(data.x_train.numpy(), data.y_train.numpy(), seed=args.seed)
    train_codes = encode_all(ckpt.model, data.x_train).numpy()
    reports = {}
    for name in SAMPLERS:
        print(f"decoding {args.n} samples of the {name} sampler...", file=sys.stderr)
        r = sampler_report(ckpt.model, name, judge, data.x_test.numpy(),
                           None if data.y_test is None else data.y_test.numpy(), train_codes, args.n,
                           args.seed)
        reports[name] = {"class_mix": r.class_mix, "confident": r.confident, "frechet": r.frechet}
    out = {"checkpoint": args.checkpoint, "data": data.name, "n": args.n, "samplers": reports}
    if args.json:
        return out
    lines = [f"{'sampler':<8} {'class mix':>10} {'confident':>10} {'Fréchet':>10}"]
    lines += [f"{name:<8} {r['class_mix']:>10.3f} {r['confident']:>10.3f} {r['frechet']:>10.2f}"
              for name, r in reports.items()]
    return "\n".join([*lines, "(class mix: total variation from the test set's, lower is better; confident: "
                       "share judged one class at >= 90 %; Fréchet: distance to real items in the judge's "
                       "features, lower is better)"])


def cmd_interpolate(args: argparse.Namespace) -> dict[str, Any] | str:
    from explorer.interpolation import CodeGraph, check_pair, check_steps, path_profiles
    from explorer.latent import encode_all

    ckpt, data = _load(args)
    check_steps(args.steps)
    check_pair(len(data.x_test), args.a, args.b)  # before encoding a whole split
    graph = CodeGraph(encode_all(ckpt.model, data.x_test).numpy(), args.k)
    profiles = path_profiles(ckpt.model, graph, args.a, args.b, args.steps)
    out = {"checkpoint": args.checkpoint, "data": data.name, "a": args.a, "b": args.b,
           "steps": args.steps, "k": graph.k,
           "paths": {kind: {"summary": p.summary(), **p.series()} for kind, p in profiles.items()}}
    if args.json:
        return out
    measures = list(out["paths"]["linear"]["summary"])
    lines = [f"{'':<22}" + "".join(f"{kind:>12}" for kind in profiles)]
    lines += [f"{m:<22}" + "".join(f"{out['paths'][kind]['summary'][m]:>12.4g}" for kind in profiles)
              for m in measures]
    return "\n".join([*lines, "(log prior: log N(z; 0, I) in nats; nearest code: distance to the nearest "
                       "test code; decoder change: pixel L2 between consecutive decodes; jump: largest / "
                       "mean change, 1 is even)"])


def cmd_denoise(args: argparse.Namespace) -> dict[str, Any]:
    from explorer.denoise import denoise

    ckpt, data = _load(args)
    if data.kind != "image":
        raise DataError(f"Denoising compares with image filters; {data.name} has items of shape "
                        f"{data.item_shape}, not images.")
    if not args.level >= 0 or (args.noise != "gaussian" and args.level > 1):  # NaN fails >= too
        raise UsageError(f"--level {args.level} is out of range: a Gaussian std is at least 0, a "
                         "share of pixels is between 0 and 1.")
    result = denoise(ckpt.model, data.x_test[:args.items], args.noise, args.level, seed=args.seed)
    best_filter = max(result.filtered, key=result.psnr.__getitem__)
    return {"checkpoint": args.checkpoint, "data": data.name, "items": len(result.noisy),
            "noise": args.noise, "level": args.level,
            **{f"psnr {name}": value for name, value in result.psnr.items()},
            "best_filter": best_filter,
            "autoencoder_gain_over_noisy_db": result.psnr["autoencoder"] - result.psnr["noisy input"],
            "autoencoder_gain_over_best_filter_db": result.psnr["autoencoder"] - result.psnr[best_filter]}


def cmd_arithmetic(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import torch

    from explorer.arithmetic import analogy, class_means, group_mean, group_members
    from explorer.io import atomic_write_bytes
    from explorer.latent import decode, encode_all
    from explorer.paths import check_output_file
    from explorer.regularity import fit_judge, judge_verdicts
    from explorer.render import tile, to_png

    if args.out:
        check_output_file(args.out)
    ckpt, data = _load(args)
    if args.out and data.kind != "image":
        raise DataError(f"--out draws images; {data.name} has items of shape {data.item_shape}.")
    z = encode_all(ckpt.model, data.x_test).numpy()
    members = {g: group_members(data, spec, g) for g, spec in zip("ABC", (args.a, args.b, args.c))}
    result = analogy(z, members["A"], members["B"], members["C"])
    decoded = decode(ckpt.model, torch.from_numpy(
        np.stack([*(group_mean(z, m, g) for g, m in members.items()), result]))).numpy()
    out: dict[str, Any] = {"checkpoint": args.checkpoint, "data": data.name,
                           "groups": {g: {"spec": spec, "items": len(members[g])}
                                      for g, spec in zip("ABC", (args.a, args.b, args.c))}}
    if data.y_train is not None:
        judge = fit_judge(data.x_train.numpy(), data.y_train.numpy())

        def judged(items: np.ndarray) -> list[dict[str, Any]]:
            return [{"class": data.label_name(int(c)), "confidence": float(p)}
                    for c, p in zip(*judge_verdicts(judge, items))]

        out["result"] = judged(decoded[-1:])[0]
        means = class_means(z, data.y_test.numpy())
        mean_decodes = decode(ckpt.model, torch.from_numpy(np.stack(list(means.values())))).numpy()
        out["class_means"] = {data.label_name(c): j for c, j in zip(means, judged(mean_decodes))}
    if args.out:
        png = to_png(tile(data.to_display(decoded), ncols=4, pad=2), scale=4)
        _written(args.out, lambda: atomic_write_bytes(args.out, png))
        out["image"] = args.out
    return out if args.json else _arithmetic_text(out)


def _arithmetic_text(out: dict[str, Any]) -> str:
    groups = ", ".join(f"{g} = {v['spec']} ({v['items']} item{'s' if v['items'] > 1 else ''})"
                       for g, v in out["groups"].items())
    lines = [groups]
    if "result" in out:
        lines.append(f"A - B + C decodes to what a classifier of real items calls {out['result']['class']} "
                     f"({out['result']['confidence']:.0%} sure)")
        lines.append("class-mean codes decode to: " + ", ".join(
            f"{c} -> {j['class']} ({j['confidence']:.0%})" for c, j in out["class_means"].items()))
    if "image" in out:
        lines.append(f"mean A, mean B, mean C and A - B + C drawn in {out['image']}")
    return "\n".join(lines)


def cmd_anomaly(args: argparse.Namespace) -> dict[str, Any] | list[dict[str, Any]]:
    from explorer import anomaly as an
    from explorer.checkpoint import load_checkpoint
    from explorer.device import resolve_device

    if not 0.0 <= args.target_fpr <= 1.0:
        raise UsageError(f"--target-fpr must be between 0 and 1, got {args.target_fpr}")
    resolve_device(args.device)
    ckpt = load_checkpoint(args.checkpoint) if args.checkpoint else None
    if ckpt is not None:
        _require_decoder(ckpt, args.command)
    if ckpt is not None and args.all_classes:
        raise UsageError("--checkpoint scores one model trained on one normal class; give --normal, "
                         "not --all-classes")
    data = _dataset(args, ckpt)
    cfg = an.recipe(model=args.model, latent_dim=args.latent_dim, epochs=args.epochs, score=args.score,
                    seed=args.seed, device=args.device)
    if args.all_classes:
        return _anomaly_table(args, data, cfg)
    if ckpt is not None:
        split = an.one_class_split(data, args.normal)
        model = ckpt.model.to(resolve_device(args.device))
        result = an.score_one_class(model, split, cfg.score, cfg.n_samples, cfg.seed)
    else:
        split = an.one_class_split(data, args.normal)
        cfg = an.resolve_epochs(cfg, len(split.train.x_train))
        progress = _Progress(cfg.epochs, quiet=args.quiet)
        try:
            model, result = an.run_one_class(data, args.normal, cfg, on_step=progress.step)
        finally:
            progress.close()
    threshold = an.threshold_for_fpr(result.scores, result.is_anomaly, args.target_fpr)
    report = an.at_threshold(result.scores, result.is_anomaly, threshold)
    return {**result.summary(), "checkpoint": args.checkpoint, "target_fpr": args.target_fpr,
            "threshold": report.threshold, "precision": report.precision, "recall": report.recall,
            "f1": report.f1, "false_positive_rate": report.false_positive_rate,
            **an.reference_auroc(result.data_name, result.normal).as_columns()}


def _anomaly_table(args: argparse.Namespace, data, cfg) -> list[dict[str, Any]] | str:
    """Every class normal in turn: a list of rows for --json, an aligned table otherwise."""
    from explorer import anomaly as an

    def on_class(i: int, n: int, r: an.OneClassResult) -> None:
        if not args.quiet:
            print(f"[{i}/{n}] normal {', '.join(r.normal_names)}: AUROC {100 * r.auroc:.1f}, "
                  f"PCA {100 * r.pca_auroc:.1f} ({r.seconds:.0f} s)", file=sys.stderr, flush=True)

    rows = an.comparison_table(an.run_all_classes(data, cfg, on_class=on_class))
    if args.json:
        return rows
    return an.format_comparison_table(rows, f"{an.describe(cfg)}; AUROC in %")


def app_command(folder: str, port: int | None = None) -> tuple[list[str], dict[str, str]]:
    """The ``streamlit run`` command line and environment that open the app on ``folder``,
    after checking the folder is a model folder (so a typo is one line, not a blank page)."""
    from explorer.catalog import OPEN_ENV
    from explorer.checkpoint import read_config

    path = Path(folder).resolve()
    read_config(path)
    script = Path(__file__).resolve().parents[1] / "app.py"
    argv = [sys.executable, "-m", "streamlit", "run", str(script)]
    if port is not None:
        argv += ["--server.port", str(port)]
    return argv, {**os.environ, OPEN_ENV: str(path)}


def cmd_app(args: argparse.Namespace) -> NoReturn:
    argv, env = app_command(args.folder, args.port)
    os.execve(argv[0], argv, env)  # the app replaces this process, as `streamlit run` would be


def cmd_import(args: argparse.Namespace) -> dict[str, Any]:
    from explorer import byo
    from explorer.config import DataConfig
    from explorer.data import SOURCES

    data = DataConfig(name=args.data, root=args.data_root) if args.data in SOURCES else args.data
    if args.codes is not None:
        if args.encoder or args.decoder:
            raise UsageError("Give --codes alone, or --encoder and --decoder: not both.")
        from explorer.codes_import import import_codes

        out = import_codes(args.codes, args.out, labels=args.labels, data=data, overwrite=args.overwrite,
                           on_progress=_say)
        return {"out": str(out), "latent_dim": byo.read_latent_dim(out), "decoder": False}
    if not (args.encoder and args.decoder and args.data):
        raise UsageError("import needs --encoder, --decoder and --data (or --codes FILE).")
    if args.labels is not None:
        raise UsageError("--labels goes with --codes; a model's labels come from --data.")
    out = byo.import_onnx(args.encoder, args.decoder, data, args.out, likelihood=args.likelihood,
                          decoder_output=args.decoder_output, overwrite=args.overwrite, on_progress=_say)
    return {"out": str(out), "latent_dim": byo.read_latent_dim(out)}


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


COMMANDS = {
    "import": cmd_import,
    "app": cmd_app,
    "devices": cmd_devices,
    "models": cmd_models,
    "data": cmd_data,
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "encode": cmd_encode,
    "project": cmd_project,
    "knn": cmd_knn,
    "finetune": cmd_finetune,
    "regularity": cmd_regularity,
    "beta": cmd_beta,
    "samplers": cmd_samplers,
    "stretch": cmd_stretch,
    "interpolate": cmd_interpolate,
    "denoise": cmd_denoise,
    "arithmetic": cmd_arithmetic,
    "anomaly": cmd_anomaly,
}
