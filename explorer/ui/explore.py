"""The Explore page: the latent map, and decoding anything on it."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from explorer import latent
from explorer.figures import overlays, plots
from explorer.models.rbm import RBM
from explorer.projection import METHODS, Projection, ProjectionConfig, sphere, spread_on_map
from explorer.store.catalog import ModelEntry
from explorer.store.io import csv_bytes, npz_bytes
from explorer.ui import job_panel, live_decode, resources
from explorer.ui.decode_panels import (
    code_caption,
    grid_panel,
    inspect_panel,
    interpolation_panel,
    prior_panel,
    sliders_panel,
)
from explorer.ui.explore_context import NO_RBM_PRIOR, Context, Overlays, prior_codes
from explorer.ui.explore_state import picks
from explorer.ui.map_events import map_events
from explorer.ui.model_picker import open_model
from explorer.ui.widgets import (
    guarded,
    point_index,
    query_value,
    scale_for,
    selected_points,
    share_state,
    show_items,
)


def projection_controls(latent_dim: int, spherical: bool) -> ProjectionConfig:
    methods = [name for name, spec in METHODS.items() if spec.map_dims(latent_dim, spherical)]
    default_method = "raw" if "raw" in methods else "pca"
    wanted = query_value("method", str, default_method, choices=methods)
    method = st.sidebar.selectbox(
        "Projection",
        methods,
        index=methods.index(wanted) if wanted in methods else 0,
        format_func=lambda name: METHODS[name].label,
        key="method",
    )
    spec = METHODS[method]
    # A projection cannot add dimensions the codes do not have: a 2-D code has no 3-D map.
    dims_choices = list(spec.map_dims(latent_dim, spherical))
    wanted_dims = query_value("dims", int, dims_choices[0], choices=dims_choices)
    n_components = st.sidebar.radio(
        "Map dimensions",
        dims_choices,
        horizontal=True,
        key="dims_" + "-".join(map(str, dims_choices)),  # a fresh radio when the choices change
        index=dims_choices.index(wanted_dims),
        help=None if len(dims_choices) > 1 else f"This map of a {latent_dim}-D code has "
        f"{dims_choices[0]} dimensions only.",
    )
    seed = query_value("pseed", int, 0, lo=0, hi=10_000)
    settings: dict[str, float] = {}
    if spec.seeded or spec.settings:
        with st.sidebar.expander(f"{spec.label} parameters"):
            if spec.seeded:
                seed = int(st.number_input("seed", 0, 10_000, seed, key="pseed"))
            for setting in spec.settings:
                kind = int if setting.whole else float
                settings[setting.field] = kind(st.slider(setting.field, kind(setting.lo), kind(setting.hi),
                                                         setting.default, key=setting.key))
    return ProjectionConfig(method, n_components, seed, **settings)


def compute_projection(entry: ModelEntry, mtime: float, cfg: ProjectionConfig) -> Projection:
    """The requested projection, or PCA while a slow one is computed in the background (with
    its progress and a Stop), or after the user stopped it."""
    args = (str(entry.path), mtime, entry.display_data)
    pca = ProjectionConfig(method="pca", n_components=cfg.n_components)
    if not cfg.spec.slow:
        with st.spinner("Projecting…"):
            return resources.projection(*args, cfg)
    if picks.stopped_map == (args, cfg):
        st.info(f"You stopped the {cfg.spec.label} map; showing PCA.", icon=":material/stop_circle:")
        if st.button(f"Compute the {cfg.spec.label} map", key="restart_map"):
            picks.stopped_map = None
            st.rerun()
        return resources.projection(*args, pca)
    ready = resources.projection(*args, cfg, wait=1.5)
    if ready is not None:
        return ready
    st.info(f"Computing the {cfg.spec.label} map in the background (a first UMAP in a new "
            "process also compiles numba, up to a minute). Showing PCA meanwhile; the map switches "
            "by itself when it is ready, and is cached on disk for next time.",
            icon=":material/hourglass_top:")

    def remember_stop() -> None:
        picks.stopped_map = (args, cfg)

    job_panel.live_progress(resources.projection_jobs().submit(*args, cfg), "stop_map",
                            f"Stop the {cfg.spec.label} map", on_stop=remember_stop)
    return resources.projection(*args, pca)


@guarded
def explore_page() -> None:
    resources.warm_umap_in_background()
    opened = open_model(needs_decoder=False)
    if opened is None:
        return
    entry, mtime, ckpt, view = opened.entry, opened.mtime, opened.ckpt, opened.view
    cfg = projection_controls(ckpt.config.latent_dim, ckpt.config.posterior == "vmf")
    proj = compute_projection(entry, mtime, cfg)
    ctx = Context(entry, ckpt, view, proj, live_decode.live_source(entry, view.data, proj.config))
    restore_picks(len(view.z))
    restore_probe(proj.embedding)
    share_state(
        model=entry.path.name,
        method=cfg.method,
        dims=cfg.n_components,
        pseed=cfg.seed if cfg.spec.seeded else None,
    )

    st.title(f"{entry.path.name}")
    kind = "VAE" if ckpt.model.variational else "autoencoder"
    kind = kind if ckpt.model.has_decoder else "imported codes"
    caption = (
        f"{kind} · {ckpt.config.latent_dim}-D code · {len(view.z):,} {view.data.name} test items"
        f" · {cfg.spec.label} map"
    )
    st.caption(caption + (f" · {view.note}" if view.note else ""))
    overlays = overlay_controls(ctx)
    left, right = st.columns([3, 2], gap="medium")
    with left:
        map_panel(ctx, overlays, probe_label=isinstance(ctx.live, str))
    with right:
        if not ckpt.model.has_decoder:
            codes_only_panel(ctx)
            return
        live_decode.live_panel(ctx.live, target="map", scale=scale_for(view.data))
        # A shared link with endpoints opens on the decoded path it is about.
        linked_path = "a" in st.query_params and "b" in st.query_params
        inspect, interp, prior, sliders, grid = st.tabs(
            ["Inspect", "Interpolate", "Prior", "Sliders", "Grid"],
            default="Interpolate" if linked_path else None,
        )
        with inspect:
            inspect_panel(ctx)
        with interp:
            interpolation_panel(ctx)
        with prior:
            prior_panel(ctx, overlays)
        with sliders:
            sliders_panel(ctx)
        with grid:
            grid_panel(ctx)


def codes_only_panel(ctx: Context) -> None:
    """A folder of imported codes: what works, what needs a decoder, and the clicked item."""
    st.info(
        "This folder holds **codes only**, imported without a model: the map, colouring, "
        "neighbours, clustering scores, selection and exports work. Decoding (reconstructions, "
        "interpolation, prior samples, latent sliders, grids, clicks on empty space) needs a "
        "decoder: import the model's encoder and decoder with `python -m explorer import "
        "--encoder E.onnx --decoder D.onnx --data SOURCE --out DIR`.",
        icon=":material/info:",
    )
    item = picks.item
    if item is None:
        st.caption("Click a point on the map to see its item and code.")
        return
    show_items(ctx.data, ctx.view.x[item : item + 1].numpy(), [ctx.label(item)], key="inspect_items")
    code_caption(ctx, item)


def restore_picks(n: int) -> None:
    """Picked item and endpoints from a shared link, once per session; out-of-range ones
    (a link made for another model) are dropped."""
    for name in ("item", "a", "b"):
        if not picks.restored(name):
            value = query_value(name, int, None)
            setattr(picks, name, value if value is not None and 0 <= value < n else None)


def probe_extent(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The corners of the decodable area: the map's extent with a 15 % margin (the probe grid)."""
    lo, hi = emb.min(axis=0), emb.max(axis=0)
    pad = 0.15 * (hi - lo)
    return lo - pad, hi + pad


def restore_probe(emb: np.ndarray) -> None:
    """A decoded empty-space point from a shared link, once per session, clamped to the
    decodable area of the map (a hand-edited link cannot decode far outside it)."""
    if picks.restored("probe"):
        return
    point = query_value("probe", lambda text: [float(v) for v in text.split(",")], None)
    if point is None or len(point) != 2 or emb.shape[1] != 2 or not np.all(np.isfinite(point)):
        picks.probe = None
        return
    lo, hi = probe_extent(emb)
    picks.probe = tuple(float(v) for v in np.clip(point, lo, hi))


def overlay_controls(ctx: Context) -> Overlays:
    sidebar = st.sidebar
    options = ["label", "reconstruction error"] + [
        f"latent dim {k + 1}" for k in range(min(ctx.model.latent_dim, 16))
    ]
    if ctx.view.labels is None:
        options.remove("label")
    wanted = query_value("color", str, options[0], choices=options)
    color_by = sidebar.selectbox("Colour points by", options, index=options.index(wanted), key="color")
    spherical = ctx.model.cfg.posterior == "vmf"
    if isinstance(ctx.model, RBM):
        sidebar.markdown("**No prior to sample**")
        sidebar.caption(NO_RBM_PRIOR)
        share_state(color=color_by if color_by != options[0] else None, n=None, temp=None, seed=None,
                    show=None)
        return Overlays(color_by, False, False, False, 0, 1.0, 0)
    sidebar.markdown("**Prior: uniform on the sphere**" if spherical else "**Prior N(0, I)**")
    n_prior = sidebar.slider("samples", 4, 400, 4 * round(query_value("n", int, 64, lo=4, hi=400) / 4),
                             step=4, key="n_prior")
    temperature = sidebar.slider(
        "temperature", 0.1, 2.0, round(query_value("temp", float, 1.0, lo=0.1, hi=2.0), 1),
        step=0.1, key="temp",
        disabled=spherical, help="Spread of N(0, T² I). An S-VAE's uniform prior on the sphere has no scale."
        if spherical else "Spread of N(0, T² I): below 1 samples stay nearer the centre.",
    )
    prior_seed = int(
        sidebar.number_input("sample seed", 0, 1_000_000, query_value("seed", int, 0, lo=0, hi=1_000_000),
                             key="seed")
    )
    two_d = ctx.proj.embedding.shape[1] == 2
    shown = set(query_value("show", str, "").split(","))
    prior = sidebar.checkbox("show prior samples on the map", value="prior" in shown, key="show_prior")
    density = sidebar.checkbox(
        "density contours (data vs prior)", value="density" in shown, key="density", disabled=not two_d
    )
    can_spread = two_d and ctx.model.variational and ctx.proj.projector.linear_axes() is not None
    ellipses = sidebar.checkbox(
        "posterior spread (ellipses)",
        value="ellipses" in shown,
        key="ellipses",
        disabled=not can_spread,
        help="VAE only, on maps linear in the code (raw, PCA): each code's posterior standard deviation.",
    )
    on = [name for name, ticked in (("prior", prior), ("density", density), ("ellipses", ellipses))
          if ticked]
    share_state(n=n_prior, temp=temperature, seed=prior_seed,
                color=color_by if color_by != options[0] else None, show=",".join(on) or None)
    # A box ticked on a PCA map stays ticked, greyed, on a UMAP map: it must not draw there.
    return Overlays(color_by, prior, density and two_d, ellipses and can_spread, n_prior, temperature,
                    prior_seed)


def map_panel(ctx: Context, o: Overlays, probe_label: bool = True) -> None:
    # Consume the click before drawing: the figure shows the pick (ring, path), and a changed
    # figure is a new chart to Streamlit, whose selection would otherwise be lost.
    emb = ctx.proj.embedding
    handle_selection(st.session_state.get("map"), emb)
    labels = ctx.view.labels
    values, value_name = None, ""
    if o.color_by == "reconstruction error":
        values = resources.reconstruction_errors(
            str(ctx.entry.path), resources.stamp(ctx.entry.path), ctx.entry.display_data
        )
        value_name = "recon SSE"
    elif o.color_by.startswith("latent dim"):
        k = int(o.color_by.split()[-1]) - 1
        values, value_name = ctx.view.z[:, k], o.color_by
    # A 3-D map marks only the endpoints, not the inspected item: a changed 3-D figure is a
    # new WebGL scene to plotly: a 3-D click took 5.7 s to show its item with the ring, 1.3-1.6 s
    # without (headless Chromium, software WebGL). The Inspect tab shows the item itself.
    marked = ("a", "b") if emb.shape[1] == 3 else ("item", "a", "b")
    selected = [i for i in (getattr(picks, name) for name in marked) if i is not None]
    names = ctx.data.class_names if labels is not None else None
    fig = plots.latent_scatter(
        emb,
        labels=labels if o.color_by == "label" else None,
        label_names=names,
        values=values,
        value_name=value_name,
        selected=selected,
        axis_name=ctx.proj.config.method,
    )
    if ctx.proj.config.method == "hammer":
        fig = overlays.add_outline(fig, sphere.hammer_outline(), name="edge of the sphere")
    if emb.shape[1] == 2 and ctx.model.has_decoder:  # empty space is clicked to decode there
        lo, hi = probe_extent(emb)
        fig = plots.add_probe_grid(fig, (lo[0], hi[0]), (lo[1], hi[1]), label=probe_label)
    a, b = picks.a, picks.b
    if a is not None and b is not None:
        path = latent.interpolate(
            torch.from_numpy(ctx.view.z[a]),
            torch.from_numpy(ctx.view.z[b]),
            24,
            st.session_state.get("interp_method", latent.natural_path(ctx.model)),
        )
        fig = overlays.add_path(fig, ctx.proj.projector.transform(path.numpy()), name="interpolation")
    if o.prior:
        fig = overlays.add_points(
            fig, ctx.proj.projector.transform(prior_codes(ctx, o).numpy()), name="prior samples",
            symbol="x-thin", color="#b2182b", size=9, line_width=2,
        )
    if o.density:
        fig = overlays.add_density(fig, emb, name="data density", color="#1f77b4")
        prior_big = latent.prior_samples(ctx.model, 2000, o.temperature, o.prior_seed).numpy()
        fig = overlays.add_density(
            fig, ctx.proj.projector.transform(prior_big), name="prior density", color="#d62728"
        )
    if o.ellipses and ctx.view.logvar is not None:
        axes = ctx.proj.projector.linear_axes()
        fig = overlays.add_ellipses(fig, emb, spread_on_map(np.exp(0.5 * ctx.view.logvar), axes))
    probe = picks.probe
    if probe is not None and emb.shape[1] == 2:
        fig = overlays.add_points(fig, np.array([probe]), name="decoded here", symbol="star", size=16)
    event = st.plotly_chart(
        fig,
        on_select="rerun",
        selection_mode=("points",),
        key="map",
        width="stretch",
        config={"displaylogo": False, "scrollZoom": True},
    )
    map_events(ctx.data, [ctx.label(i) for i in range(len(emb))], target="map", key="map_events",
               on_pick=pick_item)
    handle_selection(event, emb)
    if not ctx.model.has_decoder:
        st.caption("Click a point to inspect it. Scroll to zoom, double-click to reset.")
    elif emb.shape[1] == 2:
        st.caption("Click a point to inspect it; click empty space to decode there. Scroll to zoom, "
                   "double-click to reset.")
    else:
        st.caption("Click a point to inspect it; drag to rotate, scroll to zoom. Decoding empty space "
                   "needs a 2-D map.")
    downloads(ctx, fig)


def handle_selection(event, emb: np.ndarray) -> None:
    points = selected_points(event)
    if not points:
        return
    point = points[-1]
    index = point_index(point)
    if index is None:
        return
    if index < 0:  # a probe point right beside a data point: the click was on the point
        lo, hi = probe_extent(emb)
        clicked = (float(point["x"]), float(point["y"]))
        item = plots.point_at_probe(emb, clicked, (lo[0], hi[0]), (lo[1], hi[1]))
        index = index if item is None else item
    marker = ("probe", point.get("x"), point.get("y")) if index < 0 else ("item", index)
    if picks.last_click == marker:
        return  # the same selection reported again on an unrelated rerun
    picks.last_click = marker
    if index < 0:
        picks.probe = (float(point["x"]), float(point["y"]))
    else:
        pick_item(index)


def pick_item(index: int) -> None:
    """A clicked item: inspect it, and make it endpoint A or B when the user asked so."""
    picks.item = index
    picks.probe = None
    target = st.session_state.get("click_sets", "inspect")
    if target in ("a", "b"):
        setattr(picks, target, index)


def downloads(ctx: Context, fig) -> None:
    z = ctx.view.z
    labels = ctx.view.labels
    cols = st.columns(3)
    cols[0].download_button("Codes (CSV)", csv_bytes({"z": z, "label": labels}),
                            f"{ctx.entry.path.name}-codes.csv", "text/csv")
    npz = npz_bytes({"z": z, "label": labels, "logvar": ctx.view.logvar, "projection": ctx.proj.embedding})
    cols[1].download_button("Codes (NPZ)", npz, f"{ctx.entry.path.name}-codes.npz")
    # Built on click only: with plotly.js inside (so it opens offline) it is 4.5 MB.
    cols[2].download_button(
        "Figure (HTML)", lambda: plots.figure_html(fig), f"{ctx.entry.path.name}-map.html", "text/html",
        on_click="ignore",
    )
