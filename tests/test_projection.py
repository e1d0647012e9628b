"""Projections: quality on digits, inverse maps, the on-disk cache and the trust index.

Properties against thresholds, not magic numbers. UMAP and t-SNE are fitted once per
module (fixtures) because each fit costs seconds and UMAP compiles numba code on first use.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from explorer.errors import ConfigError, ProjectionError
from explorer.projection import (
    HammerProjector,
    KnnProjector,
    PCAProjector,
    Projection,
    ProjectionConfig,
    RawProjector,
    TrustIndex,
    TSNEProjector,
    UMAPProjector,
    configure_numba_cache,
    make_projector,
    project,
    spread_on_map,
    warm_umap,
)

# Before anything imports umap: reruns then load most of its compiled code from disk.
NUMBA_CACHE = configure_numba_cache(
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "latent-explorer" / "numba"
)

N_TRAIN = 1000
N_HELD_OUT = 300


@pytest.fixture(scope="module")
def digit_codes() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Standardized 64-D digits: a fixed random train subset and a held-out set."""
    data = load_digits()
    x = StandardScaler().fit_transform(data.data)
    order = np.random.default_rng(0).permutation(len(x))
    train, held_out = order[:N_TRAIN], order[N_TRAIN : N_TRAIN + N_HELD_OUT]
    return x[train], data.target[train], x[held_out], data.target[held_out]


@pytest.fixture(scope="module")
def umap_fit(digit_codes) -> UMAPProjector:
    return UMAPProjector(seed=0).fit(digit_codes[0])


@pytest.fixture(scope="module")
def tsne_fit(digit_codes) -> TSNEProjector:
    return TSNEProjector(seed=0).fit(digit_codes[0])


def test_make_projector_builds_each_method_from_config() -> None:
    cfg = ProjectionConfig(method="umap", n_components=3, n_neighbors=7, min_dist=0.3, seed=4)
    umap_projector = make_projector(cfg)
    assert isinstance(umap_projector, UMAPProjector)
    assert (umap_projector.n_components, umap_projector.n_neighbors) == (3, 7)
    assert (umap_projector.min_dist, umap_projector.seed) == (0.3, 4)
    assert isinstance(make_projector(ProjectionConfig(method="raw")), RawProjector)
    assert isinstance(make_projector(ProjectionConfig(method="pca")), PCAProjector)
    tsne = make_projector(ProjectionConfig(method="tsne", perplexity=12.0))
    assert isinstance(tsne, TSNEProjector)
    assert tsne.perplexity == 12.0
    with pytest.raises(ConfigError, match="method must be one of raw, pca, umap, tsne, hammer, got 'mds'"):
        ProjectionConfig(method="mds")  # type: ignore[arg-type]


def test_raw_is_identity_with_exact_inverse() -> None:
    z = np.random.default_rng(0).normal(size=(50, 2))
    projector = RawProjector(2)
    embedding = projector.fit_transform(z)
    assert embedding.dtype == np.float32
    np.testing.assert_allclose(embedding, z, rtol=1e-6)
    np.testing.assert_allclose(projector.inverse_transform(embedding), z, rtol=1e-6)
    assert projector.inverse_is_exact


def test_hammer_map_inverts_exactly_on_the_sphere_and_pulls_outside_clicks_onto_it() -> None:
    z = np.random.default_rng(0).normal(size=(500, 3))
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    projector = make_projector(ProjectionConfig(method="hammer"))
    assert isinstance(projector, HammerProjector) and projector.inverse_is_exact
    embedding = projector.fit_transform(z)
    assert (embedding[:, 0] ** 2 / 8 + embedding[:, 1] ** 2 / 2 <= 1 + 1e-6).all()  # inside the ellipse
    np.testing.assert_allclose(projector.inverse_transform(embedding), z, atol=1e-5)
    far = projector.inverse_transform(np.array([[50.0, 0.0], [0.0, -9.0]]))
    np.testing.assert_allclose(np.linalg.norm(far, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(far, [[-1, 0, 0], [0, 0, -1]], atol=1e-6)  # the ellipse's edge
    with pytest.raises(ProjectionError, match="Hammer map is 2-D"):
        make_projector(ProjectionConfig(method="hammer", n_components=3))
    with pytest.raises(ProjectionError, match="needs 3-D codes"):
        projector.fit(np.zeros((4, 5)))


def test_raw_rejects_a_latent_of_another_size() -> None:
    z = np.zeros((10, 5))
    with pytest.raises(ProjectionError, match=r"raw map needs a 2-D latent.*5 dimensions"):
        RawProjector(2).fit(z)


def test_bad_input_raises_clear_errors() -> None:
    with pytest.raises(ProjectionError, match="not fitted"):
        PCAProjector().transform(np.zeros((3, 4)))
    with pytest.raises(ProjectionError, match="NaN"):
        PCAProjector().fit(np.full((5, 4), np.nan))
    with pytest.raises(ProjectionError, match="2-D array"):
        PCAProjector().fit(np.zeros(8))
    projector = PCAProjector().fit(np.random.default_rng(0).normal(size=(20, 4)))
    with pytest.raises(ProjectionError, match="3 columns; this map expects 4"):
        projector.transform(np.zeros((2, 3)))
    with pytest.raises(ProjectionError, match="at least that many latent"):
        PCAProjector(n_components=3).fit(np.zeros((20, 2)))


def test_pca_preserves_neighbourhoods_and_inverts_exactly_on_its_plane(digit_codes) -> None:
    x = digit_codes[0]
    projector = PCAProjector(2)
    embedding = projector.fit_transform(x)
    assert trustworthiness(x, embedding, n_neighbors=5) > 0.7
    assert projector.inverse_is_exact
    reference = PCA(n_components=2).fit(x)
    expected = reference.inverse_transform(reference.transform(x))
    np.testing.assert_allclose(projector.inverse_transform(embedding), expected, atol=1e-4)


def test_pca_with_as_many_components_as_dims_round_trips_exactly() -> None:
    z = np.random.default_rng(1).normal(size=(40, 3))
    projector = PCAProjector(3).fit(z)
    np.testing.assert_allclose(projector.inverse_transform(projector.transform(z)), z, atol=1e-5)


def test_umap_preserves_neighbourhoods(digit_codes, umap_fit) -> None:
    assert umap_fit.embedding_.shape == (N_TRAIN, 2)
    assert trustworthiness(digit_codes[0], umap_fit.embedding_, n_neighbors=5) > 0.9
    assert not umap_fit.inverse_is_exact
    assert "UMAP" in umap_fit.inverse_note


@pytest.mark.slow  # umap's inverse recompiles numba code on every call: seconds each.
def test_umap_inverse_is_near_the_code_inside_and_knn_outside(digit_codes, umap_fit) -> None:
    x = digit_codes[0]
    embedding = umap_fit.embedding_
    inside = np.argsort(np.linalg.norm(embedding - np.median(embedding, axis=0), axis=1))[:3]
    far = embedding.max(axis=0) + 100 * np.ptp(embedding, axis=0)
    codes = umap_fit.inverse_transform(np.vstack([embedding[inside], far]))
    assert codes.shape == (4, x.shape[1])
    assert np.isfinite(codes).all()
    # Inside: closer to its own code than a typical code is (umap refines, so not exact).
    typical = np.median(np.linalg.norm(x - x.mean(axis=0), axis=1))
    assert (np.linalg.norm(codes[:3] - x[inside], axis=1) < typical).all()
    # Outside the hull umap's own inverse returns junk, so the kNN blend is used.
    np.testing.assert_allclose(codes[3], umap_fit.knn_inverse_(far[None])[0], rtol=1e-5)


def test_tsne_preserves_neighbourhoods(digit_codes, tsne_fit) -> None:
    assert tsne_fit.embedding_.shape == (N_TRAIN, 2)
    assert trustworthiness(digit_codes[0], tsne_fit.embedding_, n_neighbors=5) > 0.9
    assert not tsne_fit.inverse_is_exact
    assert "t-SNE has no inverse" in tsne_fit.inverse_note


def test_tsne_places_held_out_points_among_their_class(digit_codes, tsne_fit) -> None:
    x, y, x_new, y_new = digit_codes
    placed = tsne_fit.transform(x_new)
    assert placed.shape == (N_HELD_OUT, 2)
    predicted = KNeighborsClassifier(1).fit(tsne_fit.embedding_, y).predict(placed)
    assert (predicted == y_new).mean() > 0.8
    # Closer to the map position of its nearest training code than to a random one.
    nearest = cKDTree(x).query(x_new)[1]
    random = np.random.default_rng(0).integers(0, len(x), N_HELD_OUT)
    to_nearest = np.linalg.norm(placed - tsne_fit.embedding_[nearest], axis=1)
    to_random = np.linalg.norm(placed - tsne_fit.embedding_[random], axis=1)
    assert (to_nearest < to_random).mean() > 0.9
    # Training codes placed again land on their own spot: transform shares embedding_'s frame.
    again = tsne_fit.transform(x[:100])
    spacing = TrustIndex(tsne_fit.embedding_).spacing
    assert np.median(np.linalg.norm(again - tsne_fit.embedding_[:100], axis=1)) < spacing


def test_knn_inverse_maps_embedded_points_back_to_their_codes(digit_codes, tsne_fit) -> None:
    x = digit_codes[0]
    np.testing.assert_allclose(
        tsne_fit.inverse_transform(tsne_fit.embedding_[:50]), x[:50], rtol=1e-4, atol=1e-4
    )
    knn = KnnProjector(tsne_fit.embedding_).fit(x)
    np.testing.assert_allclose(knn.inverse_transform(knn.embedding_[:50]), x[:50], atol=1e-4)
    np.testing.assert_allclose(knn.transform(x[:50]), tsne_fit.embedding_[:50], atol=1e-3)
    # Between two map points the code is a blend: inside the box spanned by their codes.
    a, b = x[0], x[1]
    midpoint = knn.inverse_transform(((knn.embedding_[0] + knn.embedding_[1]) / 2)[None])[0]
    assert np.linalg.norm(midpoint - (a + b) / 2) < np.linalg.norm(a - b)


def test_knn_projector_requires_matching_lengths() -> None:
    with pytest.raises(ProjectionError, match="3 points but 4 codes"):
        KnnProjector(np.zeros((3, 2))).fit(np.zeros((4, 5)))


def test_trust_flags_far_points_and_trusts_embedded_ones(tsne_fit) -> None:
    embedding = tsne_fit.embedding_
    index = TrustIndex(embedding)
    centre = np.argmin(np.linalg.norm(embedding - np.median(embedding, axis=0), axis=1))
    far = embedding.max(axis=0) + np.ptp(embedding, axis=0)
    trust = index.query(np.vstack([embedding[centre], far]))
    assert trust.distance[0] < 1e-6
    assert trust.inside_hull[0]
    assert trust.distance[1] > 10
    assert not trust.inside_hull[1]


@pytest.mark.parametrize("dim", [1, 3])
def test_trust_works_in_one_and_three_dimensions(dim: int) -> None:
    points = np.random.default_rng(0).uniform(-1, 1, size=(200, dim))
    trust = TrustIndex(points).query(np.vstack([np.zeros(dim), np.full(dim, 5.0)]))
    assert list(trust.inside_hull) == [True, False]
    assert trust.distance[1] > trust.distance[0]


def test_trust_refuses_maps_above_three_dimensions() -> None:
    with pytest.raises(ProjectionError, match="1-3 D"):
        TrustIndex(np.zeros((10, 4)))


def test_cache_hit_is_identical_fast_and_still_invertible(tmp_path: Path, digit_codes) -> None:
    x = digit_codes[0][:300]
    cfg = ProjectionConfig(method="tsne", perplexity=20.0)
    progress: list[float] = []
    first = project(x, cfg, cache_dir=tmp_path, on_progress=lambda f, _: progress.append(f))
    assert isinstance(first, Projection)
    assert not first.cached
    assert progress == sorted(progress)
    assert progress[-1] == 1.0
    second = project(x, cfg, cache_dir=tmp_path)
    assert second.cached
    np.testing.assert_array_equal(second.embedding, first.embedding)
    assert second.seconds < first.seconds / 5
    assert isinstance(second.projector, KnnProjector)
    assert not second.projector.inverse_is_exact
    assert "cache" in second.projector.inverse_note
    np.testing.assert_allclose(second.projector.inverse_transform(second.embedding[:10]), x[:10], atol=1e-4)
    assert [p.suffix for p in tmp_path.iterdir()] == [".npz"]  # no temp files left behind


def test_cache_misses_on_other_config_codes_or_dtype(tmp_path: Path, digit_codes) -> None:
    x = digit_codes[0]
    cfg = ProjectionConfig(method="pca")
    assert not project(x, cfg, cache_dir=tmp_path).cached
    assert project(x, cfg, cache_dir=tmp_path).cached
    assert not project(x, ProjectionConfig(method="pca", n_components=3), tmp_path).cached
    assert not project(x[:-1], cfg, cache_dir=tmp_path).cached
    assert not project(x.astype(np.float32), cfg, cache_dir=tmp_path).cached
    shifted = x.copy()
    shifted[0, 0] += 1e-3
    assert not project(shifted, cfg, cache_dir=tmp_path).cached


def test_pca_cache_hit_keeps_the_exact_inverse(tmp_path: Path, digit_codes) -> None:
    x = digit_codes[0]
    fitted = project(x, ProjectionConfig(method="pca"), cache_dir=tmp_path)
    loaded = project(x, ProjectionConfig(method="pca"), cache_dir=tmp_path)
    assert loaded.cached
    assert isinstance(loaded.projector, PCAProjector)
    assert loaded.projector.inverse_is_exact
    probe = loaded.embedding[:20] + 0.5
    np.testing.assert_allclose(
        loaded.projector.inverse_transform(probe), fitted.projector.inverse_transform(probe)
    )
    np.testing.assert_allclose(loaded.projector.transform(x[:5]), fitted.embedding[:5], atol=1e-5)


def test_a_corrupt_cache_file_is_refitted(tmp_path: Path, digit_codes) -> None:
    x = digit_codes[0]
    cfg = ProjectionConfig(method="pca")
    project(x, cfg, cache_dir=tmp_path)
    (cached_file,) = tmp_path.iterdir()
    cached_file.write_bytes(b"not a zip file")
    assert not project(x, cfg, cache_dir=tmp_path).cached
    assert project(x, cfg, cache_dir=tmp_path).cached


def test_raw_maps_are_not_cached(tmp_path: Path) -> None:
    z = np.random.default_rng(0).normal(size=(20, 2))
    result = project(z, ProjectionConfig(method="raw"), cache_dir=tmp_path)
    np.testing.assert_allclose(result.embedding, z, rtol=1e-6)
    assert not any(tmp_path.iterdir())


def test_configure_numba_cache_keeps_an_existing_setting(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "theirs"))
    assert configure_numba_cache(tmp_path / "ours") == tmp_path / "theirs"
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "theirs")


def test_configure_numba_cache_sets_an_unset_dir(tmp_path: Path) -> None:
    from numba.core import config

    target = tmp_path / "numba"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("NUMBA_CACHE_DIR", raising=False)
        assert configure_numba_cache(target) == target
        assert target.is_dir()
        numba_dir = config.CACHE_DIR  # numba re-read its settings
        assert numba_dir == str(target)
    config.reload_config()  # Back to this process's own cache dir.
    numba_dir = config.CACHE_DIR
    assert numba_dir == os.environ.get("NUMBA_CACHE_DIR", "")


@pytest.mark.slow
def test_warm_umap_is_safe_to_call_twice() -> None:
    warm_umap(NUMBA_CACHE)
    start = time.perf_counter()
    warm_umap(NUMBA_CACHE)
    assert time.perf_counter() - start < 0.1


@pytest.mark.parametrize("n", [1, 2, 3])
def test_umap_of_too_few_codes_is_one_line(n: int) -> None:
    with pytest.raises(ProjectionError, match=f"at least 4 codes to map, not {n}"):
        project(np.random.default_rng(0).normal(size=(n, 5)), ProjectionConfig(method="umap"))


def test_umap_maps_the_fewest_codes_it_allows() -> None:
    codes = np.random.default_rng(0).normal(size=(4, 5))
    assert project(codes, ProjectionConfig(method="umap")).embedding.shape == (4, 2)


def test_a_posterior_spread_maps_exactly_onto_linear_maps_only() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(400, 5)) * np.array([3.0, 2.0, 1.0, 0.5, 0.2])
    pca = PCAProjector(2).fit(z)
    std = np.array([[0.4, 0.1, 0.3, 0.2, 0.05]])
    draws = z[:1] + rng.normal(size=(20_000, 5)) * std  # one code's posterior
    empirical = pca.transform(draws).std(axis=0)
    np.testing.assert_allclose(spread_on_map(std, pca.linear_axes())[0], empirical, rtol=0.03)
    raw = RawProjector(2).fit(z[:, :2])
    np.testing.assert_allclose(spread_on_map(std[:, :2], raw.linear_axes()), std[:, :2])
    assert KnnProjector(z[:, :2]).fit(z).linear_axes() is None
    assert HammerProjector().linear_axes() is None
