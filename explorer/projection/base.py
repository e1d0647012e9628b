"""What every map method shares: one scikit-learn style interface (``Projector``), the
nearest-neighbour blend that stands in wherever no exact map exists, and the trust of a
decoded spot (how far it is from the data)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from scipy.spatial import Delaunay, QhullError, cKDTree
from threadpoolctl import threadpool_limits

from explorer.errors import ProjectionError

ProgressFn = Callable[[float, str], None]
_P = TypeVar("_P", bound="Projector")

# Neighbours averaged by the approximate (kNN) inverse and transform.
INVERSE_NEIGHBORS = 10
KNN_NOTE = "Approximate: a distance-weighted blend of the codes of the nearest map points."


def check_codes(z: np.ndarray, what: str, n_features: int | None = None) -> np.ndarray:
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


def one_blas_thread() -> threadpool_limits:
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


class IdwMap:
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
        points = check_codes(embedding, "embedding")
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
                with one_blas_thread():  # Build the point-location tables now, not per click.
                    self._hull.find_simplex(points[:1])

    def query(self, points: np.ndarray) -> Trust:
        pts = check_codes(points, "points", self._tree.m)
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
        codes = check_codes(z, "z")
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
        codes = check_codes(z, "z", self.n_features_in_)
        return np.asarray(self._transform(codes), dtype=np.float32)

    def inverse_transform(self, p: np.ndarray) -> np.ndarray:
        """Latent codes for map positions ``p`` (m, n_components); see ``inverse_note``."""
        self._check_fitted()
        points = check_codes(p, "map points", self.embedding_.shape[1])
        return np.asarray(self._inverse(points), dtype=np.float32)

    def linear_axes(self) -> np.ndarray | None:
        """The map's axes as the rows of a (k, d) matrix when the map is linear in the code
        (then a code's spread maps onto it exactly, ``spread_on_map``), else None."""
        return None

    def fitted_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as plain arrays, kept beside a cached map so a hit can rebuild
        this projector exactly (``MethodSpec.restore``); none here, so a hit comes back as a
        ``KnnProjector``."""
        return {}

    def _check_fitted(self) -> None:
        if not hasattr(self, "embedding_"):
            raise ProjectionError(f"{type(self).__name__} is not fitted yet; call fit(z) first.")

    @abstractmethod
    def _fit(self, z: np.ndarray, on_progress: ProgressFn) -> np.ndarray: ...

    @abstractmethod
    def _transform(self, z: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _inverse(self, p: np.ndarray) -> np.ndarray: ...


def spread_on_map(std: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """Per map axis, the standard deviation of a code with independent per-dimension standard
    deviations ``std`` (n, d) on a linear map with ``axes`` (k, d): sqrt(sum_j a_ij^2 s_j^2)."""
    return np.sqrt((np.asarray(std)[:, None, :] ** 2 * np.asarray(axes)[None] ** 2).sum(axis=2))


class KnnProjector(Projector):
    """A map known only as pairs (code, position), e.g. a UMAP or t-SNE map loaded from
    the cache. Both directions are kNN approximations: ``transform`` blends the positions
    of the nearest codes, ``inverse_transform`` the codes of the nearest positions.

    ``embedding`` is the (n, k) map of the codes later passed to ``fit``, row for row.
    """

    def __init__(self, embedding: np.ndarray, note: str = KNN_NOTE) -> None:
        self.embedding = embedding
        self.inverse_note = note

    forward_: IdwMap
    backward_: IdwMap

    def _fit(self, z: np.ndarray, on_progress: ProgressFn) -> np.ndarray:
        embedding = check_codes(self.embedding, "embedding")
        if len(embedding) != len(z):
            raise ProjectionError(
                f"The map has {len(embedding)} points but {len(z)} codes were given; "
                "pass the codes the map was made from."
            )
        self.n_components = embedding.shape[1]
        self.forward_ = IdwMap(z, embedding)
        self.backward_ = IdwMap(embedding, z)
        return embedding

    def _transform(self, z: np.ndarray) -> np.ndarray:
        return self.forward_(z)

    def _inverse(self, p: np.ndarray) -> np.ndarray:
        return self.backward_(p)
