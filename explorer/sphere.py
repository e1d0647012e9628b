"""Maps of codes on the unit sphere S^2 (a 3-D hyperspherical VAE) onto the plane."""

from __future__ import annotations

import math

import numpy as np

from explorer.errors import ProjectionError


def hammer(points: np.ndarray) -> np.ndarray:
    """Hammer's equal-area projection of 3-D points (rows x, y, z; normalized first) to 2-D.

    Longitude is measured in the x-y plane from +x, latitude towards +z. The whole sphere
    fills the ellipse (x / 2 sqrt 2)^2 + (y / sqrt 2)^2 <= 1 of area 4 pi, and equal areas on
    the sphere stay equal on the map, so a uniform prior looks uniform and a cluster's share of
    the map is its share of the sphere, which a plain lon/lat plot would inflate at the poles.
    """
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3:
        raise ProjectionError(f"The Hammer map needs 3-D codes (n, 3), got shape {p.shape}.")
    p = p / np.linalg.norm(p, axis=1, keepdims=True)
    lon = np.arctan2(p[:, 1], p[:, 0])
    lat = np.arcsin(np.clip(p[:, 2], -1.0, 1.0))
    scale = np.sqrt(1.0 + np.cos(lat) * np.cos(lon / 2))
    return np.stack([2 * math.sqrt(2) * np.cos(lat) * np.sin(lon / 2) / scale,
                     math.sqrt(2) * np.sin(lat) / scale], axis=1)
