"""The map methods, each in one place: its projector and its ``MethodSpec`` (label, cost,
settings, which codes it can map), collected in ``METHODS``. The config, the app's controls,
the CLI's choices and the background queue all read ``METHODS``, so a new method is a class
and a spec here (plus a ``ProjectionConfig`` field for a new setting), and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from explorer.checks import check_choice, check_number, check_seed, check_whole, store
from explorer.errors import ProjectionError
from explorer.projection.base import KNN_NOTE, IdwMap, ProgressFn, Projector, TrustIndex, one_blas_thread
from explorer.projection.sphere import hammer, inverse_hammer

if TYPE_CHECKING:
    from openTSNE import TSNEEmbedding
    from umap import UMAP

MAX_NEIGHBORS = 200
MAX_PERPLEXITY = 1000.0


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

    def linear_axes(self) -> np.ndarray:
        return np.eye(self.n_components)


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
        # Imported here: scikit-learn takes ~1.3 s to import, and a raw or cached map needs none of it.
        from sklearn.decomposition import PCA

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

    def linear_axes(self) -> np.ndarray:
        self._check_fitted()
        return self.components_

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
    knn_inverse_: IdwMap

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
        self.knn_inverse_ = IdwMap(embedding, z)
        on_progress(1.0, "UMAP: done")
        return embedding

    def _transform(self, z: np.ndarray) -> np.ndarray:
        return self.umap_.transform(z)

    def _inverse(self, p: np.ndarray) -> np.ndarray:
        codes = self.knn_inverse_(p)
        inside = self.trust_.query(p).inside_hull
        if inside.any():
            with one_blas_thread():  # umap triangulates the map on every call.
                codes[inside] = self.umap_.inverse_transform(p[inside])
        return codes


class TSNEProjector(Projector):
    """t-SNE by openTSNE, which (unlike scikit-learn's) can place new points: ``transform``
    optimises each new point against the finished map.

    t-SNE has no inverse. ``inverse_transform`` is an approximation: the inverse-distance-
    weighted mean of the latent codes of the ``INVERSE_NEIGHBORS`` nearest embedded points.
    """

    inverse_note = KNN_NOTE + " t-SNE has no inverse."
    # openTSNE's defaults, named here to report progress over both phases.
    _EARLY_ITER = 250
    _N_ITER = 500
    _REPORT_EVERY = 25

    tsne_: TSNEEmbedding
    knn_inverse_: IdwMap

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
        self.knn_inverse_ = IdwMap(embedding, z)
        return embedding

    def _transform(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(self.tsne_.transform(z))

    def _inverse(self, p: np.ndarray) -> np.ndarray:
        return self.knn_inverse_(p)


@dataclass(frozen=True)
class Setting:
    """One tunable parameter of a method: the ``ProjectionConfig`` field it sets, the range
    the app's slider offers (the config accepts more) and the slider's session key."""

    field: str
    lo: float
    hi: float
    key: str

    @property
    def default(self) -> float:
        return next(f.default for f in fields(ProjectionConfig) if f.name == self.field)

    @property
    def whole(self) -> bool:
        return isinstance(self.default, int)


def any_code(latent_dim: int, spherical: bool) -> tuple[int, ...]:
    """The map sizes of a method that maps codes of any size: no more than the code has."""
    return (2, 3) if latent_dim >= 3 else (2,)


@dataclass(frozen=True)
class MethodSpec:
    """What the app, the CLI and the cache need to know of one method.

    ``map_dims(latent_dim, spherical)`` lists the map sizes it offers for such codes (empty:
    not offered). ``slow`` fits run in the background while the app shows PCA; ``closed_form``
    maps cost nothing and are never cached. ``seeded``: the result depends on ``seed``.
    ``restore(fitted_arrays, embedding)`` rebuilds the exact projector from a cache hit;
    without it a hit decodes through a ``KnnProjector``."""

    name: str
    label: str
    build: Callable[[ProjectionConfig], Projector]
    map_dims: Callable[[int, bool], tuple[int, ...]] = any_code
    slow: bool = False
    closed_form: bool = False
    seeded: bool = False
    settings: tuple[Setting, ...] = ()
    min_codes: int = 1
    restore: Callable[[dict[str, np.ndarray], np.ndarray], Projector] | None = None

    @property
    def any_code(self) -> bool:
        """Maps codes of every size: the methods that keep the default ``map_dims``."""
        return self.map_dims is any_code


def _hammer(cfg: ProjectionConfig) -> Projector:
    if cfg.n_components != 2:
        raise ProjectionError("The Hammer map is 2-D; use the raw 3-D map to see the sphere itself.")
    return HammerProjector()


METHODS: dict[str, MethodSpec] = {spec.name: spec for spec in (
    MethodSpec("raw", "Raw latent", lambda cfg: RawProjector(cfg.n_components),
               map_dims=lambda d, spherical: (d,) if d in (2, 3) else (), closed_form=True),
    MethodSpec("pca", "PCA", lambda cfg: PCAProjector(cfg.n_components, seed=cfg.seed),
               restore=PCAProjector.from_fitted_arrays),
    MethodSpec("umap", "UMAP",
               lambda cfg: UMAPProjector(cfg.n_components, cfg.n_neighbors, cfg.min_dist, seed=cfg.seed),
               slow=True, seeded=True, settings=(Setting("n_neighbors", 2, 100, "nn"),
                                                 Setting("min_dist", 0.0, 0.99, "md")),
               # Below 4 codes umap's spectral initialisation fails (numpy and scipy errors).
               min_codes=4),
    MethodSpec("tsne", "t-SNE", lambda cfg: TSNEProjector(cfg.n_components, cfg.perplexity, seed=cfg.seed),
               slow=True, seeded=True, settings=(Setting("perplexity", 5, 100, "perp"),)),
    MethodSpec("hammer", "Hammer (sphere, equal-area)", _hammer,
               map_dims=lambda d, spherical: (2,) if spherical and d == 3 else (), closed_form=True),
)}


@dataclass(frozen=True)
class ProjectionConfig:
    method: str = "pca"
    n_components: int = 2
    seed: int = 0
    n_neighbors: int = 15
    min_dist: float = 0.1
    perplexity: float = 30.0

    def __post_init__(self) -> None:
        check_choice("method", self.method, tuple(METHODS))
        store(self, n_components=check_whole("n_components", self.n_components, 2, 3),
              seed=check_seed(self.seed),
              n_neighbors=check_whole("n_neighbors", self.n_neighbors, 2, MAX_NEIGHBORS),
              min_dist=check_number("min_dist", self.min_dist, 0, 1),
              perplexity=check_number("perplexity", self.perplexity, 0, MAX_PERPLEXITY, lo_open=True))

    @property
    def spec(self) -> MethodSpec:
        return METHODS[self.method]


def make_projector(cfg: ProjectionConfig) -> Projector:
    """The unfitted projector a config asks for."""
    return cfg.spec.build(cfg)
