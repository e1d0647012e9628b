"""The commands of the insight lab and the applications: finetune, regularity, beta, stretch,
samplers, interpolate, denoise, arithmetic and anomaly."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from explorer.cli.common import (
    Progress,
    UsageError,
    load_model_and_data,
    open_dataset,
    require_decoder,
    written,
)
from explorer.errors import DataError


def cmd_finetune(args: argparse.Namespace) -> dict[str, Any]:
    from explorer.apps.finetune import FinetuneConfig, label_efficiency_report

    ckpt, data = load_model_and_data(args)

    def progress(done: int, total: int, message: str) -> None:
        print(f"[{done}/{total}] {message}", file=sys.stderr)

    report = label_efficiency_report(ckpt.model, data, args.labels,
                                     FinetuneConfig(min_steps=args.min_steps, seed=args.seed),
                                     methods=tuple(m.strip() for m in args.methods.split(",")),
                                     on_progress=progress)
    return report if args.json else report["table"]


def cmd_regularity(args: argparse.Namespace) -> dict[str, Any] | str:
    from dataclasses import replace

    from explorer.apps.regularity import favours, regularity_report
    from explorer.latent import encode_all
    from explorer.store.checkpoint import load_checkpoint

    if len(set(args.checkpoints)) != len(args.checkpoints):
        raise UsageError("The same checkpoint is named twice.")
    names = [Path(c).name for c in args.checkpoints]
    if len(set(names)) != len(names):
        names = list(args.checkpoints)  # folders of one name in different places
    rows: dict[str, Any] = {}
    judge = data = first = None
    for name, checkpoint in zip(names, args.checkpoints):
        ckpt = load_checkpoint(checkpoint)
        require_decoder(ckpt, args.command)
        if data is None:  # every model runs on the same items: the first one's data or --data
            data, first = open_dataset(args, ckpt), replace(ckpt.data, root=None)
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
    from explorer.apps import beta_family
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
    from explorer.apps.regularity import fit_judge

    known = open_dataset(args, source=args.judge_data) if args.judge_data else data
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
    from explorer.apps.stretch import map_plane, seam_report, stretch_by_coverage, stretch_grid
    from explorer.latent import encode_all

    ckpt, data = load_model_and_data(args)
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
    from explorer.apps.regularity import fit_judge
    from explorer.apps.samplers import SAMPLERS, sampler_report
    from explorer.latent import encode_all

    ckpt, data = load_model_and_data(args)
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
    from explorer.apps.interpolation import CodeGraph, check_pair, check_steps, path_profiles
    from explorer.latent import encode_all

    ckpt, data = load_model_and_data(args)
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
    from explorer.apps.denoise import denoise

    ckpt, data = load_model_and_data(args)
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

    from explorer.apps.arithmetic import analogy, class_means, group_mean, group_members
    from explorer.apps.regularity import fit_judge, judge_verdicts
    from explorer.figures.render import tile, to_png
    from explorer.latent import decode, encode_all
    from explorer.store.io import atomic_write_bytes
    from explorer.store.paths import check_output_file

    if args.out:
        check_output_file(args.out)
    ckpt, data = load_model_and_data(args)
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
        written(args.out, lambda: atomic_write_bytes(args.out, png))
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
    from explorer.apps import anomaly as an
    from explorer.apps import anomaly_reference as ref
    from explorer.apps import detection
    from explorer.device import resolve_device
    from explorer.store.checkpoint import load_checkpoint

    if not 0.0 <= args.target_fpr <= 1.0:
        raise UsageError(f"--target-fpr must be between 0 and 1, got {args.target_fpr}")
    resolve_device(args.device)
    ckpt = load_checkpoint(args.checkpoint) if args.checkpoint else None
    if ckpt is not None:
        require_decoder(ckpt, args.command)
    if ckpt is not None and args.all_classes:
        raise UsageError("--checkpoint scores one model trained on one normal class; give --normal, "
                         "not --all-classes")
    data = open_dataset(args, ckpt)
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
        progress = Progress(cfg.epochs, quiet=args.quiet)
        try:
            model, result = an.run_one_class(data, args.normal, cfg, on_step=progress.step)
        finally:
            progress.close()
    threshold = detection.threshold_for_fpr(result.scores, result.is_anomaly, args.target_fpr)
    report = detection.at_threshold(result.scores, result.is_anomaly, threshold)
    return {**result.summary(), "checkpoint": args.checkpoint, "target_fpr": args.target_fpr,
            "threshold": report.threshold, "precision": report.precision, "recall": report.recall,
            "f1": report.f1, "false_positive_rate": report.false_positive_rate,
            **ref.reference_auroc(result.data_name, result.normal).as_columns()}


def _anomaly_table(args: argparse.Namespace, data, cfg) -> list[dict[str, Any]] | str:
    """Every class normal in turn: a list of rows for --json, an aligned table otherwise."""
    from explorer.apps import anomaly as an
    from explorer.apps import anomaly_reference as ref

    def on_class(i: int, n: int, r: an.OneClassResult) -> None:
        if not args.quiet:
            print(f"[{i}/{n}] normal {', '.join(r.normal_names)}: AUROC {100 * r.auroc:.1f}, "
                  f"PCA {100 * r.pca_auroc:.1f} ({r.seconds:.0f} s)", file=sys.stderr, flush=True)

    rows = ref.comparison_table(an.run_all_classes(data, cfg, on_class=on_class))
    if args.json:
        return rows
    return ref.format_comparison_table(rows, f"{an.describe(cfg)}; AUROC in %")
