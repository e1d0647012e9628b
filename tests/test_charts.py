"""Figures of numbers beside the map: training curves, items as lines and as bars."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from explorer.figures import charts

RNG = np.random.default_rng(0)


def _subplot_count(fig: go.Figure) -> int:
    return len([key for key in fig.layout if key.startswith("xaxis")])


def test_loss_curves_one_subplot_per_term():
    train = {"recon": [3.0, 2.0, 1.5], "kl": [0.1, 0.3, 0.4], "total": [3.1, 2.3, 1.9]}
    test = {"recon": [3.2, 2.2], "kl": [0.1, 0.3], "total": [3.3, 2.5]}
    fig = charts.loss_curves(train, test, test_name="validation")
    assert _subplot_count(fig) == 3
    assert [a.text for a in fig.layout.annotations] == ["recon", "kl", "total"]
    assert len(fig.data) == 6
    dashed = [t for t in fig.data if t.line.dash == "dash"]
    assert {t.name for t in dashed} == {"validation"} and len(dashed) == 3
    assert sum(bool(t.showlegend) for t in fig.data) == 2
    assert list(fig.data[0].x) == [1, 2, 3]
    json.loads(fig.to_json())


def test_loss_curves_partial_and_per_step():
    fig = charts.loss_curves({"total": [5.0]})
    assert _subplot_count(fig) == 1 and list(fig.data[0].y) == [5.0]
    steps = [10, 20, 30, 40]
    fig = charts.loss_curves({"total": [4, 3, 2, 1], "recon": [3, 2, 1, 0.5]}, x=steps, x_title="step")
    assert all(list(t.x) == steps for t in fig.data)
    assert charts.loss_curves({}).data == ()


def test_series_lines_overlays_items_per_channel():
    series = RNG.normal(size=(2, 30, 3))
    fig = charts.series_lines(series, names=["original", "reconstruction"], channel_names=["x", "y", "z"])
    assert len(fig.data) == 6 and _subplot_count(fig) == 3
    assert sum(bool(t.showlegend) for t in fig.data) == 2
    np.testing.assert_allclose(fig.data[1].y, series[0, :, 1])
    json.loads(fig.to_json())


def test_feature_bars_grouped():
    rows = RNG.random((2, 5))
    fig = charts.feature_bars(rows, ["original", "reconstruction"], list("abcde"))
    assert fig.layout.barmode == "group" and len(fig.data) == 2
    assert list(fig.data[0].x) == list("abcde")
    np.testing.assert_allclose(fig.data[1].y, rows[1])
    with pytest.raises(ValueError, match="feature_names"):
        charts.feature_bars(rows, ["a", "b"], ["only one"])
