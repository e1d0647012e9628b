"""Points drawn as one picture: each disc lands where its point is, in its colour."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from explorer.figures.raster import LONG_SIDE_PX, RADIUS_SHARE, add_picture, picture_pixels, points_picture

RED, BLUE = "#ff0000", "#0000ff"


def _pixel(picture, x: float, y: float) -> np.ndarray:
    """The RGBA pixel under data point (x, y)."""
    pixels = picture_pixels(picture)
    (x0, x1), y1 = picture.x_range, picture.y_range[1]
    per_unit = pixels.shape[1] / (x1 - x0)
    return pixels[int((y1 - y) * per_unit), int((x - x0) * per_unit)]


def test_each_point_is_a_disc_of_its_colour_at_its_place():
    points = np.array([[-3.0, 2.0], [1.0, -0.5]])
    picture = points_picture(points, [RED, BLUE], (-4, 2), (-1, 3))
    pixels = picture_pixels(picture)
    assert pixels.shape == (LONG_SIDE_PX * 4 // 6, LONG_SIDE_PX, 4)  # same scale on both axes
    assert tuple(_pixel(picture, -3.0, 2.0)) == (255, 0, 0, 255)
    assert tuple(_pixel(picture, 1.0, -0.5)) == (0, 0, 255, 255)
    # a disc's area, not a dot and not a smear: about pi r^2 painted pixels each
    radius = RADIUS_SHARE * LONG_SIDE_PX
    painted = (pixels[..., 3] > 0).sum()
    assert 0.7 * 2 * np.pi * radius**2 < painted < 1.5 * 2 * np.pi * radius**2
    assert _pixel(picture, 0.0, 2.5)[3] == 0  # transparent elsewhere


def test_the_y_axis_runs_up():
    picture = points_picture(np.array([[0.0, 0.9]]), [RED], (-1, 1), (-1, 1))
    pixels = picture_pixels(picture)
    rows = np.nonzero(pixels[..., 3])[0]
    assert rows.max() < len(pixels) * 0.1  # near the top of the picture, where y is high


def test_later_points_are_drawn_on_top():
    picture = points_picture(np.array([[0.0, 0.0], [0.0, 0.0]]), [RED, BLUE], (-1, 1), (-1, 1))
    assert tuple(_pixel(picture, 0.0, 0.0)) == (0, 0, 255, 255)


def test_points_outside_the_rectangle_are_left_out():
    picture = points_picture(np.array([[5.0, 5.0]]), [RED], (-1, 1), (-1, 1))
    assert picture_pixels(picture)[..., 3].max() == 0


@pytest.mark.parametrize("points, colors, x_range, match", [
    (np.zeros((2, 3)), [RED, RED], (0, 1), "shape"),
    (np.zeros((2, 2)), [RED], (0, 1), "colors has 1"),
    (np.zeros((2, 2)), [RED, RED], (1, 1), "low < high"),
    (np.zeros((2, 2)), [RED, RED], (0, np.nan), "finite"),
])
def test_bad_input_is_named(points, colors, x_range, match):
    with pytest.raises(ValueError, match=match):
        points_picture(points, colors, x_range, (0, 1))


def test_the_figure_shows_the_picture_under_its_traces_at_its_rectangle():
    picture = points_picture(np.array([[0.0, 0.0]]), [RED], (-2, 3), (-1, 1))
    fig = add_picture(go.Figure(go.Scatter(x=[0], y=[0])), picture, legend=[("zero", RED)])
    (image,) = fig.layout.images
    assert (image.x, image.y, image.sizex, image.sizey, image.layer) == (-2, 1, 5, 2, "below")
    assert tuple(fig.layout.xaxis.range) == (-2, 3) and tuple(fig.layout.yaxis.range) == (-1, 1)
    assert [t.name for t in fig.data][1:] == ["zero"] and fig.data[1].marker.color == RED
    assert fig.layout.legend.itemclick is False  # a picture's points cannot be hidden
