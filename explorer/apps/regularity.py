"""How regular a latent space is, in numbers: is it complete (does the prior land where
the data is?) and continuous (do nearby codes decode to nearby items?).

Completeness is judged on the decoded samples, not by distances. A share of prior samples
"in holes" (far from every code) was measured and dropped: in code space it counts draws in
dimensions a VAE's decoder ignores (the 20-D AE "won" it, 0.00 against 0.39, while its
samples decode to noise), and in pixel space the 20-D AE's noisy decodes lie nearer a
reconstruction than reconstructions lie to each other (0.00 again). The judge sees the
difference (0.02 against 0.35 confident digits)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from explorer.latent import decode, frame_steps, interpolate, natural_path
from explorer.models import Autoencoder

Rows = list[tuple[str, float, str]]  # (measure, value, how to read it), as ``as_rows`` gives


@dataclass(frozen=True)
class RegularityReport:
    code_mean_norm: float  # |mean of the codes|: 0 for a centred aggregate posterior
    code_variance: float  # mean per-dimension variance of the aggregate posterior: 1 for N(0, I)
    path_jump: float  # largest over mean step between decoded frames on paths: 1 is even
    prior_valid: float | None = None  # share of decoded prior samples a classifier is sure of
    midpoint_valid: float | None = None  # share of decoded path midpoints a classifier is sure of
    prior_class_gap: float | None = None  # how far the prior samples' class mix is from the data's

    def as_rows(self) -> Rows:
        rows = [
            ("|mean code|", self.code_mean_norm, "0 for N(0, I)"),
            ("mean code variance", self.code_variance, "1 for N(0, I)"),
            ("largest / mean step on paths", self.path_jump, "closer to 1 is more continuous"),
        ]
        if self.prior_valid is not None:
            rows.insert(2, ("prior samples judged valid", self.prior_valid, "higher is more complete"))
        if self.prior_class_gap is not None:
            rows.insert(3, ("prior samples' class mix off the data's", self.prior_class_gap,
                            "0 when the prior reaches every class as often as the data"))
        if self.midpoint_valid is not None:
            rows.append(("path midpoints judged valid", self.midpoint_valid, "higher is more continuous"))
        return rows


# What "better" means for each row of ``RegularityReport.as_rows``: nearer a target value, or
# higher, or lower.
BETTER: dict[str, float | str] = {
    "|mean code|": 0.0,
    "mean code variance": 1.0,
    "prior samples judged valid": "higher",
    "prior samples' class mix off the data's": "lower",
    "largest / mean step on paths": 1.0,
    "path midpoints judged valid": "higher",
}


def better_of(measure: str, first: float, second: float, tolerance: float = 0.01) -> int | None:
    """0 or 1: which of two models' values of ``measure`` is better; None for a tie."""
    rule = BETTER[measure]
    if rule == "higher":
        gap = first - second
    elif rule == "lower":
        gap = second - first
    else:
        gap = abs(second - rule) - abs(first - rule)
    if abs(gap) <= tolerance:
        return None
    return 0 if gap > 0 else 1


def favours(first: Rows, second: Rows) -> dict[str, int | None]:
    """For each measure both reports have (``RegularityReport.as_rows``), which is better: 0
    for ``first``, 1 for ``second``, None for a tie. Matched by name, so a report without a
    judge (no labels) is compared on the rows it has."""
    theirs = {measure: value for measure, value, _ in second}
    return {measure: better_of(measure, value, theirs[measure])
            for measure, value, _ in first if measure in theirs}


def fit_judge(x: np.ndarray, y: np.ndarray, seed: int = 0):
    """A small classifier of real items, used to judge whether decoded samples look like any
    class (a cheap stand-in for a human's "is this a digit?")."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 20 epochs are plenty here
        return MLPClassifier(hidden_layer_sizes=(128,), max_iter=20, random_state=seed).fit(
            x.reshape(len(x), -1), y)


def judged_valid(judge, items: np.ndarray, confidence: float = 0.9) -> float:
    """Share of items the judge assigns to one class with at least ``confidence``."""
    proba = judge.predict_proba(items.reshape(len(items), -1))
    return float((proba.max(axis=1) >= confidence).mean())


def judge_verdicts(judge, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The class the judge gives each item and how sure it is of it (its probability)."""
    proba = judge.predict_proba(items.reshape(len(items), -1))
    return judge.classes_[proba.argmax(axis=1)], proba.max(axis=1)


def class_mix_gap(judge, items: np.ndarray, labels: np.ndarray) -> float:
    """Total variation distance between the classes the judge gives ``items`` and the classes
    of the data (``labels``): 0 when decoded prior samples show every class as often as the
    data does, 1 when they show none of its classes. A prior that visits only part of a map
    scores badly here even when each of its decodes is a fine digit."""
    predicted, _ = judge_verdicts(judge, items)
    classes = np.union1d(judge.classes_, labels)
    decoded_mix = (predicted[:, None] == classes).mean(axis=0)
    data_mix = (labels[:, None] == classes).mean(axis=0)
    return float(0.5 * np.abs(decoded_mix - data_mix).sum())


def aggregate_posterior(mu: np.ndarray, logvar: np.ndarray | None) -> tuple[float, float]:
    """Norm of the codes' mean and their mean per-dimension variance; for a VAE the variance of
    the aggregate posterior adds each code's own posterior variance."""
    variance = mu.var(axis=0)
    if logvar is not None:
        variance = variance + np.exp(logvar).mean(axis=0)
    return float(np.linalg.norm(mu.mean(axis=0))), float(variance.mean())


def path_steps(model: Autoencoder, z0: np.ndarray, z1: np.ndarray, steps: int = 16) -> np.ndarray:
    """Distances between consecutive decoded frames along the path from ``z0`` to ``z1``."""
    path = interpolate(torch.from_numpy(z0), torch.from_numpy(z1), steps, natural_path(model))
    return frame_steps(decode(model, path)).numpy()


def random_pairs(n_items: int, n_pairs: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(n_items, 2, replace=False) for _ in range(n_pairs)])


def path_jump(model: Autoencoder, codes: np.ndarray, n_paths: int = 20, steps: int = 16,
              seed: int = 0) -> float:
    """Mean over random pairs of encodings of the largest step between consecutive decoded
    frames divided by the mean step. A jump (a sudden change of digit) gives a large ratio."""
    ratios = []
    for a, b in random_pairs(len(codes), n_paths, seed):
        step = path_steps(model, codes[a], codes[b], steps)
        ratios.append(step.max() / max(step.mean(), 1e-12))
    return float(np.mean(ratios))


def midpoint_validity(model: Autoencoder, codes: np.ndarray, judge, n_paths: int = 500,
                      seed: int = 0) -> float:
    """Share of the midpoints of paths between random pairs of encodings whose decoding the
    judge confidently calls some class: halfway between two digits should still be a digit."""
    pairs = random_pairs(len(codes), n_paths, seed)
    mids = [interpolate(torch.from_numpy(codes[a]), torch.from_numpy(codes[b]), 3, natural_path(model))[1]
            for a, b in pairs]
    return judged_valid(judge, decode(model, torch.stack(mids)).numpy())


def regularity_report(model: Autoencoder, mu: np.ndarray, logvar: np.ndarray | None,
                      n_prior: int = 2000, seed: int = 0, judge=None,
                      labels: np.ndarray | None = None) -> RegularityReport:
    """All measures at once; ``judge`` (from ``fit_judge``) adds the shares of decoded prior
    samples and of decoded path midpoints that look like a confident member of some class,
    and with the data's ``labels`` how far the prior samples' class mix is from the data's."""
    mean_norm, variance = aggregate_posterior(mu, logvar)
    prior = model.sample_prior(n_prior, generator=torch.Generator().manual_seed(seed))
    valid = midpoints = class_gap = None
    if judge is not None:
        decoded = decode(model, prior).numpy()
        valid = judged_valid(judge, decoded)
        midpoints = midpoint_validity(model, mu, judge, seed=seed)
        if labels is not None:
            class_gap = class_mix_gap(judge, decoded, labels)
    return RegularityReport(mean_norm, variance, path_jump(model, mu, seed=seed), valid, midpoints,
                            class_gap)
