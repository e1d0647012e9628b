"""Fitting a map the way the app and the CLI do: timing, progress and an on-disk ``.npz``
cache (never pickles); and warming UMAP, whose numba code compiles on first use in each
process (10-45 s; more on a busy machine): call ``configure_numba_cache`` early and
``warm_umap`` in a background thread, and show a PCA map meanwhile."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import threading
import time
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.errors import ProjectionError
from explorer.projection.base import KnnProjector, ProgressFn, Projector
from explorer.projection.methods import ProjectionConfig, make_projector
from explorer.store.io import atomic_write_npz

# Bump when the cache layout or a projector's defaults change, so old files miss.
_CACHE_VERSION = 1


@dataclass(frozen=True, eq=False)
class Projection:
    """A finished map: ``embedding`` float32 (n, k), the ``config`` that made it, the fitted
    ``projector`` (in memory only) and the ``seconds`` it took. ``cached`` says the
    embedding came from disk; then a UMAP or t-SNE projector is a ``KnnProjector``."""

    embedding: np.ndarray
    config: ProjectionConfig
    projector: Projector
    seconds: float
    cached: bool = False


def cache_key(z: np.ndarray, cfg: ProjectionConfig) -> str:
    """A hex digest of the codes (bytes, shape, dtype) and the config."""
    arr = np.ascontiguousarray(z)
    digest = hashlib.blake2b(digest_size=16)
    header = {"v": _CACHE_VERSION, "shape": arr.shape, "dtype": arr.dtype.str}
    digest.update(json.dumps({**header, "cfg": dataclasses.asdict(cfg)}, sort_keys=True).encode())
    digest.update(memoryview(arr).cast("B"))
    return digest.hexdigest()


def _cache_note(cfg: ProjectionConfig) -> str:
    return (f"Approximate: this {cfg.spec.label} map came from the cache, so decoding blends the "
            "codes of the nearest map points.")


def _load_cached(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile):
        return None  # Missing, torn or foreign: a miss, and the refit overwrites it.


def _save_cached(path: Path, arrays: dict[str, np.ndarray]) -> None:
    atomic_write_npz(path, arrays, compressed=False)


def project(
    z: np.ndarray,
    cfg: ProjectionConfig,
    cache_dir: Path | None = None,
    on_progress: ProgressFn | None = None,
) -> Projection:
    """Fit the projector ``cfg`` asks for on codes ``z`` (n, d) and return the map.

    With ``cache_dir`` the embedding is kept as ``<method>-<cache_key>.npz``; a hit skips
    the fit. After a hit PCA is restored exactly from the stored components, while UMAP
    and t-SNE come back as a ``KnnProjector`` (kNN transform and inverse). Raw and Hammer maps cost
    nothing and are never cached. ``on_progress(fraction, message)`` gets coarse progress.
    """
    start = time.perf_counter()
    report = on_progress or (lambda fraction, message: None)
    path = None
    if cache_dir is not None and not cfg.spec.closed_form:
        path = Path(cache_dir) / f"{cfg.method}-{cache_key(z, cfg)}.npz"
        arrays = _load_cached(path)
        if arrays is not None and "embedding" in arrays:
            embedding = arrays.pop("embedding").astype(np.float32)
            restore = cfg.spec.restore
            projector = (restore(arrays, embedding) if restore is not None
                         else KnnProjector(embedding, note=_cache_note(cfg)).fit(z))
            report(1.0, "Loaded from cache")
            return Projection(embedding, cfg, projector, time.perf_counter() - start, cached=True)

    if len(z) < cfg.spec.min_codes:
        raise ProjectionError(f"{cfg.spec.label} needs at least {cfg.spec.min_codes} codes to map, "
                              f"not {len(z)}; use PCA for so few.")
    projector = make_projector(cfg).fit(z, report)
    embedding = projector.embedding_
    if path is not None:
        try:
            _save_cached(path, {"embedding": embedding, **projector.fitted_arrays()})
        except OSError as error:  # A full or read-only disk must not cost the finished map.
            warnings.warn(f"Could not cache the map in {path.parent}: {error}", stacklevel=2)
    return Projection(embedding, cfg, projector, time.perf_counter() - start)


def configure_numba_cache(path: Path) -> Path:
    """Point numba's on-disk cache at ``path`` unless ``NUMBA_CACHE_DIR`` is already set,
    so umap's and pynndescent's cacheable kernels compile once per machine, not once per
    process (umap 0.5 still compiles its uncacheable ones in every process: about half
    the time). Returns the directory in effect.

    Call it before anything imports umap: numba fixes each cached function's cache
    location when the function is defined, i.e. when umap is imported.
    """
    if "NUMBA_CACHE_DIR" not in os.environ:
        Path(path).mkdir(parents=True, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = str(path)
        if "numba" in sys.modules:  # numba read its config at import; make it look again.
            from numba.core import config

            config.reload_config()
    return Path(os.environ["NUMBA_CACHE_DIR"])


_umap_lock = threading.Lock()
_umap_warm = threading.Event()


def warm_umap(cache_dir: Path) -> None:
    """Compile (or load from ``cache_dir``) UMAP's numba code with a tiny fit, transform
    and inverse, so the user's first UMAP map does not wait for it. Meant for a background
    thread; blocks concurrent callers until done, and later calls return at once.
    """
    configure_numba_cache(cache_dir)
    with _umap_lock:
        if _umap_warm.is_set():
            return
        import umap

        z = np.random.default_rng(0).normal(size=(300, 4)).astype(np.float32)
        # Above 4096 points UMAP switches to approximate neighbours (pynndescent); forcing
        # that path on a small set compiles it too, cheaply.
        for force_approximation in (False, True):
            model = umap.UMAP(
                n_epochs=20,
                random_state=0,
                n_jobs=1,
                force_approximation_algorithm=force_approximation,
            ).fit(z)
            model.transform(z[:5])
        model.inverse_transform(model.embedding_[:2])
        _umap_warm.set()
