"""Figure builders and image rendering: shapes, round trips and the conventions the app relies on."""

from __future__ import annotations

import io
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

from explorer.figures import overlays, plots, render

RNG = np.random.default_rng(0)


def _customdata(trace) -> np.ndarray:
    return np.asarray(trace.customdata, dtype=np.int64)


def _point_traces(fig: go.Figure) -> list:
    """Traces that stand for data items (everything but the selection ring)."""
    return [t for t in fig.data if t.name != plots.SELECTED_NAME]


# --- render ---------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [(), (3,)])
def test_tile_shape_order_and_padding(channels):
    images = np.stack([np.full((4, 5, *channels), k / 10, dtype=np.float32) for k in range(7)])
    grid = render.tile(images, pad=2, pad_value=1.0)
    # 7 images -> 3 columns x 3 rows, 2 pixels between tiles.
    assert grid.shape == (3 * 4 + 2 * 2, 3 * 5 + 2 * 2, *channels)
    for k in range(7):
        row, col = divmod(k, 3)
        cell = grid[row * 6 : row * 6 + 4, col * 7 : col * 7 + 5]
        np.testing.assert_allclose(cell, k / 10, rtol=0, atol=1e-6)
    assert np.all(grid[4:6] == 1.0) and np.all(grid[:, 5:7] == 1.0)
    assert np.all(grid[12:, 7:] == 1.0)  # the two empty cells of the last row


def test_tile_respects_ncols_and_zero_pad():
    images = RNG.random((6, 3, 3)).astype(np.float32)
    grid = render.tile(images, ncols=6, pad=0)
    np.testing.assert_array_equal(grid, np.concatenate(list(images), axis=1))


def test_tile_rejects_a_single_image():
    with pytest.raises(ValueError, match="stack of images"):
        render.tile(np.zeros((8, 8)))


def test_upscale_turns_each_pixel_into_a_block():
    image = RNG.random((3, 4, 3))
    big = render.upscale(image, 5)
    assert big.shape == (15, 20, 3)
    for i in range(3):
        for j in range(4):
            assert np.all(big[i * 5 : i * 5 + 5, j * 5 : j * 5 + 5] == image[i, j])


def test_to_uint8_clips_and_rounds():
    out = render.to_uint8(np.array([[-1.0, 0.0, 0.5, 1.0, 2.0, np.nan]]))
    assert out.dtype == np.uint8
    assert out.tolist() == [[0, 0, 128, 255, 255, 0]]


@pytest.mark.parametrize(("shape", "mode"), [((8, 6), "L"), ((8, 6, 3), "RGB")])
def test_png_decodes_to_the_scaled_size(shape, mode):
    image = RNG.random(shape)
    decoded = Image.open(io.BytesIO(render.to_png(image, scale=3)))
    assert decoded.format == "PNG" and decoded.mode == mode and decoded.size == (18, 24)
    np.testing.assert_array_equal(np.asarray(decoded), render.to_uint8(render.upscale(image, 3)))


@pytest.mark.parametrize(("bounce", "expected"), [(False, 5), (True, 8)])
def test_gif_frame_count_size_and_loop(bounce, expected):
    frames = np.stack([np.full((7, 9), k / 4) for k in range(5)])  # distinct frames
    gif = Image.open(io.BytesIO(render.to_gif(frames, fps=10, scale=2, bounce=bounce)))
    assert gif.format == "GIF" and gif.size == (18, 14)
    assert gif.n_frames == expected
    assert gif.info["loop"] == 0 and gif.info["duration"] == 100


def test_gif_can_play_once_in_colour():
    frames = RNG.random((3, 4, 4, 3))
    gif = Image.open(io.BytesIO(render.to_gif(frames, loop=False, bounce=False, scale=1)))
    assert gif.n_frames == 3 and "loop" not in gif.info


# --- latent_scatter -------------------------------------------------------------------


def test_scatter_one_webgl_trace_per_class_with_stable_colours():
    points = RNG.normal(size=(300, 2))
    labels = RNG.choice([0, 2, 5], size=300)
    names = [f"digit {k}" for k in range(10)]
    fig = plots.latent_scatter(points, labels=labels, label_names=names)
    traces = _point_traces(fig)
    assert [t.name for t in traces] == ["digit 0", "digit 2", "digit 5"]
    assert all(isinstance(t, go.Scattergl) for t in fig.data)
    assert [t.marker.color for t in traces] == [plots.class_color(k) for k in (0, 2, 5)]
    # class 5 keeps its colour when other classes are missing
    alone = plots.latent_scatter(points[labels == 5], labels=labels[labels == 5], label_names=names)
    assert _point_traces(alone)[0].marker.color == traces[2].marker.color


def test_scatter_customdata_maps_back_to_items():
    points = RNG.normal(size=(200, 2))
    labels = RNG.integers(0, 4, size=200)
    fig = plots.latent_scatter(points, labels=labels)
    seen = []
    for trace in _point_traces(fig):
        idx = _customdata(trace)
        np.testing.assert_allclose(np.column_stack([trace.x, trace.y]), points[idx])
        assert np.all(labels[idx] == labels[idx[0]])
        seen.extend(idx)
    assert sorted(seen) == list(range(200))


def test_scatter_hover_defaults_and_overrides():
    points = RNG.normal(size=(3, 2))
    fig = plots.latent_scatter(points, labels=np.array([1, 1, 0]), label_names=["cat", "dog"])
    # by default one template per trace ("#index label"), not one string per point
    templates = [t.hovertemplate for t in fig.data]
    assert templates[:2] == ["#%{customdata} cat<extra></extra>", "#%{customdata} dog<extra></extra>"]
    assert all(t.hovertext is None for t in fig.data)
    fig = plots.latent_scatter(points, hover=["a", "b", "c"], selected=[2])
    assert list(fig.data[0].hovertext) == ["a", "b", "c"]
    assert list(fig.data[-1].hovertext) == ["c"]


def test_scatter_values_give_one_trace_with_a_colorbar():
    points = RNG.normal(size=(50, 2))
    values = RNG.random(50)
    fig = plots.latent_scatter(points, labels=np.zeros(50, int), values=values, value_name="error")
    (trace,) = _point_traces(fig)
    np.testing.assert_allclose(trace.marker.color, values)
    assert trace.marker.showscale and trace.marker.colorbar.title.text == "error"
    np.testing.assert_array_equal(_customdata(trace), np.arange(50))
    assert "error: %{marker.color" in trace.hovertemplate
    assert "%{text}" in trace.hovertemplate and trace.text[0] == "0"


def test_scatter_selected_ring_on_top():
    points = RNG.normal(size=(40, 2))
    fig = plots.latent_scatter(points, labels=RNG.integers(0, 3, size=40), selected=[7, 3])
    ring = fig.data[-1]
    assert ring.name == plots.SELECTED_NAME
    assert ring.marker.symbol == "circle-open"
    assert ring.marker.size > fig.data[0].marker.size
    np.testing.assert_array_equal(_customdata(ring), [7, 3])
    np.testing.assert_allclose(np.column_stack([ring.x, ring.y]), points[[7, 3]])
    with pytest.raises(ValueError, match="selected"):
        plots.latent_scatter(points, selected=[40])


def test_scatter_layout_for_2d():
    fig = plots.latent_scatter(RNG.normal(size=(10, 2)), axis_name="PC", title="map")
    layout = fig.layout
    assert layout.yaxis.scaleanchor == "x"
    assert layout.clickmode == "event+select" and layout.dragmode == "zoom"
    assert layout.uirevision == plots.UIREVISION
    assert layout.xaxis.title.text == "PC 1" and layout.title.text == "map"


def test_scatter_3d():
    points = RNG.normal(size=(100, 3))
    labels = RNG.integers(0, 3, size=100)
    fig = plots.latent_scatter(points, labels=labels, selected=[5], axis_name="pca")
    assert all(isinstance(t, go.Scatter3d) for t in fig.data)
    for trace in _point_traces(fig):
        np.testing.assert_allclose(np.column_stack([trace.x, trace.y, trace.z]), points[_customdata(trace)])
    assert fig.layout.scene.zaxis.title.text == "pca 3" and fig.layout.scene.dragmode == "turntable"
    json.loads(fig.to_json())


def test_scatter_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(n, 2\) or \(n, 3\)"):
        plots.latent_scatter(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="labels"):
        plots.latent_scatter(np.zeros((5, 2)), labels=np.zeros(4, int))


def test_ten_thousand_points_stay_webgl_and_serialize():
    fig = plots.latent_scatter(RNG.normal(size=(10_000, 2)), labels=RNG.integers(0, 10, size=10_000))
    assert sum(len(t.x) for t in _point_traces(fig)) == 10_000
    assert all(isinstance(t, go.Scattergl) for t in fig.data)
    assert len(fig.to_json()) < 2_000_000


# --- overlays -------------------------------------------------------------------------


def test_probe_grid_is_invisible_clickable_and_negative():
    fig = plots.latent_scatter(RNG.normal(size=(20, 2)))
    plots.add_probe_grid(fig, (-2.0, 2.0), (-1.0, 3.0), steps=30)
    probe = fig.data[-1]
    ids = _customdata(probe)
    assert probe.name == plots.PROBE_NAME and not probe.showlegend
    assert len(ids) == 900 and len(set(ids.tolist())) == 900 and ids.max() < 0
    assert np.all(-1 - ids == np.arange(900))
    assert probe.marker.opacity == 0.0 and probe.hoverinfo != "skip"
    assert probe.hovertemplate.startswith("decode here")
    assert min(probe.x) == -2.0 and max(probe.x) == 2.0 and min(probe.y) == -1.0 and max(probe.y) == 3.0
    # data points never carry negative ids, so the two kinds of click cannot be confused
    assert _customdata(fig.data[0]).min() >= 0


def test_a_probe_click_beside_a_data_point_is_a_click_on_the_point():
    # Grid over x in [0, 10], y in [0, 20] with 11 steps: cells of 1 by 2.
    points = np.array([[3.2, 8.3], [3.1, 7.7], [6.0, 6.0], [9.0, 1.0]])
    at = lambda probe: plots.point_at_probe(points, probe, (0.0, 10.0), (0.0, 20.0), steps=11)  # noqa: E731
    assert at((3.0, 8.0)) == 1  # both within a quarter cell: the nearer one in cells
    assert at((6.0, 6.4)) == 2  # 0.2 of a y cell away
    assert at((6.0, 7.0)) is None  # half a y cell away: empty space beside the point
    assert at((6.3, 6.0)) is None  # 0.3 of an x cell away
    assert at((0.0, 0.0)) is None
    # A degenerate axis (all points on one line) has no cells to divide by.
    assert plots.point_at_probe(points[:1], (3.2, 8.3), (3.2, 3.2), (8.3, 8.3)) == 0


@pytest.mark.parametrize("dim", [2, 3])
def test_path_and_points_overlay(dim):
    fig = plots.latent_scatter(RNG.normal(size=(20, dim)))
    path = RNG.normal(size=(9, dim))
    overlays.add_path(fig, path, name="slerp")
    overlays.add_points(fig, path[[0, -1]], name="endpoints", symbol="diamond")
    line, ends = fig.data[-2], fig.data[-1]
    assert line.name == "slerp" and line.mode == "lines+markers" and len(line.x) == 9
    sizes = np.asarray(line.marker.size)
    assert sizes[0] == sizes[-1] > sizes[1:-1].max()
    assert ends.name == "endpoints" and list(ends.x) == [path[0, 0], path[-1, 0]]
    assert ends.customdata is None
    json.loads(fig.to_json())


def test_density_contours_lines_only():
    fig = plots.latent_scatter(RNG.normal(size=(100, 2)))
    overlays.add_density(fig, RNG.normal(size=(500, 2)), name="prior", color="#d62728")
    density = fig.data[-1]
    assert isinstance(density, go.Histogram2dContour)
    assert density.contours.coloring == "lines" and density.showscale is False
    assert density.hoverinfo == "skip"
    with pytest.raises(ValueError, match="2-D"):
        overlays.add_density(fig, RNG.normal(size=(10, 3)), name="x", color="red")


def test_ellipses_one_trace_with_gaps_and_a_cap():
    centers = RNG.normal(size=(50, 2))
    radii = RNG.random((50, 2)) + 0.1
    fig = overlays.add_ellipses(go.Figure(), centers, radii, max_items=20)
    (trace,) = fig.data
    x, y = np.asarray(trace.x, dtype=float), np.asarray(trace.y, dtype=float)
    assert np.isnan(x).sum() == 20 and np.isnan(y).sum() == 20
    outlines = np.split(np.column_stack([x, y]), np.flatnonzero(np.isnan(x)) + 1)[:-1]
    first = outlines[0][:-1]  # drop the NaN separator
    # the first outline is the ellipse of the first item: it spans exactly its radii
    np.testing.assert_allclose(first.max(0) - first.min(0), 2 * radii[0], rtol=0.02)
    np.testing.assert_allclose(first.mean(0), centers[0], atol=0.1 * radii[0].max())


# --- other figures --------------------------------------------------------------------


def test_figure_html_opens_offline():
    import re

    page = plots.figure_html(plots.latent_scatter(np.zeros((3, 2)), labels=np.array([0, 1, 1])))
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", page)  # no CDN, no internet
    assert "Plotly.newPlot" in page and len(page) > 1_000_000  # plotly.js itself is inside


def test_density_contours_fade_the_points_they_sit_beneath():
    points = np.random.default_rng(0).normal(size=(200, 2))
    fig = plots.latent_scatter(points, labels=np.arange(200) % 3, selected=[4])
    fig = overlays.add_density(fig, points, name="data density", color="#1f77b4")
    data = [t for t in fig.data if t.type == "scattergl" and t.name != plots.SELECTED_NAME]
    assert data and all(t.marker.opacity <= 0.3 for t in data)
    assert next(t for t in fig.data if t.name == plots.SELECTED_NAME).marker.opacity != plots.FADED_OPACITY


@pytest.mark.parametrize("height", [420, 600])
def test_map_legend_clears_the_axis_title_at_any_height(height):
    fig = plots.latent_scatter(np.zeros((3, 2)), labels=np.array([0, 1, 1]), height=height)
    plot_height = height - 130  # see latent_scatter: the figure less legend and margins
    assert -fig.layout.legend.y * plot_height >= 70  # px under the axis; its title takes ~45


def test_anomaly_threshold_label_hangs_inside_the_plot_below_the_legend():
    from explorer.figures import charts

    fig = charts.score_histograms(np.arange(10.0), np.arange(5.0, 15.0), threshold=7.0)
    label = next(a for a in fig.layout.annotations if a.text == "threshold")
    assert label.yref.endswith("domain") or label.yref == "paper"
    assert label.y == 1 and label.yanchor == "top"  # inside the plot, not in the legend's margin
    assert fig.layout.legend.y > 1


def test_as_svg_draws_the_same_map_without_webgl():
    points = np.random.default_rng(0).normal(size=(300, 2))
    fig = overlays.add_points(plots.latent_scatter(points, labels=np.arange(300) % 3), points[:5], "marks")
    svg = plots.as_svg(fig)
    assert {t.type for t in fig.data} == {"scattergl"} and {t.type for t in svg.data} == {"scatter"}
    for gl, drawn in zip(fig.data, svg.data):
        assert drawn.name == gl.name and drawn.marker.color == gl.marker.color
        np.testing.assert_array_equal(np.asarray(drawn.x), np.asarray(gl.x))
        np.testing.assert_array_equal(np.asarray(drawn.customdata), np.asarray(gl.customdata))
    assert svg.layout == fig.layout
