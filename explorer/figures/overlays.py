"""Layers drawn over a latent map: paths, marked points, density contours, posterior
ellipses, outlines and the decoder's stretch beneath the points. None carries
``customdata``, so a click on an overlay is never taken for a click on an item."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from explorer.figures.plots import (
    FADED_OPACITY,
    PROBE_NAME,
    SELECTED_NAME,
    check_length,
    check_points,
    scatter_trace,
)


def add_path(fig: go.Figure, points: np.ndarray, name: str = "path", color: str = "#d62728") -> go.Figure:
    """Add a line with markers through ``points`` (an interpolation path, 2-D or 3-D);
    the two endpoints get larger markers."""
    points = check_points(points)
    if len(points) == 0:
        raise ValueError("a path needs at least one point")
    dim = points.shape[1]
    sizes = np.full(len(points), 5 if dim == 2 else 3)
    sizes[[0, -1]] = 13 if dim == 2 else 7
    fig.add_trace(
        scatter_trace(
            points,
            mode="lines+markers",
            name=name,
            line={"color": color, "width": 2.5},
            marker={"color": color, "size": sizes, "opacity": 1.0, "line": {"color": "white", "width": 1}},
            hovertext=[f"{name} step {i}" for i in range(len(points))],
            hoverinfo="text",
        )
    )
    return fig


def add_outline(fig: go.Figure, points: np.ndarray, name: str, color: str = "#999999") -> go.Figure:
    """A thin line through 2-D ``points`` (e.g. a map's boundary), not clickable."""
    points = check_points(points)
    fig.add_trace(go.Scattergl(x=points[:, 0], y=points[:, 1], mode="lines", name=name,
                               line={"color": color, "width": 1}, hoverinfo="skip", showlegend=False))
    return fig


def add_points(
    fig: go.Figure,
    points: np.ndarray,
    name: str,
    symbol: str = "x",
    color: str = "#111111",
    size: float = 10,
    hover: Sequence[str] | None = None,
    line_width: float | None = None,
) -> go.Figure:
    """Overlay marked points (prior samples, path endpoints, the current decode spot) in
    2-D or 3-D; ``hover`` gives one text per point, else the trace name and index.
    ``line_width`` draws open symbols (``"x-thin"``, ``"circle-open"``) with that stroke."""
    points = check_points(points)
    check_length("hover", hover, len(points))
    fig.add_trace(
        scatter_trace(
            points,
            mode="markers",
            name=name,
            marker={"symbol": symbol, "color": color, "size": size, "opacity": 1.0,
                    **({} if line_width is None else {"line": {"width": line_width, "color": color}})},
            hovertext=list(hover) if hover is not None else [f"{name} {i}" for i in range(len(points))],
            hoverinfo="text",
        )
    )
    return fig


def add_density(
    fig: go.Figure, points: np.ndarray, name: str, color: str, ncontours: int = 6, bins: int = 40
) -> go.Figure:
    """Add density contour lines of 2-D ``points`` in one colour, no fill and no colorbar,
    so two densities (the prior's and the data's) can be compared on one map. Binned in
    the browser, so it costs nothing here; not hoverable, so clicks go to the points.
    The contours are SVG, drawn beneath the WebGL points whatever the trace order, so the
    data points fade to let them show through."""
    points = check_points(points)
    if points.shape[1] != 2:
        raise ValueError("density contours need a 2-D map")
    fig.update_traces(marker_opacity=FADED_OPACITY,
                      selector=lambda t: t.type == "scattergl" and t.name not in (SELECTED_NAME, PROBE_NAME)
                      and t.customdata is not None)
    fig.add_trace(
        go.Histogram2dContour(
            x=points[:, 0],
            y=points[:, 1],
            name=name,
            histnorm="probability density",
            nbinsx=bins,
            nbinsy=bins,
            ncontours=ncontours,
            contours={"coloring": "lines"},
            colorscale=[[0.0, color], [1.0, color]],
            line={"width": 2.5, "smoothing": 1.0},
            showscale=False,
            showlegend=True,
            hoverinfo="skip",
        )
    )
    return fig


def add_stretch(fig: go.Figure, x: np.ndarray, y: np.ndarray, values: np.ndarray) -> go.Figure:
    """Put the decoder's local stretch (``values[row, col]`` at ``y[row], x[col]``) under the
    points as a grey heat-map, on a log scale: dark where a small move changes the decoded
    item a lot, light where the decoder is flat. Not hoverable, so clicks go to the points."""
    log_values = np.log10(np.maximum(np.asarray(values, dtype=np.float64), 1e-12))
    lo, hi = np.quantile(log_values, [0.02, 0.98])
    fig.add_trace(go.Heatmap(x=x, y=y, z=log_values, zmin=lo, zmax=max(hi, lo + 1e-6),
                             colorscale=[[0.0, "#ffffff"], [1.0, "#3a3a3a"]], showscale=False,
                             hoverinfo="skip", name="decoder stretch", opacity=0.85))
    # A heat-map added last would cover the points: draw it first.
    fig.data = (fig.data[-1], *fig.data[:-1])
    return fig


def add_ellipses(
    fig: go.Figure,
    centers: np.ndarray,
    radii: np.ndarray,
    name: str = "posterior spread",
    max_items: int = 2000,
    color: str = "rgba(80, 80, 80, 0.45)",
) -> go.Figure:
    """Add axis-aligned ellipses (e.g. a VAE posterior's std per axis) as one line trace
    whose outlines are separated by NaN gaps. Above ``max_items`` an evenly spaced subset
    is drawn, which keeps the page light and still covers every region of the map."""
    centers, radii = np.asarray(centers, dtype=np.float64), np.asarray(radii, dtype=np.float64)
    if centers.ndim != 2 or centers.shape[1] != 2 or radii.shape != centers.shape:
        raise ValueError(f"centers and radii must both be (n, 2), got {centers.shape} and {radii.shape}")
    if len(centers) > max_items:
        keep = np.linspace(0, len(centers) - 1, max_items).astype(np.int64)
        centers, radii = centers[keep], radii[keep]
    theta = np.linspace(0.0, 2.0 * math.pi, 25)
    gap = np.full((len(centers), 1), np.nan)
    x = np.hstack([centers[:, :1] + radii[:, :1] * np.cos(theta), gap]).ravel()
    y = np.hstack([centers[:, 1:] + radii[:, 1:] * np.sin(theta), gap]).ravel()
    fig.add_trace(
        go.Scattergl(
            x=x,
            y=y,
            mode="lines",
            name=name,
            line={"color": color, "width": 1},
            connectgaps=False,
            hoverinfo="skip",
        )
    )
    return fig
