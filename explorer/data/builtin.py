"""Data sets that ship with scikit-learn or are generated: no download, no files."""

from __future__ import annotations

import numpy as np

from explorer.config import DataConfig
from explorer.data.base import Dataset, split, standardize


def load_digits(cfg: DataConfig) -> Dataset:
    """scikit-learn's 1,797 handwritten digits, 8x8, intensities scaled to [0, 1]."""
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None]
    names = tuple(str(d) for d in range(10))
    return split("digits", "image", x, bunch.target, cfg.test_fraction, cfg.seed, names)


def _n(cfg: DataConfig, default: int) -> int:
    return cfg.max_samples or default


def load_swiss_roll(cfg: DataConfig) -> Dataset:
    """A 2-D sheet rolled up in 3-D; labels are four bands along the roll."""
    from sklearn.datasets import make_swiss_roll

    x, t = make_swiss_roll(_n(cfg, 3000), noise=0.3, random_state=cfg.seed)
    bands = np.digitize(t, np.quantile(t, [0.25, 0.5, 0.75]))
    names = ("inner", "inner-mid", "outer-mid", "outer")
    return split("swiss_roll", "tabular", standardize(x), bands, cfg.test_fraction, cfg.seed,
                 names, ("x", "y", "z"))


def load_moons(cfg: DataConfig) -> Dataset:
    from sklearn.datasets import make_moons

    x, y = make_moons(_n(cfg, 2000), noise=0.08, random_state=cfg.seed)
    return split("moons", "tabular", standardize(x), y, cfg.test_fraction, cfg.seed,
                 ("upper", "lower"), ("x", "y"))


def load_blobs(cfg: DataConfig) -> Dataset:
    """Six Gaussian clusters in 10-D: the simplest case for clustering on codes."""
    from sklearn.datasets import make_blobs

    x, y = make_blobs(_n(cfg, 3000), n_features=10, centers=6, cluster_std=1.5,
                      random_state=cfg.seed)
    names = tuple(f"blob {i}" for i in range(6))
    return split("blobs", "tabular", standardize(x), y, cfg.test_fraction, cfg.seed, names,
                 tuple(f"x{i}" for i in range(10)))


def load_wine(cfg: DataConfig) -> Dataset:
    from sklearn.datasets import load_wine as sk_wine

    bunch = sk_wine()
    return split("wine", "tabular", standardize(bunch.data), bunch.target, cfg.test_fraction,
                 cfg.seed, tuple(bunch.target_names), tuple(bunch.feature_names))


def load_breast_cancer(cfg: DataConfig) -> Dataset:
    from sklearn.datasets import load_breast_cancer as sk_bc

    bunch = sk_bc()
    return split("breast_cancer", "tabular", standardize(bunch.data), bunch.target,
                 cfg.test_fraction, cfg.seed, tuple(bunch.target_names), tuple(bunch.feature_names))


SINE_FREQUENCIES = (1.0, 2.0, 3.0, 5.0)
SERIES_LENGTH = 64


def load_sines(cfg: DataConfig) -> Dataset:
    """Sines of four frequencies with random phase and amplitude plus noise, ``(T, 1)``.

    The label is the frequency class, so a good code separates frequencies and spreads
    phase around a circle within each class.
    """
    rng = np.random.default_rng(cfg.seed)
    n = _n(cfg, 4000)
    label = rng.integers(0, len(SINE_FREQUENCIES), n)
    freq = np.asarray(SINE_FREQUENCIES)[label][:, None]
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    amplitude = rng.uniform(0.6, 1.0, (n, 1))
    t = np.linspace(0.0, 1.0, SERIES_LENGTH, endpoint=False)[None, :]
    x = amplitude * np.sin(2 * np.pi * freq * t + phase) + rng.normal(0, 0.05, (n, SERIES_LENGTH))
    names = tuple(f"{f:g} Hz" for f in SINE_FREQUENCIES)
    return split("sines", "series", x[:, :, None].astype(np.float32), label, cfg.test_fraction,
                 cfg.seed, names)
