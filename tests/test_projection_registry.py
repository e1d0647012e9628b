"""A map method is one entry in ``explorer.projection.METHODS``: registering a throw-away
one (the code's first two axes, swapped) is all it takes for the config, ``project`` and its
cache, the Explore page's controls and the CLI to offer it."""

from __future__ import annotations

import numpy as np
import pytest
from app_support import no_errors, page

from explorer.cli import main
from explorer.errors import ConfigError
from explorer.projection import METHODS, MethodSpec, ProjectionConfig, Projector, Setting, project


class SwappedAxes(Projector):
    inverse_is_exact = True
    inverse_note = "Exact: the first two latent axes, swapped."

    def __init__(self, n_components: int) -> None:
        self.n_components = n_components

    def _fit(self, z: np.ndarray, on_progress) -> np.ndarray:
        return z[:, [1, 0]]

    def _transform(self, z: np.ndarray) -> np.ndarray:
        return z[:, [1, 0]]

    def _inverse(self, p: np.ndarray) -> np.ndarray:
        return p[:, [1, 0]]


SWAP = MethodSpec("swap", "Swapped axes", lambda cfg: SwappedAxes(cfg.n_components),
                  map_dims=lambda latent_dim, spherical: (2,) if latent_dim == 2 else (),
                  seeded=True, settings=(Setting("min_dist", 0.0, 0.5, "swap_md"),))


@pytest.fixture
def swap(monkeypatch):
    monkeypatch.setitem(METHODS, "swap", SWAP)


def test_the_config_knows_only_registered_methods(swap, monkeypatch):
    assert ProjectionConfig(method="swap").spec is SWAP
    monkeypatch.delitem(METHODS, "swap")
    with pytest.raises(ConfigError, match="method must be one of raw, pca, umap, tsne, hammer, got 'swap'"):
        ProjectionConfig(method="swap")


def test_project_fits_and_caches_a_registered_method(swap, tmp_path):
    z = np.random.default_rng(0).normal(size=(50, 2))
    fitted = project(z, ProjectionConfig(method="swap"), cache_dir=tmp_path)
    np.testing.assert_allclose(fitted.embedding, z[:, [1, 0]], rtol=1e-6)
    assert not fitted.cached and len(list(tmp_path.iterdir())) == 1
    again = project(z, ProjectionConfig(method="swap"), cache_dir=tmp_path)
    assert again.cached  # no restore in its spec: a hit decodes through the kNN blend
    np.testing.assert_allclose(again.projector.inverse_transform(fitted.embedding[:5]), z[:5], atol=1e-6)
    assert "Swapped axes map came from the cache" in again.projector.inverse_note


CONTROLS = """
from explorer.ui.explore import projection_controls
import streamlit as st
st.session_state["cfg"] = projection_controls({latent_dim}, False)
"""


def test_the_explore_controls_offer_it_with_its_label_settings_and_sizes(swap):
    at = page(CONTROLS.format(latent_dim=2))
    no_errors(at)
    picker = at.sidebar.selectbox(key="method")
    assert "swap" in picker.options or "Swapped axes" in picker.options
    picker.set_value("swap").run()
    no_errors(at)
    at.sidebar.slider(key="swap_md").set_value(0.25).run()
    at.sidebar.number_input(key="pseed").set_value(7).run()
    assert at.session_state["cfg"] == ProjectionConfig("swap", 2, 7, min_dist=0.25)
    assert "swap" not in page(CONTROLS.format(latent_dim=16)).sidebar.selectbox(key="method").options


def test_the_cli_projects_with_it_and_knn_refuses_it(swap, runs, tmp_path, capsys):
    folder = runs / "digits-ae-2d"
    out = tmp_path / "map.csv"
    assert main(["project", str(folder), "--method", "swap", "--out", str(out), "--json"]) == 0
    assert '"method": "swap"' in capsys.readouterr().out and out.is_file()
    assert main(["knn", str(folder), "--method", "swap"]) == 2  # a 2-D-only map: not for any code
    assert "Choose one of pca, umap, tsne." in capsys.readouterr().err
