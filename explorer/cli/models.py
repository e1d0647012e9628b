"""The commands on models and their codes: devices, models, data, train, evaluate, encode,
project, knn, import and app."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from explorer.cli.common import (
    TABLE_SUFFIXES,
    Progress,
    UsageError,
    data_config_from,
    encoded_split,
    load_model_and_data,
    say,
    write_table,
)
from explorer.errors import TrainingDivergedError


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


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    from explorer.apps.metrics import evaluate
    from explorer.config import TrainConfig
    from explorer.data import load_dataset
    from explorer.device import resolve_device
    from explorer.models import build_model, model_config, model_spec
    from explorer.store.checkpoint import check_save_target, save_checkpoint
    from explorer.training.timeline import TimelineRecorder
    from explorer.training.train import fit

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
    data_cfg = data_config_from(args)
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
    progress = Progress(train_cfg.epochs, quiet=args.quiet)
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


def cmd_evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from explorer.apps.likelihood import latent_usage, log_likelihood
    from explorer.apps.metrics import evaluate

    ckpt, data = load_model_and_data(args)
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


def cmd_encode(args: argparse.Namespace) -> dict[str, Any]:
    from explorer.store.paths import check_output_file

    out = check_output_file(args.out, TABLE_SUFFIXES)
    z, logvar, y = encoded_split(args)
    write_table(out, {"z": z, "logvar": logvar, "label": y})
    return {"out": str(out), "n": len(z), "latent_dim": z.shape[1]}


def cmd_project(args: argparse.Namespace) -> dict[str, Any]:
    from explorer.projection import ProjectionConfig, project
    from explorer.store.paths import check_output_file

    out = check_output_file(args.out, TABLE_SUFFIXES)
    cfg = ProjectionConfig(method=args.method, n_components=args.n_components, seed=args.seed,
                           n_neighbors=args.n_neighbors, min_dist=args.min_dist,
                           perplexity=args.perplexity)
    z, _, y = encoded_split(args)
    print(f"projecting {len(z)} codes with {args.method}...", file=sys.stderr)
    result = project(z, cfg)
    write_table(out, {"p": result.embedding, "label": y})
    return {"out": str(out), "n": len(z), "method": args.method,
            "seconds": round(result.seconds, 2)}


def cmd_knn(args: argparse.Namespace) -> dict[str, Any]:
    from explorer.apps.metrics import projection_trustworthiness
    from explorer.apps.neighbours import check_labelled, neighbour_report
    from explorer.latent import encode_all
    from explorer.projection import METHODS, ProjectionConfig, project

    cfg = ProjectionConfig(method=args.method)
    if not cfg.spec.any_code:
        general = ", ".join(name for name, spec in METHODS.items() if spec.any_code)
        raise UsageError(f"knn reports the trustworthiness of a map of codes of any size; {args.method} "
                         f"is not one. Choose one of {general}.")
    ckpt, data = load_model_and_data(args)
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


def app_command(folder: str, port: int | None = None) -> tuple[list[str], dict[str, str]]:
    """The ``streamlit run`` command line and environment that open the app on ``folder``,
    after checking the folder is a model folder (so a typo is one line, not a blank page)."""
    from explorer.store.catalog import OPEN_ENV
    from explorer.store.checkpoint import read_config

    path = Path(folder).resolve()
    read_config(path)
    script = Path(__file__).resolve().parents[2] / "app.py"
    argv = [sys.executable, "-m", "streamlit", "run", str(script)]
    if port is not None:
        argv += ["--server.port", str(port)]
    return argv, {**os.environ, OPEN_ENV: str(path)}


def cmd_app(args: argparse.Namespace) -> NoReturn:
    argv, env = app_command(args.folder, args.port)
    os.execve(argv[0], argv, env)  # the app replaces this process, as `streamlit run` would be


def cmd_import(args: argparse.Namespace) -> dict[str, Any]:
    from explorer.config import DataConfig
    from explorer.data import SOURCES
    from explorer.store import byo

    data = DataConfig(name=args.data, root=args.data_root) if args.data in SOURCES else args.data
    if args.codes is not None:
        if args.encoder or args.decoder:
            raise UsageError("Give --codes alone, or --encoder and --decoder: not both.")
        from explorer.store.codes_import import import_codes

        out = import_codes(args.codes, args.out, labels=args.labels, data=data, overwrite=args.overwrite,
                           on_progress=say)
        return {"out": str(out), "latent_dim": byo.read_latent_dim(out), "decoder": False}
    if not (args.encoder and args.decoder and args.data):
        raise UsageError("import needs --encoder, --decoder and --data (or --codes FILE).")
    if args.labels is not None:
        raise UsageError("--labels goes with --codes; a model's labels come from --data.")
    out = byo.import_onnx(args.encoder, args.decoder, data, args.out, likelihood=args.likelihood,
                          decoder_output=args.decoder_output, overwrite=args.overwrite, on_progress=say)
    return {"out": str(out), "latent_dim": byo.read_latent_dim(out)}
