"""The interpolation lab's page through AppTest."""

from __future__ import annotations

import base64

import numpy as np
from app_support import captions, figure, n_points, no_errors, page


def ys(trace) -> np.ndarray:
    y = trace.y
    return np.frombuffer(base64.b64decode(y["bdata"]), y["dtype"]) if isinstance(y, dict) else np.asarray(y)


LAB = "from explorer.ui.interpolation_page import interpolation_page\ninterpolation_page()\n"


def test_lab_draws_three_paths_their_decodes_and_their_measures(env):
    at = page(LAB, model="digits-ae-2d", a="3", b="40", steps="10")
    no_errors(at)
    paths = {t.name: t for t in figure(at).data if t.mode == "lines+markers"}
    assert set(paths) == {"linear", "spherical (slerp)", "data-following"}
    assert all(n_points(t) == 10 for t in paths.values())
    strips = captions(at)
    assert sum(c.endswith(": A → B") for c in strips) == 3
    assert any(c.startswith("data-following, through ") for c in strips)
    for index, steps in ((1, 10), (2, 10), (3, 9)):  # prior, nearest code, decoder change
        lines = figure(at, index).data
        assert [t.name for t in lines] == ["linear", "spherical (slerp)", "data-following"]
        assert all(n_points(t) == steps for t in lines)
    nearest = {t.name: ys(t) for t in figure(at, 2).data}
    assert nearest["linear"][0] == nearest["linear"][-1] == 0  # both ends are codes of the data
    table = at.table[0].value
    assert "mean nearest code" in list(table["measure"])


def test_lab_follows_the_controls_and_explains_a_bad_pair(env):
    at = page(LAB, model="digits-vae-5d")
    no_errors(at)
    assert any("PCA map of 5-D codes" in c.value for c in at.caption)
    at.slider(key="il_steps").set_value(20).run()
    no_errors(at)
    assert at.query_params["steps"] in ("20", ["20"])
    assert n_points(next(t for t in figure(at).data if t.name == "linear")) == 20
    at.number_input(key="il_b").set_value(at.number_input(key="il_a").value).run()
    assert not at.exception
    assert "pick two different items" in at.error[0].value
