"""A map's points drawn as one picture under a Plotly chart, for maps that must open fast.

Plotly draws each SVG marker as its own DOM node: in headless Chromium a 2,000-point map
spends ~0.5 s drawing them and 4,000 points ~1 s, where one PNG of all of them costs the same
as any image. The price is that the points are a picture: no hover of their own and no
legend toggle, so this suits maps that show a spread (the Beta scrubber), not the Explore
page's clickable map. Pillow (torchvision's own dependency) draws the discs and writes the PNG.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageColor, ImageDraw

# Pixels on the picture's longer side: about twice the plot's width on a laptop screen, so
# the browser scales it down (smooth edges) rather than up (blocks).
LONG_SIDE_PX = 1400
# A disc's radius as a share of the picture's longer side: ~3 screen pixels on a ~700 px plot,
# the size of the Explore page's markers.
RADIUS_SHARE = 3 / 700
OPACITY = 0.8  # the markers' opacity on the Explore page's maps


@dataclass(frozen=True)
class PointsPicture:
    """A PNG of points, as a data URI, and the data rectangle it covers."""

    source: str
    x_range: tuple[float, float]
    y_range: tuple[float, float]


def _check_range(name: str, bounds: tuple[float, float]) -> tuple[float, float]:
    low, high = float(bounds[0]), float(bounds[1])
    if not (np.isfinite(low) and np.isfinite(high) and high > low):
        raise ValueError(f"{name} must be two finite numbers, low < high; got {bounds}")
    return low, high


def points_picture(
    points: np.ndarray,
    colors: Sequence[str],
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    long_side_px: int = LONG_SIDE_PX,
) -> PointsPicture:
    """``points`` ``(n, 2)`` as opaque discs of ``colors`` (one CSS colour each) on a
    transparent PNG covering ``x_range`` x ``y_range``, with the same scale on both axes.

    Later points are drawn over earlier ones, as Plotly draws later traces on top."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"expected points of shape (n, 2), got {points.shape}")
    if len(colors) != len(points):
        raise ValueError(f"colors has {len(colors)} entries but there are {len(points)} points")
    (x0, x1), (y0, y1) = _check_range("x_range", x_range), _check_range("y_range", y_range)
    per_unit = long_side_px / max(x1 - x0, y1 - y0)  # pixels per data unit, both axes
    size = (max(1, round((x1 - x0) * per_unit)), max(1, round((y1 - y0) * per_unit)))
    # A palette picture (index 0 transparent): a third of an RGBA PNG's bytes and time to write.
    palette = sorted(set(colors))
    if len(palette) > 255:
        raise ValueError(f"a picture holds at most 255 colours, got {len(palette)}")
    picture = Image.new("P", size, 0)
    picture.putpalette([0, 0, 0, *(v for c in palette for v in ImageColor.getrgb(c)[:3])])
    index = {c: i + 1 for i, c in enumerate(palette)}
    draw = ImageDraw.Draw(picture)
    radius = RADIUS_SHARE * long_side_px
    columns = (points[:, 0] - x0) * per_unit
    rows = (y1 - points[:, 1]) * per_unit  # image rows run down, the y axis up
    for col, row, color in zip(columns, rows, colors, strict=True):
        draw.ellipse((col - radius, row - radius, col + radius, row + radius), fill=index[color])
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", transparency=0)
    source = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return PointsPicture(source, (x0, x1), (y0, y1))


def picture_pixels(picture: PointsPicture) -> np.ndarray:
    """The picture back as an ``(H, W, 4)`` uint8 array (for tests and exports)."""
    encoded = picture.source.split(",", 1)[1]
    with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
        return np.asarray(image.convert("RGBA"))


def add_picture(fig: go.Figure, picture: PointsPicture, legend: Sequence[tuple[str, str]] = ()) -> go.Figure:
    """``picture`` under ``fig``'s traces at its data rectangle, the axes set to show all of
    it, and a legend entry for each ``(name, colour)`` of ``legend``; the entries show what
    the colours mean and do nothing when clicked (a picture's points cannot be hidden)."""
    (x0, x1), (y0, y1) = picture.x_range, picture.y_range
    fig.add_layout_image(source=picture.source, xref="x", yref="y", x=x0, y=y1, sizex=x1 - x0,
                         sizey=y1 - y0, sizing="stretch", layer="below", opacity=OPACITY)
    for name, color in legend:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name,
                                 marker={"color": color, "size": 8, "opacity": OPACITY}))
    fig.update_xaxes(range=[x0, x1])
    fig.update_yaxes(range=[y0, y1])
    fig.update_layout(legend={"itemclick": False, "itemdoubleclick": False})
    return fig
