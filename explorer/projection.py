"""Latent codes to a 2-D or 3-D map and back: raw axes, PCA, UMAP and t-SNE.

Every method sits behind one scikit-learn style interface (``fit``, ``transform``,
``fit_transform``, ``inverse_transform``; parameters only in ``__init__``, fitted
attributes end in ``_``) so the app can decode any spot of any map. Only raw and PCA
have an exact inverse; elsewhere ``inverse_is_exact`` is False and ``inverse_note`` says
what the decoded code really is, and ``TrustIndex`` tells how far a spot is from the data.

``project`` adds timing, progress and an on-disk ``.npz`` cache (never pickles). umap and
openTSNE are imported lazily: umap pulls in numba, which compiles on first use in each
process (10-45 s; more on a busy machine). Call ``configure_numba_cache`` early and
``warm_umap`` in a background thread, and show a PCA map meanwhile.
"""

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
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from scipy.spatial import Delaunay, QhullError, cKDTree
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from explorer.config import ProjectionConfig
from explorer.errors import ProjectionError
from explorer.io import atomic_write_npz
from explorer.sphere import hammer, inverse_hammer

if TYPE_CHECKING:
    from openTSNE import TSNEEmbedding
    from umap import UMAP

ProgressFn = Callable[[float, str], None]
_P = TypeVar("_P", bound="Projector")

# Neighbours averaged by the approximate (kNN) inverse and transform.
INVERSE_NEIGHBORS = 10
_KNN_NOTE = "Approximate: a distance-weighted blend of the codes of the nearest map points."
# Bump when the cache layout or a projector's defaults change, so old files miss.
_CACHE_VERSION = 1


def _check_codes(z: np.ndarray, what: str, n_features: int | None = None) -> np.ndarray:
    """Return ``z`` as a float64 (n, d) array, or raise a ProjectionError saying what is wrong."""
    arr = np.asarray(z)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ProjectionError(f"{what} must be a non-empty 2-D array (n, d); got shape {arr.shape}.")
    if not np.issubdtype(arr.dtype, np.number):
        raise ProjectionError(f"{what} must be numeric; got dtype {arr.dtype}.")
    if n_features is not None and arr.shape[1] != n_features:
        raise ProjectionError(f"{what} has {arr.shape[1]} columns; this map expects {n_features}.")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ProjectionError(f"{what} contains NaN or infinite values; check the encoder output.")
    return arr


def _one_blas_thread() -> threadpool_limits:
    """Delaunay point location makes one tiny LAPACK call per simplex; a threaded BLAS makes
    that 10-100x slower on a busy machine (measured: 8 s instead of 0.3 s for 60k points)."""
    return threadpool_limits(limits=1, user_api="blas")


def _median_spacing(points: np.ndarray, tree: cKDTree) -> float:
    """Median distance from each point to its nearest other point: the map's natural unit."""
    if len(points) < 2:
        return 1.0
    dist, _ = tree.query(points, k=2)
    positive = dist[:, 1][dist[:, 1] > 0]
    return float(np.median(positive)) if len(positive) else 1.0


class _IdwMap:
    """Inverse-distance-weighted mean of the targets of the k nearest sources.

    The one approximation used wherever no exact map exists: t-SNE's inverse, UMAP outside
    its convex hull, and both directions of a map loaded from the cache. A query on top of
    a source point returns (almost exactly) that point's target.
    """

    def __init__(self, source: np.ndarray, target: np.ndarray) -> None:
        self._tree = cKDTree(source)
        self._target = target
        self._k = min(INVERSE_NEIGHBORS, len(source))
        # Floor on distances so an exact hit dominates instead of dividing by zero.
        self._eps = 1e-9 * _median_spacing(source, self._tree)

    def __call__(self, query: np.ndarray) -> np.ndarray:
        dist, idx = self._tree.query(query, k=self._k)
        dist, idx = dist.reshape(len(query), -1), idx.reshape(len(query), -1)
        weights = 1.0 / np.maximum(dist, self._eps) ** 2
        weights /= weights.sum(axis=1, keepdims=True)
        return np.einsum("nk,nkd->nd", weights, self._target[idx])


@dataclass(frozen=True, eq=False)
class Trust:
    """How much to believe a decoded spot: per query point, the ``distance`` to the
    nearest embedded point in units of the median nearest-neighbour spacing, and whether
    it lies ``inside_hull`` of the embedding. Far or outside means extrapolation."""

    distance: np.ndarray
    inside_hull: np.ndarray


class TrustIndex:
    """Answers ``Trust`` queries for one embedding (1-D, 2-D or 3-D).

    Building costs a k-d tree and a Delaunay triangulation (about a second for
    60k points in 2-D), so build it once per map and keep it.
    """

    def __init__(self, embedding: np.ndarray) -> None:
        points = _check_codes(embedding, "embedding")
        if points.shape[1] > 3:
            raise ProjectionError(
                f"The trust indicator works on 1-3 D maps; this one has {points.shape[1]} D."
            )
        self._tree = cKDTree(points)
        self.spacing = _median_spacing(points, self._tree)
        self._bounds = (points.min(axis=0), points.max(axis=0))
        self._hull: Delaunay | None = None
        if points.shape[1] > 1:
            try:
                # QJ joggles degenerate inputs (e.g. collinear points) instead of failing.
                self._hull = Delaunay(points, qhull_options="QJ")
            except QhullError:
                self._hull = None  # Too few points for a hull: fall back to the bounding box.
            else:
                with _one_blas_thread():  # Build the point-location tables now, not per click.
                    self._hull.find_simplex(points[:1])

    def query(self, points: np.ndarray) -> Trust:
        pts = _check_codes(points, "points", self._tree.m)
        distance, _ = self._tree.query(pts)
        if self._hull is None:
            low, high = self._bounds
            inside = np.all((pts >= low) & (pts <= high), axis=1)
        else:
            inside = self._hull.find_simplex(pts) >= 0
        return Trust(distance=distance / self.spacing, inside_hull=inside)


class Projector(ABC):
    """One map method. Subclasses implement ``_fit``, ``_transform`` and ``_inverse``;
    this base validates shapes and sets ``embedding_`` and ``n_features_in_``.

    Inputs are float arrays (n, d); outputs are float32, ready for the decoder.
    ``inverse_is_exact`` is True when ``inverse_transform(transform(z))`` returns ``z``
    (within the fitted subspace); ``inverse_note`` says so in one line for the UI.
    """

    inverse_is_exact: bool = False
    inverse_note: str = ""
    n_components: int

    embedding_: np.ndarray
    n_features_in_: int

    def fit(self: _P, z: np.ndarray, on_progress: ProgressFn | None = None) -> _P:
        codes = _check_codes(z, "z")
        embedding = self._fit(codes, on_progress or (lambda fraction, message: None))
        # A copy: UMAP and openTSNE keep (and openTSNE mutates) their own arrays.
        self.embedding_ = np.array(embedding, dtype=np.float32)
        self.n_features_in_ = codes.shape[1]
        return self

    def fit_transform(self, z: np.ndarray, on_progress: ProgressFn | None = None) -> np.ndarray:
        """The fitted embedding of ``z`` (for UMAP and t-SNE not the same as ``transform(z)``,
        which re-places points into the finished map)."""
        return self.fit(z, on_progress).embedding_

    def transform(self, z: np.ndarray) -> np.ndarray:
        self._check_fitted()
        codes = _check_codes(z, "z", self.n_features_in_)
        return np.asarray(self._transform(codes), dtype=np.float32)

    def inverse_transform(self, p: np.ndarray) -> np.ndarray:
        """Latent codes for map positions ``p`` (m, n_components); see ``inverse_note``."""
        self._check_fitted()
        points = _check_codes(p, "map points", self.embedding_.shape[1])
        return np.asarray(self._inverse(points), dtype=np.float32)

    def _check_fitted(self) -> None:
        if not hasattr(self, "embedding_"):
            raise ProjectionError(f"{type(self).__name__} is not fitted yet; call fit(z) first.")

    @abstractmethod
    def _fit(self, z: np.ndarray, on_progress: ProgressFn) -> np.ndarray: ...

    @abstractmethod
    def _transform(self, z: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _inverse(self, p: np.ndarray) -> np.ndarray: ...


class RawProjector(Projector):
    """The latent axes themselves; only valid when the latent has ``n_components`` dims."""

    inverse_is_exact = True
    inverse_note = "Exact: the map axes are the latent dimensions."

    def __init__(self, n_components: int = 2) -> None:
        self.n_components = n_components

    def _fit(self, z: np.ndarray, on_progress: ProgressFn) -> np.ndarray:
        if z.shape[1] != self.n_components:
            raise ProjectionError(
                f"A raw map needs a {self.n_components}-D latent but the codes have "
                f"{z.shape[1]} dimensions; choose PCA, UMAP or t-SNE instead."
            )
        return z

    def _transform(self, z: np.ndarray) -> np.ndarray:
        return z

    def _inverse(self, p: np.ndarray) -> np.ndarray:
        return p


class HammerProjector(Projector):
    """Codes on the unit sphere S^2 (a 3-D S-VAE) in Hammer's equal-area projection."""

    inverse_is_exact = True
    inverse_note = "Exact: the Hammer map is a one-to-one picture of the sphere's surface."
    n_components = 2

    def _fit(self, z: np.ndarray, on_progress: ProgressFn) -> np.ndarray:
        return hammer(z)

    def _transform(self, z: np.ndarray) -> np.ndarray:
        return hammer(z)

    def _inverse(self, p: np.ndarray) -> np.ndarray:
        return inverse_hammer(p)


class PCAProjector(Projector):
    """Principal components (scikit-learn PCA, no whitening).

    The inverse is exact on the PCA subspace: it returns the code's projection onto the
    top components, which is the code itself when the latent has ``n_components`` dims.
    """

    inverse_is_exact = True
    inverse_note = "Exact on the PCA plane: latent directions off the plane are held at their mean."

    mean_: np.ndarray
    components_: np.ndarray
    explained_variance_ratio_: np.ndarray

    def __init__(self, n_components: int = 2, seed: int = 0) -> None:
        self.n_components = n_components
        self.seed = seed

    def _fit(self, z: np.ndarray, on_progress: ProgressFn) -> np.ndarray:
        if self.n_components > min(z.shape):
            raise ProjectionError(
                f"PCA to {self.n_components} components needs at least that many latent "
                f"dimensions and samples; the codes are {z.shape[0]} x {z.shape[1]}."
            )
        pca = PCA(n_components=self.n_components, random_state=self.seed).fit(z)
        # Keep plain arrays, not the sklearn object, so a cache hit restores them exactly.
        self.mean_ = pca.mean_
        self.components_ = pca.components_
        self.explained_variance_ratio_ = pca.explained_variance_ratio_
        return self._transform(z)

    def _transform(self, z: np.ndarray) -> np.ndarray:
        return (z - self.mean_) @ self.components_.T

    def _inverse(self, p: np.ndarray) -> np.ndarray:
        return p @ self.components_ + self.mean_

    def fitted_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as plain arrays, for the ``.npz`` cache."""
        self._check_fitted()
        return {
            "mean_": self.mean_,
            "components_": self.components_,
            "explained_variance_ratio_": self.explained_variance_ratio_,
        }

    @classmethod
    def from_fitted_arrays(cls, arrays: dict[str, np.ndarray], embedding: np.ndarray) -> PCAProjector:
        """Rebuild a fitted projector from ``fitted_arrays()`` without refitting."""
        components = arrays["components_"]
        projector = cls(n_components=components.shape[0])
        projector.mean_ = arrays["mean_"]
        projector.components_ = components
        projector.explained_variance_ratio_ = arrays["explained_variance_ratio_"]
        projector.embedding_ = np.asarray(embedding, dtype=np.float32)
        projector.n_features_in_ = components.shape[1]
        return projector


class UMAPProjector(Projector):
    """UMAP (umap-learn) with a fixed ``random_state``, which makes it reproducible and
    single-threaded.

    The inverse is umap's own ``inverse_transform``: it interpolates the codes around the
    enclosing simplex and refines them by optimisation. Every call rebuilds a Delaunay
    triangulation in Python and recompiles a numba kernel, so it takes seconds even for
    one point (more on large maps, far more above 2-D): too slow for hover or slider
    decoding, where ``KnnProjector(embedding).fit(z)`` answers in milliseconds. Outside
    the embedding's convex hull umap returns junk (umap issues 325, 374, 515, 1228), so
    points there use the kNN inverse instead.
    """

    inverse_note = (
        "Approximate (UMAP inverse): plausible inside the cloud of points, a nearest-"
        "neighbour blend outside it. Takes seconds per call."
    )

    def __init__(
        self, n_components: int = 2, n_neighbors: int = 15, min_dist: float = 0.1, seed: int = 0
    ) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.seed = seed

    umap_: UMAP
    trust_: TrustIndex
    knn_inverse_: _IdwMap

    def _fit(self, z: np.ndarray, on_progress: ProgressFn) -> np.ndarray:
        import umap  # Lazy: importing compiles nothing, but pulls in numba (see warm_umap).

        on_progress(0.0, "UMAP: fitting (the first run in a process compiles numba code)")
        self.umap_ = umap.UMAP(
            n_components=self.n_components,
            n_neighbors=self.n_neighbors,
            min_dist=self.min_dist,
            random_state=self.seed,
            n_jobs=1,  # random_state forces one thread anyway; saying so silences a warning.
        ).fit(z)
        embedding = self.umap_.embedding_
        self.trust_ = TrustIndex(embedding)
        self.knn_inverse_ = _IdwMap(embedding, z)
        on_progress(1.0, "UMAP: done")
        return embedding

    def _transform(self, z: np.ndarray) -> np.ndarray:
        return self.umap_.transform(z)

    def _inverse(self, p: np.ndarray) -> np.ndarray:
        codes = self.knn_inverse_(p)
        inside = self.trust_.query(p).inside_hull
        if inside.any():
            with _one_blas_thread():  # umap triangulates the map on every call.
                codes[inside] = self.umap_.inverse_transform(p[inside])
        return codes


class TSNEProjector(Projector):
    """t-SNE by openTSNE, which (unlike scikit-learn's) can place new points: ``transform``
    optimises each new point against the finished map.

    t-SNE has no inverse. ``inverse_transform`` is an approximation: the inverse-distance-
    weighted mean of the latent codes of the ``INVERSE_NEIGHBORS`` nearest embedded points.
    """

    inverse_note = _KNN_NOTE + " t-SNE has no inverse."
    # openTSNE's defaults, named here to report progress over both phases.
    _EARLY_ITER = 250
    _N_ITER = 500
    _REPORT_EVERY = 25

    tsne_: TSNEEmbedding
    knn_inverse_: _IdwMap

    def __init__(self, n_components: int = 2, perplexity: float = 30.0, seed: int = 0) -> None:
        self.n_components = n_components
        self.perplexity = perplexity
        self.seed = seed

    def _fit(self, z: np.ndarray, on_progress: ProgressFn) -> np.ndarray:
        from openTSNE import TSNE

        if not 1 <= self.n_components <= 3:
            raise ProjectionError(f"t-SNE maps have 1-3 dimensions; got n_components={self.n_components}.")
        total = self._EARLY_ITER + self._N_ITER
        done = 0

        def report(iteration: int, error: float, embedding: np.ndarray) -> bool:
            nonlocal done  # openTSNE restarts its count per phase; count across both.
            done += self._REPORT_EVERY
            on_progress(min(done / total, 1.0), f"t-SNE: iteration {done}/{total}, KL {error:.3f}")
            return False  # True would stop the optimisation.

        on_progress(0.0, "t-SNE: computing affinities")
        self.tsne_ = TSNE(
            n_components=self.n_components,
            perplexity=self.perplexity,
            early_exaggeration_iter=self._EARLY_ITER,
            n_iter=self._N_ITER,
            # The FFT gradient only exists for 1-2 D; Barnes-Hut covers 3-D.
            negative_gradient_method="auto" if self.n_components <= 2 else "bh",
            random_state=self.seed,
            callbacks=report,
            callbacks_every_iters=self._REPORT_EVERY,
        ).fit(z)
        # openTSNE's transform re-centres the map in place on first use; centre it now so
        # embedding_ and transformed points share one frame.
        self.tsne_ -= (self.tsne_.max(axis=0) + self.tsne_.min(axis=0)) / 2
        embedding = np.array(self.tsne_)
        self.knn_inverse_ = _IdwMap(embedding, z)
        return embedding

    def _transform(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(self.tsne_.transform(z))

    def _inverse(self, p: np.ndarray) -> np.ndarray:
        return self.knn_inverse_(p)


class KnnProjector(Projector):
    """A map known only as pairs (code, position), e.g. a UMAP or t-SNE map loaded from
    the cache. Both directions are kNN approximations: ``transform`` blends the positions
    of the nearest codes, ``inverse_transform`` the codes of the nearest positions.

    ``embedding`` is the (n, k) map of the codes later passed to ``fit``, row for row.
    """

    def __init__(self, embedding: np.ndarray, note: str = _KNN_NOTE) -> None:
        self.embedding = embedding
        self.inverse_note = note

    forward_: _IdwMap
    backward_: _IdwMap

    def _fit(self, z: np.ndarray, on_progress: ProgressFn) -> np.ndarray:
        embedding = _check_codes(self.embedding, "embedding")
        if len(embedding) != len(z):
            raise ProjectionError(
                f"The map has {len(embedding)} points but {len(z)} codes were given; "
                "pass the codes the map was made from."
            )
        self.n_components = embedding.shape[1]
        self.forward_ = _IdwMap(z, embedding)
        self.backward_ = _IdwMap(embedding, z)
        return embedding

    def _transform(self, z: np.ndarray) -> np.ndarray:
        return self.forward_(z)

    def _inverse(self, p: np.ndarray) -> np.ndarray:
        return self.backward_(p)


CLOSED_FORM = ("raw", "hammer")  # maps that cost nothing: never cached, never queued


def make_projector(cfg: ProjectionConfig) -> Projector:
    """The unfitted projector a config asks for."""
    if cfg.method == "raw":
        return RawProjector(cfg.n_components)
    if cfg.method == "pca":
        return PCAProjector(cfg.n_components, seed=cfg.seed)
    if cfg.method == "hammer":
        if cfg.n_components != 2:
            raise ProjectionError("The Hammer map is 2-D; use the raw 3-D map to see the sphere itself.")
        return HammerProjector()
    if cfg.method == "umap":
        return UMAPProjector(cfg.n_components, cfg.n_neighbors, cfg.min_dist, seed=cfg.seed)
    if cfg.method == "tsne":
        return TSNEProjector(cfg.n_components, cfg.perplexity, seed=cfg.seed)
    raise ProjectionError(f"Unknown projection method {cfg.method!r}; use raw, pca, umap, tsne or hammer.")


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


def _cache_note(method: str) -> str:
    name = {"umap": "UMAP", "tsne": "t-SNE"}.get(method, method)
    return (
        f"Approximate: this {name} map came from the cache, so decoding blends the codes of "
        "the nearest map points."
    )


def _load_cached(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile):
        return None  # Missing, torn or foreign: a miss, and the refit overwrites it.


def _save_cached(path: Path, arrays: dict[str, np.ndarray]) -> None:
    atomic_write_npz(path, arrays, compressed=False)


# Below this umap's spectral initialisation fails (numpy and scipy errors, measured).
MIN_UMAP_CODES = 4


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
    if cache_dir is not None and cfg.method not in CLOSED_FORM:
        path = Path(cache_dir) / f"{cfg.method}-{cache_key(z, cfg)}.npz"
        arrays = _load_cached(path)
        if arrays is not None and "embedding" in arrays:
            embedding = arrays.pop("embedding").astype(np.float32)
            projector: Projector
            if cfg.method == "pca":
                projector = PCAProjector.from_fitted_arrays(arrays, embedding)
            else:
                projector = KnnProjector(embedding, note=_cache_note(cfg.method)).fit(z)
            report(1.0, "Loaded from cache")
            return Projection(embedding, cfg, projector, time.perf_counter() - start, cached=True)

    if cfg.method == "umap" and len(z) < MIN_UMAP_CODES:
        raise ProjectionError(f"UMAP needs at least {MIN_UMAP_CODES} codes to map, not {len(z)}; "
                              "use PCA for so few.")
    projector = make_projector(cfg).fit(z, report)
    embedding = projector.embedding_
    if path is not None:
        state = projector.fitted_arrays() if isinstance(projector, PCAProjector) else {}
        try:
            _save_cached(path, {"embedding": embedding, **state})
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
