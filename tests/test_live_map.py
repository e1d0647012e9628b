import base64

import numpy as np
import pytest

from explorer.figures.live_map import map_inverse, trust_level
from explorer.projection import (
    INVERSE_NEIGHBORS,
    HammerProjector,
    KnnProjector,
    PCAProjector,
    RawProjector,
    TrustIndex,
    UMAPProjector,
)


def decoded(payload: dict, name: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(payload[name]), dtype)


@pytest.fixture
def codes() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(200, 5)).astype(np.float32)


def test_pca_sends_its_exact_linear_inverse(codes):
    pca = PCAProjector(2).fit(codes)
    payload = map_inverse(pca, pca.embedding_, codes, TrustIndex(pca.embedding_))
    assert payload["kind"] == "linear" and payload["latent_dim"] == 5 and payload["n"] == 200
    mean = decoded(payload, "mean", "<f8")
    components = decoded(payload, "components", "<f8").reshape(2, 5)
    spots = np.random.default_rng(1).normal(size=(7, 2))
    expected = pca.inverse_transform(spots)
    np.testing.assert_array_equal((spots @ components + mean).astype(np.float32), expected)


def test_a_knn_map_sends_points_codes_and_the_floor(codes):
    embedding = np.random.default_rng(2).normal(size=(200, 2)).astype(np.float32)
    knn = KnnProjector(embedding).fit(codes)
    trust = TrustIndex(embedding)
    payload = map_inverse(knn, embedding, codes, trust)
    assert payload["kind"] == "idw" and payload["k"] == INVERSE_NEIGHBORS
    np.testing.assert_array_equal(decoded(payload, "codes", "<f4").reshape(200, 5), codes)
    np.testing.assert_array_equal(decoded(payload, "points", "<f4").reshape(200, 2), embedding)
    assert payload["eps"] == pytest.approx(1e-9 * trust.spacing)
    # The hull's corners, counter-clockwise: every point is left of (or on) every edge.
    corners = embedding[payload["hull"]]
    edges = np.roll(corners, -1, axis=0) - corners
    rel = embedding[:, None, :] - corners[None]
    cross = edges[None, :, 0] * rel[..., 1] - edges[None, :, 1] * rel[..., 0]
    assert (cross >= -1e-6).all()


def test_raw_and_hammer_maps_need_no_arrays_but_their_points(codes):
    z2 = codes[:, :2]
    assert map_inverse(RawProjector(2).fit(z2), z2, z2, TrustIndex(z2))["kind"] == "raw"
    sphere = codes[:, :3] / np.linalg.norm(codes[:, :3], axis=1, keepdims=True)
    hammer = HammerProjector().fit(sphere)
    assert map_inverse(hammer, hammer.embedding_, sphere, TrustIndex(hammer.embedding_))["kind"] == "hammer"


def test_maps_the_page_cannot_invert_say_why(codes):
    pca3 = PCAProjector(3).fit(codes)
    reason = map_inverse(pca3, pca3.embedding_, codes, TrustIndex(pca3.embedding_))
    assert isinstance(reason, str) and "2-D map" in reason
    umap_like = UMAPProjector()  # its own inverse is seconds per call: the app sends a kNN one
    reason = map_inverse(umap_like, codes[:, :2], codes, TrustIndex(codes[:, :2]))
    assert isinstance(reason, str) and "UMAPProjector" in reason


def test_trust_levels():
    assert trust_level(1.0, True) == "good"
    assert trust_level(3.0, True) == "doubtful"
    assert trust_level(3.0, False) == "doubtful"
    assert trust_level(5.0, False) == "poor"
    assert trust_level(0.5, True, off_map=True) == "poor"
