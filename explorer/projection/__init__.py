"""Latent codes to a 2-D or 3-D map and back: raw axes, PCA, UMAP, t-SNE and Hammer.

Every method sits behind one scikit-learn style interface (``fit``, ``transform``,
``fit_transform``, ``inverse_transform``; parameters only in ``__init__``, fitted attributes
end in ``_``) so the app can decode any spot of any map. Only raw, PCA and Hammer have an
exact inverse; elsewhere ``inverse_is_exact`` is False and ``inverse_note`` says what the
decoded code really is, and ``TrustIndex`` tells how far a spot is from the data.

``base``: the interface and the nearest-neighbour blend; ``methods``: each method and its
``MethodSpec`` in ``METHODS``, with ``ProjectionConfig``; ``run``: ``project`` (timing,
progress, the on-disk cache) and UMAP's warm-up. umap and openTSNE are imported lazily.
"""

from explorer.projection.base import (
    INVERSE_NEIGHBORS,
    KnnProjector,
    ProgressFn,
    Projector,
    Trust,
    TrustIndex,
    spread_on_map,
)
from explorer.projection.methods import (
    METHODS,
    HammerProjector,
    MethodSpec,
    PCAProjector,
    ProjectionConfig,
    RawProjector,
    Setting,
    TSNEProjector,
    UMAPProjector,
    make_projector,
)
from explorer.projection.run import Projection, cache_key, configure_numba_cache, project, warm_umap

__all__ = [
    "INVERSE_NEIGHBORS", "METHODS", "HammerProjector", "KnnProjector", "MethodSpec", "PCAProjector",
    "ProgressFn", "Projection", "ProjectionConfig", "Projector", "RawProjector", "Setting",
    "TSNEProjector", "Trust", "TrustIndex", "UMAPProjector", "cache_key", "configure_numba_cache",
    "make_projector", "project", "spread_on_map", "warm_umap",
]
