"""Interpolation lab: three paths between two codes and what happens along each.

- ``linear``: the straight line, which for a Gaussian prior cuts through the low-norm centre
  where few codes live;
- ``spherical``: slerp (``latent.slerp``), the great circle with the norm interpolated;
- ``data``: the shortest path on a k-nearest-neighbour graph of the data's codes, which hops
  from code to code and so stays where the encoder actually put items.

Each path is resampled to the same number of steps, and at every step three numbers say how
trustworthy the decode there is: the prior's log-density log N(z; 0, I) (a VAE's decoder was
trained where this is high), the distance to the nearest data code (an AE's decoder was only
trained at the codes), and the decoder change, the pixel L2 between consecutive decodes (a
spike is a jump from one kind of item to another).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from explorer.errors import DataError
from explorer.latent import decode, frame_steps, lerp, slerp
from explorer.models import Autoencoder

PATH_KINDS = ("linear", "spherical", "data")
MAX_STEPS = 512


def log_standard_normal(z: np.ndarray) -> np.ndarray:
    """log N(z; 0, I) of each row of ``z`` in nats."""
    z = np.asarray(z, dtype=np.float64)
    return -0.5 * ((z**2).sum(axis=1) + z.shape[1] * math.log(2 * math.pi))


def resample(points: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` points at equal arc length along the polyline through ``points``, first and
    last points included exactly, so a path of many short hops and one of few long ones
    compare step for step."""
    points = np.asarray(points, dtype=np.float64)
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    if arc[-1] == 0.0:
        return np.repeat(points[:1], steps, axis=0)
    targets = np.linspace(0.0, arc[-1], steps)
    out = np.stack([np.interp(targets, arc, points[:, j]) for j in range(points.shape[1])], axis=1)
    out[0], out[-1] = points[0], points[-1]
    return out


class CodeGraph:
    """The k-nearest-neighbour graph of a set of codes (edges weighted by distance, made
    symmetric so a path may go either way along an edge) and the index that answers "how far
    is the nearest code" for points along a path. Built once per set of codes."""

    def __init__(self, codes: np.ndarray, k: int = 10) -> None:
        from sklearn.neighbors import NearestNeighbors

        self.codes = np.asarray(codes, dtype=np.float32)
        if len(self.codes) < 2:
            raise DataError("A path on the neighbour graph needs at least two codes.")
        self.k = min(k, len(self.codes) - 1)
        self.index = NearestNeighbors(n_neighbors=self.k).fit(self.codes)
        directed = self.index.kneighbors_graph(mode="distance")
        self.graph = directed.maximum(directed.T).tocsr()

    def nearest_distance(self, points: np.ndarray) -> np.ndarray:
        distance, _ = self.index.kneighbors(np.asarray(points, dtype=np.float32), n_neighbors=1)
        return distance[:, 0].astype(np.float64)

    def hops(self, a: int, b: int) -> np.ndarray:
        """The items on the shortest graph path from item ``a`` to item ``b``, both included."""
        from scipy.sparse.csgraph import dijkstra

        _, predecessors = dijkstra(self.graph, indices=a, return_predecessors=True)
        if predecessors[b] < 0 and a != b:
            raise DataError(f"Items {a} and {b} lie in separate parts of the {self.k}-nearest-neighbour "
                            "graph of the codes; no data-following path joins them. Raise k or pick "
                            "other items.")
        path = [b]
        while path[-1] != a:
            path.append(int(predecessors[path[-1]]))
        return np.array(path[::-1], dtype=np.int64)


@dataclass(frozen=True)
class PathProfile:
    """One path and what happens along it: ``codes`` (steps, d), the decoded ``frames``, and per
    step ``log_prior`` and ``nearest_code`` (distance to the nearest data code); per pair of
    consecutive steps ``decoder_change`` (pixel L2). ``hops`` lists the data items a
    data-following path passes through (empty for the others)."""

    kind: str
    codes: np.ndarray
    frames: np.ndarray
    log_prior: np.ndarray
    nearest_code: np.ndarray
    decoder_change: np.ndarray
    hops: np.ndarray

    def summary(self) -> dict[str, float | int]:
        change = self.decoder_change
        return {
            "length": float(np.linalg.norm(np.diff(self.codes, axis=0), axis=1).sum()),
            "mean_log_prior": float(self.log_prior.mean()),
            "min_log_prior": float(self.log_prior.min()),
            "mean_nearest_code": float(self.nearest_code.mean()),
            "max_nearest_code": float(self.nearest_code.max()),
            "total_decoder_change": float(change.sum()),
            "max_decoder_change": float(change.max()),
            # 1 when every step changes the decode equally; large for one sudden jump.
            "jump": float(change.max() / max(change.mean(), 1e-12)),
            "hops": int(len(self.hops)),
        }

    def series(self) -> dict[str, list[float]]:
        return {"log_prior": self.log_prior.tolist(), "nearest_code": self.nearest_code.tolist(),
                "decoder_change": self.decoder_change.tolist()}


def check_pair(n_items: int, a: int, b: int) -> None:
    for name, item in (("A", a), ("B", b)):
        if not 0 <= item < n_items:
            raise DataError(f"Item {item} (end {name}) does not exist; pick one between 0 and {n_items - 1}.")
    if a == b:
        raise DataError(f"Both ends are item {a}; pick two different items to interpolate between.")


def check_steps(steps: int) -> None:
    if not 2 <= steps <= MAX_STEPS:
        raise DataError(f"A path needs between 2 and {MAX_STEPS} steps, got {steps}.")


def path_codes(graph: CodeGraph, a: int, b: int, steps: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each kind of path from item ``a``'s code to item ``b``'s, ``steps`` points long, with the
    items a data-following path hops through."""
    check_pair(len(graph.codes), a, b)
    check_steps(steps)
    z0, z1 = torch.from_numpy(graph.codes[a]), torch.from_numpy(graph.codes[b])
    t = torch.linspace(0.0, 1.0, steps)
    hops = graph.hops(a, b)
    none = np.array([], dtype=np.int64)
    return {
        "linear": (lerp(z0, z1, t).numpy(), none),
        "spherical": (slerp(z0, z1, t).numpy(), none),
        "data": (resample(graph.codes[hops], steps).astype(np.float32), hops),
    }


def path_profiles(model: Autoencoder, graph: CodeGraph, a: int, b: int,
                  steps: int = 16) -> dict[str, PathProfile]:
    """The three paths between items ``a`` and ``b`` of ``graph``'s codes, each decoded in one
    batch and measured step by step."""
    out = {}
    for kind, (codes, hops) in path_codes(graph, a, b, steps).items():
        frames = decode(model, torch.from_numpy(codes))
        out[kind] = PathProfile(kind, codes, frames.numpy(), log_standard_normal(codes),
                                graph.nearest_distance(codes), frame_steps(frames).numpy().astype(np.float64),
                                hops)
    return out
