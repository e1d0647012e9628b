"""The Explore page: the latent map, and decoding anything on it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from explorer import latent, likelihood, plots, render, sphere
from explorer.catalog import ModelEntry
from explorer.checkpoint import Checkpoint
from explorer.io import csv_bytes, npz_bytes
from explorer.live_map import trust_level
from explorer.models.rbm import RBM
from explorer.projection import METHODS, Projection, ProjectionConfig, spread_on_map
from explorer.ui import live_decode, resources
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
    show_strip,
)

# An RBM's code is its hidden units' probabilities, in [0, 1]: N(0, I) draws would decode
# values it never produces, and its own samples need Gibbs sampling, which this page lacks.
NO_RBM_PRIOR = ("An RBM has no N(0, I) prior: its code is the hidden units' probabilities, each "
                "between 0 and 1, and its own samples come from Gibbs sampling, not from one draw.")


@dataclass(frozen=True)
class Context:
    """Everything the panels need about the open model and its map."""

    entry: ModelEntry
    ckpt: Checkpoint
    view: resources.View
    proj: Projection
    live: live_decode.LiveSource | str  # what decodes in the page, or why nothing does

    @property
    def model(self):
        return self.ckpt.model

    @property
    def data(self):
        return self.view.data

    def label(self, i: int) -> str:
        labels = self.view.labels
        return f"#{i}" if labels is None else f"#{i} · {self.data.label_name(int(labels[i]))}"


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
    """The requested projection, or PCA while a slow one is computed in the background."""
    args = (str(entry.path), mtime, entry.display_data)
    if not cfg.spec.slow:
        with st.spinner("Projecting…"):
            return resources.projection(*args, cfg)
    ready = resources.projection(*args, cfg, wait=1.5)
    if ready is not None:
        return ready
    st.info(f"Computing the {cfg.spec.label} map in the background (a first UMAP in a new "
            "process also compiles numba, up to a minute). Showing PCA meanwhile; the map switches "
            "by itself when it is ready, and is cached on disk for next time.",
            icon=":material/hourglass_top:")
    wait_for_projection(args, cfg)
    return resources.projection(*args, ProjectionConfig(method="pca", n_components=cfg.n_components))


@st.fragment(run_every=1.0)
def wait_for_projection(args: tuple, cfg: ProjectionConfig) -> None:
    if resources.projection(*args, cfg, wait=0) is not None:
        st.rerun()


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
    item = st.session_state.get("item")
    if item is None:
        st.caption("Click a point on the map to see its item and code.")
        return
    show_items(ctx.data, ctx.view.x[item : item + 1].numpy(), [ctx.label(item)], key="inspect_items")
    code_caption(ctx, item)


def restore_picks(n: int) -> None:
    """Picked item and endpoints from a shared link, once per session; out-of-range ones
    (a link made for another model) are dropped."""
    for name in ("item", "a", "b"):
        if name not in st.session_state:
            value = query_value(name, int, None)
            st.session_state[name] = value if value is not None and 0 <= value < n else None


def probe_extent(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The corners of the decodable area: the map's extent with a 15 % margin (the probe grid)."""
    lo, hi = emb.min(axis=0), emb.max(axis=0)
    pad = 0.15 * (hi - lo)
    return lo - pad, hi + pad


def restore_probe(emb: np.ndarray) -> None:
    """A decoded empty-space point from a shared link, once per session, clamped to the
    decodable area of the map (a hand-edited link cannot decode far outside it)."""
    if "probe" in st.session_state:
        return
    point = query_value("probe", lambda text: [float(v) for v in text.split(",")], None)
    if point is None or len(point) != 2 or emb.shape[1] != 2 or not np.all(np.isfinite(point)):
        st.session_state["probe"] = None
        return
    lo, hi = probe_extent(emb)
    st.session_state["probe"] = tuple(float(v) for v in np.clip(point, lo, hi))


@dataclass(frozen=True)
class Overlays:
    color_by: str
    prior: bool
    density: bool
    ellipses: bool
    n_prior: int
    temperature: float
    prior_seed: int


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


def prior_codes(ctx: Context, o: Overlays) -> torch.Tensor:
    return latent.prior_samples(ctx.model, o.n_prior, o.temperature, o.prior_seed)


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
    picks = ("a", "b") if emb.shape[1] == 3 else ("item", "a", "b")
    selected = [i for i in (st.session_state.get(name) for name in picks) if i is not None]
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
        fig = plots.add_outline(fig, sphere.hammer_outline(), name="edge of the sphere")
    if emb.shape[1] == 2 and ctx.model.has_decoder:  # empty space is clicked to decode there
        lo, hi = probe_extent(emb)
        fig = plots.add_probe_grid(fig, (lo[0], hi[0]), (lo[1], hi[1]), label=probe_label)
    a, b = st.session_state.get("a"), st.session_state.get("b")
    if a is not None and b is not None:
        path = latent.interpolate(
            torch.from_numpy(ctx.view.z[a]),
            torch.from_numpy(ctx.view.z[b]),
            24,
            st.session_state.get("interp_method", latent.natural_path(ctx.model)),
        )
        fig = plots.add_path(fig, ctx.proj.projector.transform(path.numpy()), name="interpolation")
    if o.prior:
        fig = plots.add_points(
            fig, ctx.proj.projector.transform(prior_codes(ctx, o).numpy()), name="prior samples",
            symbol="x-thin", color="#b2182b", size=9, line_width=2,
        )
    if o.density:
        fig = plots.add_density(fig, emb, name="data density", color="#1f77b4")
        prior_big = latent.prior_samples(ctx.model, 2000, o.temperature, o.prior_seed).numpy()
        fig = plots.add_density(
            fig, ctx.proj.projector.transform(prior_big), name="prior density", color="#d62728"
        )
    if o.ellipses and ctx.view.logvar is not None:
        axes = ctx.proj.projector.linear_axes()
        fig = plots.add_ellipses(fig, emb, spread_on_map(np.exp(0.5 * ctx.view.logvar), axes))
    probe = st.session_state.get("probe")
    if probe is not None and emb.shape[1] == 2:
        fig = plots.add_points(fig, np.array([probe]), name="decoded here", symbol="star", size=16)
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
    if st.session_state.get("last_click") == marker:
        return  # the same selection reported again on an unrelated rerun
    st.session_state["last_click"] = marker
    if index < 0:
        st.session_state["probe"] = (float(point["x"]), float(point["y"]))
    else:
        pick_item(index)


def pick_item(index: int) -> None:
    """A clicked item: inspect it, and make it endpoint A or B when the user asked so."""
    st.session_state["item"] = index
    st.session_state["probe"] = None
    target = st.session_state.get("click_sets", "inspect")
    if target in ("a", "b"):
        st.session_state[target] = index


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


@st.fragment
def inspect_panel(ctx: Context) -> None:
    st.radio(
        "A click on a point…",
        ["inspect", "a", "b"],
        horizontal=True,
        key="click_sets",
        format_func={"inspect": "inspects it", "a": "sets endpoint A", "b": "sets endpoint B"}.get,
    )
    probe = st.session_state.get("probe")
    share_state(probe=None if probe is None else f"{probe[0]:.4g},{probe[1]:.4g}")
    if probe is not None:
        decode_here(ctx, np.asarray(probe, dtype=np.float64))
        return
    item = st.session_state.get("item")
    if item is None:
        st.info(
            "Click a point on the map to see the item beside its reconstruction, or click empty "
            "space to decode there."
        )
        return
    x = ctx.view.x[item : item + 1]
    recon = latent.decode(ctx.model, torch.from_numpy(ctx.view.z[item : item + 1]))
    err = float((recon - x).pow(2).sum())
    show_items(
        ctx.data,
        np.concatenate([x.numpy(), recon.numpy()]),
        [ctx.label(item), f"reconstruction (SSE {err:.2f})"],
        key="inspect_items",
    )
    code_caption(ctx, item)


def code_caption(ctx: Context, item: int) -> None:
    """The picked item's code (its first 8 numbers) under its images; the pick goes in the link."""
    code = ", ".join(f"{v:+.2f}" for v in ctx.view.z[item][:8])
    st.caption(f"code: [{code}{', …' if ctx.view.z.shape[1] > 8 else ''}]")
    share_state(item=item)


def decode_here(ctx: Context, point: np.ndarray) -> None:
    proj = ctx.proj
    inverse = resources.click_inverse(str(ctx.entry.path), resources.stamp(ctx.entry.path),
                                      ctx.entry.display_data, proj.config)
    code = inverse.inverse_transform(point[None])
    image = latent.decode(ctx.model, torch.from_numpy(code.astype(np.float32)))
    trust = resources.trust_index(str(ctx.entry.path), resources.stamp(ctx.entry.path),
                                  ctx.entry.display_data, proj.config).query(point[None])
    distance, inside = float(trust.distance[0]), bool(trust.inside_hull[0])
    off_sphere = proj.config.method == "hammer" and not bool(sphere.on_hammer_map(point[None])[0])
    level = trust_level(distance, inside, off_sphere)
    show_items(ctx.data, image.numpy(), [f"decoded at ({point[0]:.2f}, {point[1]:.2f})"], key="probe_item")
    color = {"good": "green", "doubtful": "orange", "poor": "red"}[level]
    st.markdown(
        f":{color}-badge[Trust: {level}] {distance:.1f}× the typical spacing from the nearest "
        f"encoding, {'inside' if inside else 'outside'} the data's hull."
    )
    st.caption("Outside the sphere's map: this decodes the nearest point on its edge, not the spot "
               "clicked." if off_sphere else inverse.inverse_note)
    if st.button("Clear", key="clear_probe"):
        st.session_state["probe"] = None
        st.rerun()


def _sync_endpoint(name: str) -> None:
    value = st.session_state.get(f"input_{name}")
    st.session_state[name] = None if value is None else int(value)


def _endpoint_controls(ctx: Context) -> None:
    n = len(ctx.view.z)
    labels = ctx.view.labels
    cols = st.columns(2)
    for col, name in zip(cols, ("a", "b")):
        with col:
            current = st.session_state.get(name)
            # A number_input keeps its own state once it exists: mirror clicks into it, and
            # typed values back out through on_change (before the map redraws).
            if st.session_state.get(f"input_{name}") != current:
                st.session_state[f"input_{name}"] = current
            st.number_input(f"endpoint {name.upper()} (index)", 0, n - 1, value=None,
                            placeholder="click or type", key=f"input_{name}",
                            on_change=_sync_endpoint, args=(name,))
            if labels is not None:
                cls = st.selectbox(
                    f"or a random {name.upper()} of class",
                    ["—"] + list(np.unique(labels)),
                    key=f"class_{name}",
                    format_func=lambda c: c if c == "—" else ctx.data.label_name(int(c)),
                )
                if cls != "—" and st.button(f"draw {name.upper()}", key=f"draw_{name}"):
                    rng = np.random.default_rng()
                    st.session_state[name] = int(rng.choice(np.flatnonzero(labels == cls)))
                    st.rerun()


def interpolation_panel(ctx: Context) -> None:
    _endpoint_controls(ctx)
    a, b = st.session_state.get("a"), st.session_state.get("b")
    if a is None or b is None:
        st.info(
            "Choose endpoints A and B: set “A click on a point…” in Inspect to “sets endpoint A”, "
            "then click, or type indices above."
        )
        return
    share_state(a=a, b=b)
    # An S-VAE's decoder only saw codes on the sphere, which a straight line leaves.
    paths = sorted(["linear", "spherical"], key=lambda p: p != latent.natural_path(ctx.model))
    wanted = query_value("path", str, paths[0], choices=paths)
    method = st.radio("path", paths, index=paths.index(wanted), horizontal=True, key="interp_method")
    share_state(path=method if method != paths[0] else None)
    path_frames(ctx, a, b, method)


def path_gif(ctx: Context, a: int, b: int, method: str) -> bytes:
    """24 frames A to B, built only when the user downloads them (not on every move of t)."""
    z0, z1 = torch.from_numpy(ctx.view.z[a]), torch.from_numpy(ctx.view.z[b])
    movie = latent.decode(ctx.model, latent.interpolate(z0, z1, 24, method)).numpy()
    return render.to_gif(ctx.data.to_display(movie))


@st.fragment
def path_frames(ctx: Context, a: int, b: int, method: str) -> None:
    z0, z1 = torch.from_numpy(ctx.view.z[a]), torch.from_numpy(ctx.view.z[b])
    with st.container(key="interp_live"):
        t = st.slider("t", 0.0, 1.0, round(query_value("t", float, 0.5, lo=0.0, hi=1.0), 2), step=0.01,
                      key="t")
        step = latent.lerp if method == "linear" else latent.slerp
        frame = latent.decode(ctx.model, step(z0, z1, torch.tensor([t])))
        show_items(
            ctx.data,
            np.concatenate([ctx.view.x[a : a + 1].numpy(), frame.numpy(), ctx.view.x[b : b + 1].numpy()]),
            [f"A {ctx.label(a)}", f"t = {t:.2f}", f"B {ctx.label(b)}"],
            key="interp_items",
        )
        if not isinstance(ctx.live, str):  # the frame follows a drag of t in the page
            live_decode.follow_sliders(ctx.live, "interp_live", ["t"],
                                       {"kind": "path", "za": ctx.view.z[a].tolist(),
                                        "zb": ctx.view.z[b].tolist(), "path": method},
                                       caption="t = ", scale=scale_for(ctx.data))
    frames = latent.decode(ctx.model, latent.interpolate(z0, z1, 10, method)).numpy()
    png = show_strip(ctx.data, frames, "10 frames from A to B", key="interp_strip")
    share_state(t=t)
    if ctx.data.kind == "image":
        cols = st.columns(2)
        cols[0].download_button("Frames (PNG)", png, "interpolation.png", "image/png")
        cols[1].download_button(
            "Animation (GIF)", lambda: path_gif(ctx, a, b, method), "interpolation.gif", "image/gif",
            on_click="ignore",
        )


def prior_panel(ctx: Context, o: Overlays) -> None:
    if isinstance(ctx.model, RBM):
        st.info(NO_RBM_PRIOR)
        return
    z = prior_codes(ctx, o)
    decoded = latent.decode(ctx.model, z).numpy()
    ncols = int(np.ceil(np.sqrt(len(decoded))))
    png = show_strip(
        ctx.data,
        decoded,
        (f"{len(decoded)} samples uniform on the sphere" if ctx.model.cfg.posterior == "vmf"
         else f"{len(decoded)} samples from N(0, {o.temperature:g}² I)") + f", seed {o.prior_seed}",
        key="prior_strip",
        ncols=ncols,
    )
    if png is not None:
        st.download_button("Samples (PNG)", png, "prior-samples.png", "image/png")
    if not ctx.model.variational:
        st.warning(
            "A plain autoencoder's codes are not trained to follow N(0, I): many prior samples "
            "land in empty regions of its latent space and decode to blurs or non-digits. "
            "Tick “show prior samples on the map” to see where they fall."
        )


def slider_dims(ctx: Context, k: int) -> tuple[list[int], list[int]]:
    """The ``k`` dimensions that get sliders, in order, and which of them are inactive: for a
    Gaussian VAE the active units first, by falling KL (inactive ones would move nothing),
    else the first ``k``."""
    if ctx.view.logvar is None or ctx.ckpt.config.posterior != "gaussian":
        return list(range(k)), []
    usage = likelihood.usage_of_posteriors(ctx.view.z, ctx.view.logvar)
    dims = [int(d) for d in usage.order()[:k]]
    return dims, [d for d in dims if not usage.active[d]]


@st.fragment
def sliders_panel(ctx: Context) -> None:
    item = st.session_state.get("item")
    base = ctx.view.z[item] if item is not None else np.zeros(ctx.model.latent_dim, dtype=np.float32)
    st.caption(
        f"Starting from {ctx.label(item) if item is not None else 'the origin'}; "
        "click a point to start from its code."
    )
    k = min(ctx.model.latent_dim, 8)
    dims, inactive = slider_dims(ctx, k)
    if k < ctx.model.latent_dim:
        chosen = "the first" if dims == list(range(k)) else "the most used"
        st.caption(f"Sliders for {chosen} {k} of {ctx.model.latent_dim} dimensions (the others keep the "
                   "starting code's values); the traversal below reaches every dimension.")
    if inactive:
        st.caption(f"{', '.join(f'z{d + 1}' for d in inactive)}: inactive (the encoder barely uses "
                   "them, so moving them changes little); shown last.")
    spread = np.abs(ctx.view.z).max(axis=0) * 1.2 + 1e-3
    shared = query_value("z", lambda text: [float(v) for v in text.split(",")], None)
    start = base.copy()
    if shared is not None and len(shared) == k:  # a shared link's slider positions
        start[dims] = np.clip(shared, -spread[dims], spread[dims])
    code = base.copy()
    with st.container(key="dims_live"):
        cols = st.columns(2)
        for i, d in enumerate(dims):
            with cols[i % 2]:
                code[d] = st.slider(
                    f"z{d + 1}",
                    float(-spread[d]),
                    float(spread[d]),
                    float(start[d]),
                    key=f"z{d}_{item}",
                    format="%.2f",
                )
        show_items(
            ctx.data,
            latent.decode(ctx.model, torch.from_numpy(code[None])).numpy(),
            ["decoded"],
            key="slider_item",
        )
        if not isinstance(ctx.live, str):  # the image follows a drag of any z slider in the page
            live_decode.follow_sliders(ctx.live, "dims_live", [f"z{d + 1}" for d in dims],
                                       {"kind": "dims", "base": base.tolist(), "dims": dims},
                                       caption="decoded", scale=scale_for(ctx.data))
    moved = not np.allclose(code[dims], base[dims])
    share_state(z=",".join(f"{v:.3f}" for v in code[dims]) if moved else None)
    dim = st.selectbox(
        "traverse dimension",
        list(range(ctx.model.latent_dim)),
        key="traverse",
        format_func=lambda d: f"z{d + 1}",
    )
    values = torch.linspace(-float(spread[dim]), float(spread[dim]), 11)
    strip = latent.decode(ctx.model, latent.traversal(torch.from_numpy(code), dim, values)).numpy()
    show_strip(ctx.data, strip, f"z{dim + 1} from {values[0]:.1f} to {values[-1]:.1f}", key="traverse_strip")


@st.fragment
def grid_panel(ctx: Context) -> None:
    emb = ctx.proj.embedding
    if emb.shape[1] != 2 or not ctx.proj.projector.inverse_is_exact:
        st.info("The decoded grid needs a 2-D map with an exact inverse: a 2-D latent (raw) or PCA.")
        return
    if ctx.data.kind != "image":
        st.info("The decoded grid is drawn for image data.")
        return
    steps = st.slider("grid size", 5, 20, 15, key="grid_steps",
                      help="At most 20×20, so each decoded tile stays big enough to read in this panel.")
    lo, hi = emb.min(axis=0), emb.max(axis=0)
    points = latent.grid_2d((float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1])), steps).numpy()
    codes = ctx.proj.projector.inverse_transform(points).astype(np.float32)
    decoded = latent.decode(ctx.model, torch.from_numpy(codes)).numpy()
    png = show_strip(
        ctx.data,
        decoded,
        f"{steps}×{steps} decodes over the map's extent (top-left = min x, max y)",
        key="grid_strip",
        ncols=steps,
    )
    st.download_button("Grid (PNG)", png, "decoded-grid.png", "image/png")
