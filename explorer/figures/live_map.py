"""A 2-D map's way back to codes, and its trust level, as data the page can run: so the page
can turn the point under the pointer into a code (and say how far it is from the data)
without asking the server, with the same maths the server uses for a click.

- raw 2-D codes are the map itself; a Hammer map inverts in closed form;
- PCA sends its mean and components (the exact linear inverse);
- t-SNE, UMAP and cached maps send the map points and their codes, and the page blends
  the codes of the ``INVERSE_NEIGHBORS`` nearest points as ``projection.IdwMap`` does.

The trust level follows ``TrustIndex``: distance to the nearest map point in units of the
median nearest-neighbour spacing, and whether the point is inside the points' convex hull."""

from __future__ import annotations

import base64

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from explorer.projection import (
    INVERSE_NEIGHBORS,
    HammerProjector,
    KnnProjector,
    PCAProjector,
    Projector,
    RawProjector,
    TrustIndex,
    TSNEProjector,
)

# Trust levels: "good" inside the hull and nearer than GOOD_WITHIN spacings; "doubtful"
# inside the hull, or outside but nearer than DOUBTFUL_WITHIN; "poor" otherwise.
GOOD_WITHIN = 2.0
DOUBTFUL_WITHIN = 4.0


def trust_level(distance: float, inside: bool, off_map: bool = False) -> str:
    """One word for a decoded spot: good, doubtful or poor (``off_map``: outside a Hammer
    map's ellipse, where the decode is of the nearest edge point, not the spot itself)."""
    if off_map:
        return "poor"
    if inside and distance < GOOD_WITHIN:
        return "good"
    return "doubtful" if inside or distance < DOUBTFUL_WITHIN else "poor"


def _b64(a: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode()


def _inverse(inverse: Projector, embedding: np.ndarray, codes: np.ndarray) -> dict[str, object] | str:
    if isinstance(inverse, RawProjector):
        return {"kind": "raw"}
    if isinstance(inverse, HammerProjector):
        return {"kind": "hammer"}
    if isinstance(inverse, PCAProjector):
        # float64, as the server's PCA holds them: the page's code matches to the last bit.
        return {"kind": "linear", "mean": _b64(inverse.mean_, "<f8"),
                "components": _b64(inverse.components_, "<f8")}
    if isinstance(inverse, (TSNEProjector, KnnProjector)):
        return {"kind": "idw", "k": min(INVERSE_NEIGHBORS, len(embedding)), "codes": _b64(codes, "<f4")}
    return f"This map's inverse ({type(inverse).__name__}) does not run in the page."


def _hull(points: np.ndarray) -> list[int] | None:
    """Indices of the convex hull's corners, counter-clockwise; None where the points have no
    2-D hull (the page then uses their bounding box, as ``TrustIndex`` does)."""
    try:
        return [int(i) for i in ConvexHull(points, qhull_options="QJ").vertices]
    except (QhullError, ValueError):
        return None


def map_inverse(inverse: Projector, embedding: np.ndarray, codes: np.ndarray,
                trust: TrustIndex) -> dict[str, object] | str:
    """Everything the page needs to decode any spot of a 2-D map: ``inverse`` is what decodes
    a click on the server (``resources.click_inverse``), ``embedding`` the map points (n, 2),
    ``codes`` their latent codes (n, d), ``trust`` the map's ``TrustIndex``. One line saying
    why instead, where the map cannot be inverted in the page."""
    embedding = np.asarray(embedding, dtype=np.float32)
    if embedding.ndim != 2 or embedding.shape[1] != 2:
        return "Decoding under the pointer needs a 2-D map; this map has 3 dimensions."
    payload = _inverse(inverse, embedding, np.asarray(codes, dtype=np.float32))
    if isinstance(payload, str):
        return payload
    return {
        **payload,
        "latent_dim": int(np.asarray(codes).shape[1]),
        "n": len(embedding),
        "points": _b64(embedding, "<f4"),
        "spacing": float(trust.spacing),
        # IdwMap's floor on distances: 1e-9 of the median nearest-neighbour spacing.
        "eps": 1e-9 * float(trust.spacing),
        "hull": _hull(embedding),
        "good_within": GOOD_WITHIN,
        "doubtful_within": DOUBTFUL_WITHIN,
    }
