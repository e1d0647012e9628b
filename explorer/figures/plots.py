"""Plotly figure builders for the latent map itself (``overlays`` draws on top of it).

Pure functions from arrays to ``go.Figure``; the app only displays them. Conventions
the app relies on:

- Every data-point trace of ``latent_scatter`` carries ``customdata`` = the item's index
  into ``points``, so a click or box selection maps back to items.
- The probe grid of ``add_probe_grid`` carries negative ``customdata`` (``-1 - k``), so a
  click on empty space (which Streamlit does not report, streamlit issue 8824) can be
  told from a click on an item. Overlays (paths, samples, densities, ellipses) carry no
  ``customdata``.
- 2-D maps use WebGL traces (``Scattergl``) so 10,000 points stay fluid. WebGL traces
  are drawn above SVG traces whatever their order, so overlays that must be seen on
  top of the points are WebGL too; density contours are SVG and sit beneath them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

# Zoom and pan survive Streamlit reruns while this string stays the same.
UIREVISION = "latent-map"
SELECTED_NAME = "selected"
PROBE_NAME = "probe"
TRAIN_COLOR, TEST_COLOR = "#1f77b4", "#ff7f0e"
_MARKER_OPACITY = 0.8
FADED_OPACITY = 0.2  # data points under density contours


def figure_html(fig: go.Figure) -> str:
    """The figure as a stand-alone HTML page with plotly.js inside it: it opens offline (a
    lecture hall often has no internet), at the cost of about 4.5 MB."""
    return fig.to_html(include_plotlyjs=True, full_html=True)


def class_color(label: int, n_classes: int = 10) -> str:
    """The colour of class ``label``: the same class always gets the same colour, from
    Plotly's 10-colour palette, or Dark24 when there are more than 10 classes."""
    palette = qualitative.Plotly if n_classes <= len(qualitative.Plotly) else qualitative.Dark24
    return palette[int(label) % len(palette)]


def check_points(points: np.ndarray) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] not in (2, 3):
        raise ValueError(f"expected points of shape (n, 2) or (n, 3), got {points.shape}")
    return points


def check_length(name: str, values: Sequence | np.ndarray | None, n: int) -> None:
    if values is not None and len(values) != n:
        raise ValueError(f"{name} has {len(values)} entries but there are {n} points")


def scatter_trace(points: np.ndarray, **kwargs) -> go.Scattergl | go.Scatter3d:
    """A WebGL scatter trace for 2-D or 3-D points. In 2-D, points stay fully visible when
    something else is selected: the app draws its own selection, and a click on the probe
    grid must not dim the whole map."""
    if points.shape[1] == 3:
        return go.Scatter3d(x=points[:, 0], y=points[:, 1], z=points[:, 2], **kwargs)
    opacity = kwargs.get("marker", {}).get("opacity", 1.0)
    return go.Scattergl(x=points[:, 0], y=points[:, 1], unselected={"marker": {"opacity": opacity}}, **kwargs)


def label_name(label: int, label_names: Sequence[str] | None) -> str:
    if label_names is not None and 0 <= label < len(label_names):
        return str(label_names[label])
    return str(label)


def latent_scatter(
    points: np.ndarray,
    *,
    labels: np.ndarray | None = None,
    label_names: Sequence[str] | None = None,
    values: np.ndarray | None = None,
    value_name: str = "",
    hover: Sequence[str] | None = None,
    selected: Sequence[int] = (),
    title: str = "",
    axis_name: str = "dim",
    height: int = 600,
) -> go.Figure:
    """The latent map: ``points`` ``(n, 2)`` as ``Scattergl`` or ``(n, 3)`` as ``Scatter3d``.

    With ``labels`` (ints), one trace per class present, so the legend toggles classes;
    with ``values``, one trace coloured by them with a colorbar titled ``value_name``
    (values win when both are given; labels then still name the points on hover). Without
    either, one plain trace. ``selected`` indices are drawn on top as rings in a trace
    named ``"selected"``. Hover shows ``hover[i]`` when given, else ``"#i label"``.
    Axes are titled ``"<axis_name> 1"``, ``"<axis_name> 2"`` (and 3); 3-D maps rotate on drag.
    """
    points = check_points(points)
    n, dim = points.shape
    labels = None if labels is None else np.asarray(labels).astype(np.int64)
    values = None if values is None else np.asarray(values, dtype=np.float64)
    for name, given in (("labels", labels), ("values", values), ("hover", hover)):
        check_length(name, given, n)
    selected = np.asarray(selected, dtype=np.int64).reshape(-1)
    if selected.size and (selected.min() < 0 or selected.max() >= n):
        raise ValueError(f"selected indices must be between 0 and {n - 1}")

    index = np.arange(n)
    size = (6 if n <= 2000 else 4) if dim == 2 else (3 if n <= 2000 else 2)

    def hover_for(members: np.ndarray, description: str) -> dict:
        """Per-point ``hover`` texts when given; otherwise one template per trace, which
        keeps 10,000 points free of 10,000 strings (build time and page weight)."""
        if hover is not None:
            return {"hovertext": [hover[i] for i in members], "hoverinfo": "text"}
        return {"hovertemplate": f"#%{{customdata}} {description}<extra></extra>"}

    fig = go.Figure()
    if values is not None:
        marker = {
            "color": values,
            "colorscale": "Viridis",
            "showscale": True,
            "colorbar": {"title": {"text": value_name}},
            "size": size,
            "opacity": _MARKER_OPACITY,
        }
        names = None if labels is None else [label_name(int(k), label_names) for k in labels]
        value_line = f"<br>{value_name or 'value'}: %{{marker.color:.4g}}"
        fig.add_trace(
            scatter_trace(
                points,
                mode="markers",
                name=value_name or "value",
                marker=marker,
                customdata=index,
                text=names,
                showlegend=False,
                **hover_for(index, ("" if names is None else "%{text}") + value_line),
            )
        )
    elif labels is not None:
        n_classes = max(len(label_names or ()), int(labels.max()) + 1 if n else 0)
        for label in np.unique(labels):
            members = index[labels == label]
            name = label_name(int(label), label_names)
            marker = {"color": class_color(label, n_classes), "size": size, "opacity": _MARKER_OPACITY}
            fig.add_trace(
                scatter_trace(
                    points[members],
                    mode="markers",
                    name=name,
                    legendgroup=str(label),
                    marker=marker,
                    customdata=members,
                    **hover_for(members, name),
                )
            )
    else:
        marker = {"color": TRAIN_COLOR, "size": size, "opacity": _MARKER_OPACITY}
        fig.add_trace(
            scatter_trace(
                points,
                mode="markers",
                name="items",
                marker=marker,
                customdata=index,
                showlegend=False,
                **hover_for(index, ""),
            )
        )

    ring = {
        "symbol": "circle-open",
        "size": 16 if dim == 2 else 8,
        "color": "#111111",
        "line": {"width": 2.5},
    }
    fig.add_trace(
        scatter_trace(
            points[selected],
            mode="markers",
            name=SELECTED_NAME,
            marker=ring,
            customdata=selected,
            showlegend=bool(selected.size),
            **hover_for(selected, SELECTED_NAME),
        )
    )

    titles = [f"{axis_name} {i + 1}" for i in range(dim)]
    fig.update_layout(
        template="plotly_white",
        title={"text": title},
        height=height,
        margin={"l": 10, "r": 10, "b": 10, "t": 40 if title else 10},
        # Below the plot, not beside it: entries that join later ("selected", a path) would
        # otherwise widen the legend and shift the map under the user's cursor, and a legend
        # at the top right sits under plotly's toolbar.
        # Its offset is in plot heights: about 75 px under the axis, clear of the axis title, at
        # any figure height (the plot area is the figure less about 130 px of legend and margin).
        legend={"itemsizing": "constant", "orientation": "h", "x": 0, "xanchor": "left",
                "y": -75 / max(height - 130, 100) if dim == 2 else 0, "yanchor": "top"},
        clickmode="event+select",
        dragmode="zoom",
        hovermode="closest",
        uirevision=UIREVISION,
    )
    if dim == 2:
        fig.update_xaxes(title_text=titles[0])
        fig.update_yaxes(title_text=titles[1], scaleanchor="x", scaleratio=1)
    else:
        fig.update_scenes(
            xaxis_title_text=titles[0],
            yaxis_title_text=titles[1],
            zaxis_title_text=titles[2],
            aspectmode="data",
            dragmode="turntable",  # the layout's "zoom" would make a drag zoom the scene
        )
    return fig


PROBE_STEPS = 60
# A data point this close to the clicked probe point (in grid cells, on each axis) was the
# target: on a CI clone a probe point a pixel from item #246 took a click meant for the item
# (plotly's pick rule for that case is not pinned down; a direct click on a probe beside a
# point went to the point in every layout tried since).
POINT_SNAP_CELLS = 0.25


def point_at_probe(
    points: np.ndarray, probe: tuple[float, float], x_range: tuple[float, float],
    y_range: tuple[float, float], steps: int = PROBE_STEPS,
) -> int | None:
    """The index of the data point nearest a clicked probe point of the grid that
    ``add_probe_grid(x_range, y_range, steps)`` drew, if it lies within ``POINT_SNAP_CELLS`` of a
    grid cell of it on both axes; None when the click was on empty space."""
    cell = np.array([x_range[1] - x_range[0], y_range[1] - y_range[0]], dtype=float) / (steps - 1)
    cell[cell <= 0] = 1.0
    offsets = np.abs(np.asarray(points[:, :2], dtype=float) - np.asarray(probe, dtype=float)) / cell
    near = np.flatnonzero((offsets <= POINT_SNAP_CELLS).all(axis=1))
    if not near.size:
        return None
    return int(near[np.argmin((offsets[near] ** 2).sum(axis=1))])


def add_probe_grid(
    fig: go.Figure, x_range: tuple[float, float], y_range: tuple[float, float], steps: int = PROBE_STEPS,
    label: bool = True,
) -> go.Figure:
    """Add an invisible, clickable ``steps`` x ``steps`` grid named ``"probe"`` to a 2-D map.

    Streamlit reports clicks on points but not on empty space, so the app decodes "here"
    by reading the nearest probe point. Plotly finds hover and click targets from the data
    coordinates, not from drawn pixels, so opacity 0 keeps them clickable. ``customdata``
    is ``-1 - k`` for grid point ``k`` (all negative, all distinct); a real point near the
    cursor still wins because hovering picks the closest point of any trace. ``label=False``
    draws no hover label (the page shows the decode under the pointer itself) but keeps the
    hover and click events.
    """
    if steps < 2:
        raise ValueError(f"the probe grid needs at least 2 steps per axis, got {steps}")
    gx, gy = np.meshgrid(np.linspace(*x_range, steps), np.linspace(*y_range, steps))
    fig.add_trace(
        go.Scattergl(
            x=gx.ravel(),
            y=gy.ravel(),
            mode="markers",
            name=PROBE_NAME,
            marker={"size": 8, "color": "#888888", "opacity": 0.0},
            selected={"marker": {"opacity": 0.0}},
            unselected={"marker": {"opacity": 0.0}},
            customdata=-1 - np.arange(steps * steps),
            **({"hovertemplate": "decode here (%{x:.3g}, %{y:.3g})<extra></extra>",
                "hoverlabel": {"bgcolor": "white"}} if label else {"hoverinfo": "none"}),
            showlegend=False,
        )
    )
    return fig


def as_svg(fig: go.Figure) -> go.Figure:
    """``fig`` with every WebGL 2-D trace drawn as SVG instead, all else kept.

    For small maps that must open fast: SVG needs no WebGL context and no shaders, which in
    headless Chromium made a 2,000-point map draw in 1.3-1.6 s against 2.0-2.6 s as WebGL.
    Past a few thousand points SVG is the slower of the two (a DOM node per point)."""
    traces = [go.Scatter({k: v for k, v in t.to_plotly_json().items() if k != "type"})
              if isinstance(t, go.Scattergl) else t for t in fig.data]
    return go.Figure(data=traces, layout=fig.layout)
