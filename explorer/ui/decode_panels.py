"""The Explore page's decoding panels beside the map: inspect an item, interpolate between
two, sample the prior, move each latent dimension, decode a grid over the plane."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from explorer import latent
from explorer.apps import likelihood
from explorer.figures import render
from explorer.figures.live_map import trust_level
from explorer.models.rbm import RBM
from explorer.projection import sphere
from explorer.ui import live_decode, resources
from explorer.ui.explore_context import NO_RBM_PRIOR, Context, Overlays, prior_codes
from explorer.ui.explore_state import picks
from explorer.ui.widgets import (
    query_value,
    scale_for,
    share_state,
    show_items,
    show_strip,
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
    probe = picks.probe
    share_state(probe=None if probe is None else f"{probe[0]:.4g},{probe[1]:.4g}")
    if probe is not None:
        decode_here(ctx, np.asarray(probe, dtype=np.float64))
        return
    item = picks.item
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
        picks.probe = None
        st.rerun()


def _sync_endpoint(name: str) -> None:
    value = st.session_state.get(f"input_{name}")
    setattr(picks, name, None if value is None else int(value))


def _endpoint_controls(ctx: Context) -> None:
    n = len(ctx.view.z)
    labels = ctx.view.labels
    cols = st.columns(2)
    for col, name in zip(cols, ("a", "b")):
        with col:
            current = getattr(picks, name)
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
                    setattr(picks, name, int(rng.choice(np.flatnonzero(labels == cls))))
                    st.rerun()


def interpolation_panel(ctx: Context) -> None:
    _endpoint_controls(ctx)
    a, b = picks.a, picks.b
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
    item = picks.item
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
