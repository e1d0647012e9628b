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


def inverse_hammer(points: np.ndarray) -> np.ndarray:
    """Unit vectors for 2-D Hammer map positions (the inverse of ``hammer``). Positions outside
    the map's ellipse are first pulled onto its edge, so every click names a point on the sphere."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ProjectionError(f"Hammer map positions must have shape (n, 2), got {p.shape}.")
    radius = np.sqrt((p[:, 0] / (2 * math.sqrt(2))) ** 2 + (p[:, 1] / math.sqrt(2)) ** 2)
    p = p / np.maximum(radius, 1.0)[:, None]
    z = np.sqrt(np.clip(1.0 - (p[:, 0] / 4) ** 2 - (p[:, 1] / 2) ** 2, 0.0, None))
    lon = 2 * np.arctan2(z * p[:, 0], 2 * (2 * z**2 - 1))
    lat = np.arcsin(np.clip(z * p[:, 1], -1.0, 1.0))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)


def on_hammer_map(points: np.ndarray) -> np.ndarray:
    """Whether 2-D positions lie on the Hammer map (inside its ellipse, the whole sphere)."""
    p = np.asarray(points, dtype=np.float64)
    return (p[:, 0] / (2 * math.sqrt(2))) ** 2 + (p[:, 1] / math.sqrt(2)) ** 2 <= 1.0


def hammer_outline(n: int = 181) -> np.ndarray:
    """The edge of the Hammer map, the ellipse (x / 2 sqrt 2)^2 + (y / sqrt 2)^2 = 1, closed."""
    angle = np.linspace(0.0, 2 * np.pi, n)
    return np.stack([2 * math.sqrt(2) * np.cos(angle), math.sqrt(2) * np.sin(angle)], axis=1)
