"""Where the decoder jumps: its local stretch over a plane of the latent space.

A plane is ``z(p) = origin + p @ directions`` for map coordinates ``p`` (2 numbers): the
latent plane itself for 2-D codes, the PCA plane of a PCA map, or the plane through three
picked codes. The stretch at ``p`` is the area magnification of the decoder restricted to
that plane, ``sqrt(det(J^T J))`` with ``J = d decode(z(p)) / dp`` (data dims x 2): how much
the decoded item changes per unit of map area. Large values between the clusters of a plain
AE are the seams and holes where a small move decodes to a very different item.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.models.base import Autoencoder


@dataclass(frozen=True)
class Plane:
    """An affine 2-D plane in code space: ``origin + p @ directions``."""

    origin: np.ndarray  # (d,)
    directions: np.ndarray  # (2, d)

    @classmethod
    def through(cls, z0: np.ndarray, z1: np.ndarray, z2: np.ndarray) -> Plane:
        """The plane through three codes, with orthonormal directions (Gram-Schmidt), so map
        area equals area in code space."""
        u = np.asarray(z1 - z0, dtype=np.float64)
        v = np.asarray(z2 - z0, dtype=np.float64)
        scale = max(np.linalg.norm(u), np.linalg.norm(v))
        if np.linalg.norm(u) <= 1e-6 * scale or scale == 0:
            raise ValueError("The three codes must be distinct to span a plane.")
        u /= np.linalg.norm(u)
        v -= (v @ u) * u
        if np.linalg.norm(v) <= 1e-5 * scale:  # float32 codes: collinear up to rounding
            raise ValueError("The three codes lie on one line; pick a third code off it.")
        v /= np.linalg.norm(v)
        return cls(np.asarray(z0, dtype=np.float32), np.stack([u, v]).astype(np.float32))

    @classmethod
    def latent(cls) -> Plane:
        """The 2-D latent space itself."""
        return cls(np.zeros(2, np.float32), np.eye(2, dtype=np.float32))

    def codes(self, p: np.ndarray) -> np.ndarray:
        return (np.asarray(p, np.float32) @ self.directions + self.origin).astype(np.float32)


def stretch(model: Autoencoder, plane: Plane, p: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """The decoder's area magnification at map points ``p`` (N x 2) of ``plane``."""
    model.eval()
    device = model.device
    directions = torch.from_numpy(plane.directions).to(device)
    out = []
    for start in range(0, len(p), batch_size):
        z = torch.from_numpy(plane.codes(p[start:start + batch_size])).to(device)
        # Two forward-mode passes give J's two columns for the whole batch at once.
        columns = [
            torch.func.jvp(lambda z_: model.decode(z_).flatten(1), (z,), (direction.expand_as(z),))[1]
            for direction in directions
        ]
        a, b = (c.double() for c in columns)
        gram = (a * a).sum(1) * (b * b).sum(1) - (a * b).sum(1) ** 2
        out.append(gram.clamp_min(0).sqrt().float().detach().cpu())
    return torch.cat(out).numpy()


@dataclass(frozen=True)
class StretchGrid:
    x: np.ndarray  # (nx,) map coordinates of the columns
    y: np.ndarray  # (ny,) of the rows
    values: np.ndarray  # (ny, nx)


def _cells(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The grid's cell centres, row by row (the order of ``StretchGrid.values.reshape(-1)``)."""
    return np.stack(np.meshgrid(x, y), -1).reshape(-1, 2)


def stretch_grid(model: Autoencoder, plane: Plane, points: np.ndarray, resolution: int = 60,
                 margin: float = 0.05) -> StretchGrid:
    """The stretch on a ``resolution`` x ``resolution`` grid over the map points' extent."""
    lo, hi = points.min(0), points.max(0)
    pad = (hi - lo) * margin
    x = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution, dtype=np.float32)
    y = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution, dtype=np.float32)
    return StretchGrid(x, y, stretch(model, plane, _cells(x, y)).reshape(resolution, resolution))


@dataclass(frozen=True)
class SeamReport:
    """The stretch inside clusters against between them, both at midpoints of neighbouring
    codes: a code and its nearest code of the same class (inside), a code and its nearest
    code of another class (between: the seam where one class gives way to the next). Both
    pairs are equally close, so the ratio does not depend on the scale of the codes."""

    inside: float  # median stretch
    between: float
    ratio: float  # between / inside; above 1: the decoder jumps between clusters

    def summary(self) -> dict[str, float]:
        return {"stretch_inside_classes": self.inside, "stretch_between_classes": self.between,
                "seam_ratio": self.ratio}


def seam_report(model: Autoencoder, plane: Plane, points: np.ndarray, labels: np.ndarray,
                n_codes: int = 2000, seed: int = 0) -> SeamReport:
    """``points``: the codes' map coordinates on ``plane``; ``labels``: their classes."""
    from sklearn.neighbors import NearestNeighbors

    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        raise ValueError("Seams need codes of at least two classes.")
    chosen = np.random.default_rng(seed).permutation(len(points))[:n_codes]
    midpoints: dict[bool, list[np.ndarray]] = {True: [], False: []}
    for same in (True, False):
        for label in np.unique(labels[chosen]):
            pool = np.flatnonzero((labels == label) == same)
            own = chosen[labels[chosen] == label]
            if len(pool) < 2 or len(own) == 0:
                continue
            # Inside, a code's nearest same-class code is itself: ask for two neighbours.
            k = 2 if same else 1
            nearest = NearestNeighbors(n_neighbors=k).fit(points[pool]).kneighbors(points[own])[1][:, -1]
            midpoints[same].append((points[own] + points[pool[nearest]]) / 2)
    inside = float(np.median(stretch(model, plane, np.concatenate(midpoints[True]))))
    between = float(np.median(stretch(model, plane, np.concatenate(midpoints[False]))))
    return SeamReport(inside, between, between / max(inside, 1e-12))


def plane_of(projector) -> Plane | None:
    """The plane a fitted 2-D map shows, where it is a plane: the raw latent axes or the PCA
    plane; None for UMAP and t-SNE, whose maps are not planes of the code space."""
    from explorer.projection import PCAProjector, RawProjector

    if isinstance(projector, RawProjector) and projector.n_components == 2:
        return Plane.latent()
    if isinstance(projector, PCAProjector) and projector.n_components == 2:
        return Plane(projector.mean_.astype(np.float32), projector.components_.astype(np.float32))
    return None


def map_plane(codes: np.ndarray) -> tuple[Plane, np.ndarray]:
    """The plane a page's overview map shows, with the codes' coordinates on it: the latent
    plane for 2-D codes, else the PCA plane (off-plane directions held at their mean)."""
    from explorer.projection import PCAProjector, RawProjector

    projector = RawProjector(2) if codes.shape[1] == 2 else PCAProjector(2)
    points = projector.fit_transform(codes)
    plane = plane_of(projector)
    assert plane is not None  # raw and PCA maps are planes
    return plane, points.astype(np.float32)


def stretch_by_coverage(grid: StretchGrid, points: np.ndarray) -> dict[str, float]:
    """Median stretch of the grid cells nearer a code than the median cell is (where the
    data is) against the farther half (the empty space around and between the clusters)."""
    from scipy.spatial import cKDTree

    distance = cKDTree(points).query(_cells(grid.x, grid.y))[0]
    near = distance <= np.median(distance)
    values = grid.values.reshape(-1)
    return {"stretch_near_codes": float(np.median(values[near])),
            "stretch_far_from_codes": float(np.median(values[~near]))}
