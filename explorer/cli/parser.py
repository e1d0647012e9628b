"""The command line's parser: every command, its options and their types."""

from __future__ import annotations

import argparse

from explorer.cli.common import UsageError

DESCRIPTION = ("Everything the app does, from a shell. Every command takes --json; bad input exits 2 "
               "with one line saying what to fix.")


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
    parser = _Parser(prog="python -m explorer", description=DESCRIPTION)
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
