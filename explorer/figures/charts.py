"""Figures of numbers beside the map (training curves, single items as lines or bars, the
application pages' neighbours, denoising, anomalies and label efficiency): pure functions
from numbers to ``go.Figure``. The latent map lives in ``plots``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.figures.plots import TEST_COLOR, TRAIN_COLOR, check_length, class_color

_LAYOUT = {"template": "plotly_white", "margin": {"l": 10, "r": 10, "b": 10, "t": 40}}


def confusion_heatmap(confusion: np.ndarray, names: Sequence[str], title: str = "") -> go.Figure:
    """Counts of true class (rows) against predicted class (columns), with each row's share as
    colour, so small classes are as readable as big ones."""
    confusion = np.asarray(confusion)
    share = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    fig = go.Figure(go.Heatmap(
        z=share, x=list(names), y=list(names), text=confusion, texttemplate="%{text}",
        colorscale="Blues", zmin=0, zmax=1, textfont={"size": 12},
        colorbar={"title": {"text": "share of row"}, "len": 0.75, "thickness": 12},
        hovertemplate="true %{y}, predicted %{x}: %{text} items<extra></extra>",
    ))
    fig.update_xaxes(title_text="predicted", type="category", side="bottom")
    fig.update_yaxes(title_text="true", type="category", autorange="reversed")
    fig.update_layout(title={"text": title}, height=520, **_LAYOUT)
    return fig


def metric_bars(values: Mapping[str, float], unit: str, highlight: str | None = None,
                title: str = "") -> go.Figure:
    """One horizontal bar per named value, labelled with it; ``highlight`` gets a strong colour."""
    names = list(values)
    colors = [TEST_COLOR if name == highlight else "#9ecae1" for name in names]
    fig = go.Figure(go.Bar(
        x=[values[n] for n in names], y=names, orientation="h", marker_color=colors,
        text=[f"{values[n]:.2f} {unit}" for n in names], textposition="auto",
        hovertemplate=f"%{{y}}: %{{x:.3f}} {unit}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text=unit)
    lines = title.count("<br>") + 1 if title else 0  # a title wrapped to fit a narrow column
    fig.update_layout(title={"text": title}, height=40 + 20 * lines + 45 * len(names), **_LAYOUT)
    fig.update_layout(margin_t=20 + 20 * lines)
    return fig


def score_histograms(normal: np.ndarray, anomalous: np.ndarray, threshold: float | None = None,
                     score_name: str = "score") -> go.Figure:
    """Overlaid, normalized histograms of normal and anomalous scores with the threshold."""
    both = np.concatenate([normal, anomalous])
    lo, hi = np.quantile(both, [0.0, 0.995])  # a few huge scores would squash everything else
    bins = {"start": float(lo), "end": float(hi), "size": float(hi - lo) / 60 or 1.0}
    fig = go.Figure()
    for name, scores, color in (("normal", normal, TRAIN_COLOR), ("anomalous", anomalous, TEST_COLOR)):
        fig.add_trace(go.Histogram(x=scores, name=f"{name} ({len(scores):,})", xbins=bins,
                                   histnorm="probability density", marker_color=color, opacity=0.6))
    if threshold is not None:
        # The label hangs inside the plot, below the legend that sits above it.
        fig.add_vline(x=threshold, line={"color": "#111111", "dash": "dash"},
                      annotation_text="threshold", annotation_position="top right",
                      annotation_yanchor="top")
    fig.update_layout(barmode="overlay", height=320, xaxis_title=score_name, yaxis_title="density",
                      legend={"orientation": "h", "y": 1.12}, **_LAYOUT)
    return fig


def roc_curve(curves: Mapping[str, tuple[np.ndarray, np.ndarray, float]],
              marker: tuple[float, float] | None = None) -> go.Figure:
    """ROC curves ``name -> (false positive rates, true positive rates, AUROC)`` with the
    chance diagonal and, optionally, the current threshold's operating point."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance",
                             line={"color": "#bbbbbb", "dash": "dot"}, hoverinfo="skip"))
    for name, (fpr, tpr, auroc) in curves.items():
        fig.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name=f"{name} (AUROC {auroc:.3f})"))
    if marker is not None:
        fig.add_trace(go.Scatter(x=[marker[0]], y=[marker[1]], mode="markers", name="threshold",
                                 marker={"size": 12, "color": "#111111", "symbol": "circle-open",
                                         "line": {"width": 2}}))
    fig.update_xaxes(title_text="false positive rate", range=[0, 1])
    fig.update_yaxes(title_text="true positive rate", range=[0, 1.01], scaleanchor="x")
    fig.update_layout(height=380, legend={"x": 0.35, "y": 0.05}, **_LAYOUT)
    return fig


def accuracy_vs_labels(rows: Sequence[tuple[int, str, float]]) -> go.Figure:
    """Test accuracy against labels per class (log axis), one line per method."""
    fig = go.Figure()
    for method in dict.fromkeys(r[1] for r in rows):
        points = sorted((n, acc) for n, m, acc in rows if m == method)
        fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points],
                                 mode="lines+markers", name=method))
    sizes = sorted({r[0] for r in rows})
    fig.update_xaxes(title_text="labels per class", type="log", tickvals=sizes,
                     ticktext=[str(n) for n in sizes])
    fig.update_yaxes(title_text="test accuracy", tickformat=".0%")
    fig.update_layout(height=380, hovermode="x unified", legend={"orientation": "h", "y": -0.2}, **_LAYOUT)
    return fig


def grouped_bars(values: Mapping[str, Mapping[str, float]], title: str = "") -> go.Figure:
    """``values[series][category]`` as bars grouped by category, one colour per series (e.g.
    one per model, one group per measure)."""
    fig = go.Figure()
    for series, by_category in values.items():
        fig.add_trace(go.Bar(x=list(by_category), y=list(by_category.values()), name=series,
                             text=[f"{v:.2f}" for v in by_category.values()], textposition="outside"))
    fig.update_xaxes(tickangle=0)
    # Below the category names, which may wrap to three lines.
    fig.update_layout(barmode="group", title={"text": title}, height=380, yaxis_range=[0, 1.1],
                      legend={"orientation": "h", "y": -0.32}, **_LAYOUT)
    fig.update_layout(margin_t=20 + 20 * (title.count("<br>") + 1))  # a title wrapped to fit
    return fig


def along_path(values: Mapping[str, np.ndarray], y_title: str, title: str = "", first_step: int = 0,
               colors: Mapping[str, str] | None = None, from_zero: bool = False) -> go.Figure:
    """One line per named series of a measure taken step by step along a path (x counts steps
    from ``first_step``), e.g. one per model or one per kind of path."""
    fig = go.Figure()
    for name, series in values.items():
        fig.add_trace(go.Scatter(x=np.arange(first_step, first_step + len(series)), y=series,
                                 mode="lines+markers", name=name,
                                 line={"color": (colors or {}).get(name)}))
    fig.update_xaxes(title_text="step along the path")
    fig.update_yaxes(title_text=y_title, rangemode="tozero" if from_zero else "normal")
    fig.update_layout(title={"text": title}, height=360, hovermode="x unified",
                      legend={"orientation": "h", "y": -0.2}, **_LAYOUT)
    return fig


def step_profiles(steps: Mapping[str, np.ndarray], title: str = "") -> go.Figure:
    """Change between consecutive decoded frames along a path, one line per model: a flat line
    is a smooth path, a spike a jump from one kind of item to another."""
    return along_path(steps, "change between frames (L2)", title, first_step=1, from_zero=True)


def kl_per_dimension(kl: Mapping[str, np.ndarray]) -> go.Figure:
    """Each model's mean KL to the prior per latent dimension, largest first: how much each
    dimension carries; a dimension near 0 nats is unused (posterior collapse)."""
    fig = go.Figure()
    for name, values in kl.items():
        ordered = np.sort(np.asarray(values))[::-1]
        fig.add_trace(go.Bar(x=np.arange(1, len(ordered) + 1), y=ordered, name=name))
    fig.update_xaxes(title_text="latent dimension, by falling KL", dtick=1)
    fig.update_yaxes(title_text="KL to the prior (nats)", rangemode="tozero")
    fig.update_layout(barmode="group", title={"text": "what each dimension carries"}, height=340,
                      legend={"orientation": "h", "y": -0.25}, **_LAYOUT)
    return fig


def timeline_map(frames: np.ndarray, epochs: Sequence[int], labels: np.ndarray | None = None,
                 class_names: Sequence[str] | None = None, axis_name: str = "raw", start: int = -1,
                 titles: Sequence[str] | None = None) -> go.Figure:
    """The map of the same items after each epoch, ``frames`` (epochs, items, 2) in one
    coordinate system, as Plotly frames under an epoch slider with Play: scrubbing runs in
    the browser, so it is instant. Axes are fixed over all frames, so motion is real motion.
    Opens on frame ``start`` (the last by default)."""
    frames = np.asarray(frames, dtype=np.float32)
    start = start % len(frames)
    # One trace of all items coloured per point, so a frame is one trace (building a trace per
    # class per frame took a second for 100 epochs); the legend is one empty trace per class.
    if labels is None:
        colors: str | list[str] = TEST_COLOR
        legend: list[go.Scatter] = []
    else:
        # As the latent map counts classes, so a class has the same colour on both.
        n_classes = max(len(class_names or ()), int(labels.max()) + 1)
        colors = [class_color(int(c), n_classes) for c in labels]
        legend = [go.Scatter(x=[None], y=[None], mode="markers", name=_class_name(int(c), class_names),
                             marker={"size": 8, "color": class_color(int(c), n_classes)})
                  for c in np.unique(labels)]
    hover = None if labels is None else [_class_name(int(c), class_names) for c in labels]

    def title(f: int) -> str:
        return titles[f] if titles else f"epoch {epochs[f]}"

    items = go.Scatter(x=frames[start, :, 0], y=frames[start, :, 1], mode="markers", showlegend=False,
                       marker={"size": 5, "opacity": 0.8, "color": colors}, text=hover,
                       hovertemplate="%{text}<extra></extra>" if hover else None)
    # A frame carries only the new positions: plotly.js merges them into trace 0, which keeps
    # its colours and hover texts (validating 500 colours per frame was most of the time).
    fig = go.Figure(data=[items, *legend],
                    frames=[go.Frame(data=[go.Scatter(x=frames[f, :, 0], y=frames[f, :, 1])], traces=[0],
                                     name=str(f), layout={"title": {"text": title(f)}})
                            for f in range(len(frames))])
    lo, hi = frames.reshape(-1, 2).min(axis=0), frames.reshape(-1, 2).max(axis=0)
    pad = 0.05 * np.maximum(hi - lo, 1e-6)
    # redraw: each frame's title (its epoch and loss) is layout, which plotly.js only draws on a
    # redraw; 500 SVG points redraw in milliseconds.
    still = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate", "transition": {"duration": 0}}
    fig.update_layout(
        title={"text": title(start)}, height=560, **_LAYOUT,
        xaxis={"range": [lo[0] - pad[0], hi[0] + pad[0]], "title": {"text": f"{axis_name} 1"}},
        yaxis={"range": [lo[1] - pad[1], hi[1] + pad[1]], "title": {"text": f"{axis_name} 2"}},
        legend={"orientation": "h", "y": -0.36},
        # Plotly's own animation layout: Play and Pause left of the slider, both under the axes.
        sliders=[{"active": start, "currentvalue": {"prefix": "epoch "}, "x": 0.14, "len": 0.86, "y": 0,
                  "yanchor": "top", "pad": {"t": 50, "b": 10},
                  "steps": [{"label": str(epochs[f]), "method": "animate", "args": [[str(f)], still]}
                            for f in range(len(frames))]}],
        updatemenus=[{"type": "buttons", "direction": "left", "x": 0.12, "xanchor": "right", "y": 0,
                      "yanchor": "top", "pad": {"t": 80, "r": 10}, "showactive": False, "buttons": [
                          {"label": "▶ Play", "method": "animate",
                           "args": [None, {**still, "frame": {"duration": 250, "redraw": True},
                                           "fromcurrent": False,
                                           "transition": {"duration": 150}}]},
                          {"label": "❚❚", "method": "animate", "args": [[None], still]}]}],
    )
    return fig


def _class_name(label: int, class_names: Sequence[str] | None) -> str:
    return class_names[label] if class_names and label < len(class_names) else str(label)


def beta_tradeoff(betas: Sequence[float], measures: Mapping[str, Sequence[float]],
                  current: float | None = None) -> go.Figure:
    """One small panel per measure of a beta family (reconstruction, KL, ...) over beta, with
    the member on view ringed. Beta runs from 0, so the members sit at even steps, named."""
    names = [f"{b:g}" for b in betas]
    fig = make_subplots(1, len(measures), subplot_titles=list(measures), horizontal_spacing=0.08)
    for column, values in enumerate(measures.values(), start=1):
        fig.add_trace(go.Scatter(x=names, y=list(values), mode="lines+markers", showlegend=False,
                                 line={"color": TEST_COLOR},
                                 hovertemplate="beta %{x}: %{y:.3g}<extra></extra>"), 1, column)
        if current is not None and current in betas:
            at = list(betas).index(current)
            fig.add_trace(go.Scatter(x=[names[at]], y=[list(values)[at]], mode="markers", showlegend=False,
                                     marker={"size": 16, "symbol": "circle-open", "color": "#d62728",
                                             "line": {"width": 3}}, hoverinfo="skip"), 1, column)
    fig.update_xaxes(title_text="beta", type="category")
    fig.update_layout(height=260, **_LAYOUT)
    fig.update_annotations(font_size=13)
    return fig


def loss_curves(
    train: Mapping[str, Sequence[float]],
    test: Mapping[str, Sequence[float]] | None = None,
    *,
    x: Sequence[float] | None = None,
    test_x: Sequence[float] | None = None,
    x_title: str = "epoch",
    test_name: str = "test",
) -> go.Figure:
    """One subplot per loss term (e.g. ``recon``, ``kl``, ``total``): train solid, test
    dashed (``test_name`` relabels it, e.g. "validation").

    Values are plotted at epochs 1, 2, ... unless ``x`` (for train) or ``test_x`` (for
    test) give the positions, e.g. per-step losses. Works on partial histories while
    training runs, a single point included.
    """
    test = test or {}
    terms = [*train, *(term for term in test if term not in train)]
    if not terms:
        fig = go.Figure()
        fig.add_annotation(text="no losses recorded yet", showarrow=False, xref="paper", yref="paper")
        fig.update_layout(template="plotly_white", height=250, xaxis_visible=False, yaxis_visible=False)
        return fig
    ncols = min(len(terms), 3)
    nrows = math.ceil(len(terms) / ncols)
    fig = make_subplots(rows=nrows, cols=ncols, subplot_titles=terms)
    splits = (("train", train, x, TRAIN_COLOR, "solid"), (test_name, test, test_x, TEST_COLOR, "dash"))
    for k, term in enumerate(terms):
        row, col = divmod(k, ncols)
        for split, losses, positions, color, dash in splits:
            values = list(losses.get(term, ()))
            if not values:
                continue
            steps = (
                list(positions)[: len(values)] if positions is not None else list(range(1, len(values) + 1))
            )
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=values,
                    mode="lines+markers" if len(values) <= 50 else "lines",
                    name=split,
                    legendgroup=split,
                    showlegend=split not in {trace.name for trace in fig.data},
                    line={"color": color, "dash": dash},
                    marker={"size": 5},
                ),
                row=row + 1,
                col=col + 1,
            )
    fig.update_xaxes(title_text=x_title, row=nrows)
    fig.update_layout(
        template="plotly_white",
        height=260 * nrows,
        margin={"l": 10, "r": 10, "b": 10, "t": 40},
        hovermode="x unified",
        uirevision="loss-curves",  # zoom survives the redraws while training runs
    )
    return fig


def series_lines(
    series: np.ndarray,
    names: Sequence[str] | None = None,
    title: str = "",
    channel_names: Sequence[str] | None = None,
) -> go.Figure:
    """Time-series items ``(n, T, C)`` overlaid, one subplot per channel, one colour per
    item (e.g. original and reconstruction), so their differences show at a glance."""
    series = np.asarray(series, dtype=np.float64)
    if series.ndim != 3:
        raise ValueError(f"expected series of shape (n, T, C), got {series.shape}")
    n, steps, channels = series.shape
    names = list(names) if names is not None else [f"item {i}" for i in range(n)]
    check_length("names", names, n)
    check_length("channel_names", channel_names, channels)
    fig = make_subplots(
        rows=channels,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        subplot_titles=list(channel_names) if channel_names is not None else None,
    )
    for i in range(n):
        for c in range(channels):
            fig.add_trace(
                go.Scatter(
                    x=np.arange(steps),
                    y=series[i, :, c],
                    mode="lines",
                    name=names[i],
                    legendgroup=names[i],
                    showlegend=c == 0,
                    line={"color": class_color(i)},
                ),
                row=c + 1,
                col=1,
            )
    fig.update_xaxes(title_text="t", row=channels)
    fig.update_layout(
        template="plotly_white",
        title={"text": title},
        height=min(900, 120 + 160 * channels),
        margin={"l": 10, "r": 10, "b": 10, "t": 40 if title else 20},
    )
    return fig


def feature_bars(rows: np.ndarray, row_names: Sequence[str], feature_names: Sequence[str]) -> go.Figure:
    """Tabular items ``(n, D)`` as grouped bars, one bar group per feature and one colour
    per item (e.g. original and reconstruction)."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2:
        raise ValueError(f"expected rows of shape (n, D), got {rows.shape}")
    check_length("row_names", row_names, rows.shape[0])
    check_length("feature_names", feature_names, rows.shape[1])
    fig = go.Figure(
        [
            go.Bar(x=list(feature_names), y=row, name=name, marker_color=class_color(i))
            for i, (row, name) in enumerate(zip(rows, row_names, strict=True))
        ]
    )
    fig.update_layout(
        template="plotly_white",
        barmode="group",
        height=400,
        margin={"l": 10, "r": 10, "b": 10, "t": 20},
        legend={"orientation": "h", "y": 1.1},
    )
    return fig
