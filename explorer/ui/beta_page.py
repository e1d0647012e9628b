"""The beta scrubber: one 2-D VAE trained at several KL weights, its maps turned onto each
other, so that moving beta shows only what beta does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer import latent
from explorer.apps.beta_family import (
    BETA_FAMILY_DIR,
    FamilyMember,
    MemberReport,
    aligned_maps,
    read_family,
    read_family_report,
    reference_member,
    shown_data_config,
)
from explorer.data.sample import PRETRAINED_DIR
from explorer.figures import charts, overlays, plots, raster
from explorer.ui import resources
from explorer.ui.widgets import guarded, query_value, share_state, show_strip

FAMILY = PRETRAINED_DIR / BETA_FAMILY_DIR
N_PRIOR = 200  # drawn on the map; the first 32 are decoded
TRADES = "What beta trades"
EXPLANATION = """\
The same 784-256-2 MLP VAE, trained on the same MNIST images with the same seed for the same
20 epochs, at five weights **beta** on the KL term of its loss, reconstruction + beta · KL.
At beta 0 nothing pulls the codes toward the prior N(0, I): it is a plain autoencoder (with a
noisy code). Move beta and watch the codes pull into the prior's circles, the prior's draws
(×) land on digits, and the reconstructions pay for it. The maps are turned (rotated or
mirrored, never moved or scaled) onto the beta-1 map, so a class stays where it was."""


@st.cache_data(max_entries=4, show_spinner=False)
def family(path: str, mtime: float) -> tuple[list[FamilyMember], list[np.ndarray], list[np.ndarray],
                                             list[MemberReport] | None]:
    """From the files alone: configs, stored codes and stored measures, no weights."""
    members = read_family(path)
    aligned, rotations = aligned_maps(members)
    return members, aligned, rotations, read_family_report(path, members)


def family_stamp(folder: Path) -> float:
    return max((resources.stamp(p) for p in folder.iterdir() if p.is_dir()), default=0.0)


def circle(radius: float, n: int = 120) -> np.ndarray:
    angle = np.linspace(0, 2 * np.pi, n)
    return radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)


Bounds = tuple[float, float, float, float]  # x low, x high, y low, y high


def map_bounds(points: np.ndarray, prior: np.ndarray, extent: float | None) -> Bounds:
    """The map's axes: ``extent`` on both when given, else all codes, draws and the
    2-sd circle with a margin (a picture under the chart does not widen its axes itself)."""
    if extent is not None:
        return -extent, extent, -extent, extent
    shown = np.concatenate([points, prior, circle(2)])
    low, high = shown.min(axis=0), shown.max(axis=0)
    pad = 0.04 * (high - low)
    return low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1]


@st.cache_data(max_entries=16, show_spinner=False)
def codes_picture(points: np.ndarray, labels: np.ndarray | None, n_classes: int,
                  bounds: Bounds) -> raster.PointsPicture:
    colors = [plots.TRAIN_COLOR] * len(points) if labels is None else \
        [plots.class_color(int(k), n_classes) for k in labels]
    return raster.points_picture(points, colors, bounds[:2], bounds[2:])


def member_map(points: np.ndarray, prior: np.ndarray, data, extent: float | None) -> go.Figure:
    """All the stored codes as one picture (see ``explorer.figures.raster``: as SVG markers, 2,000
    of them took ~0.5 s of the page's opening), the prior's circles and draws as SVG on top."""
    labels = None if data.y_test is None else data.y_test.numpy()[:len(points)]
    n_classes = max(len(data.class_names or ()), 0 if labels is None else int(labels.max()) + 1)
    bounds = map_bounds(points, prior, extent)
    fig = plots.latent_scatter(points[:0], axis_name="z", height=520)  # the map's layout, no codes
    legend = () if labels is None else [(plots.label_name(int(k), data.class_names),
                                         plots.class_color(int(k), n_classes)) for k in np.unique(labels)]
    fig = raster.add_picture(fig, codes_picture(points, labels, n_classes, bounds), legend)
    for radius in (1, 2):
        fig = overlays.add_outline(fig, circle(radius), name=f"N(0, I): {radius} sd", color="#555555")
    fig = overlays.add_points(fig, prior, name="prior samples", symbol="x-thin", color="#111111", size=7,
                           line_width=1.5)
    return plots.as_svg(fig)


def measures_table(reports: list[MemberReport], current: float) -> dict[str, list[str]]:
    def number(value: float | None) -> str:
        return "—" if value is None else f"{value:.3g}"

    return {
        "beta": [f"▶ {r.beta:g}" if r.beta == current else f"{r.beta:g}" for r in reports],
        "reconstruction (nats)": [number(r.recon_nll) for r in reports],
        "reconstruction SSE": [number(r.recon_sse) for r in reports],
        "KL (nats)": [number(r.kl) for r in reports],
        "codes' spread vs N(0, I) (nats)": [number(r.prior_gap) for r in reports],
        "active units": [str(r.active_units) for r in reports],
        "prior samples judged valid": [number(r.regularity.prior_valid) for r in reports],
        "prior's class mix off the data's": [number(r.regularity.prior_class_gap) for r in reports],
        "path midpoints judged valid": [number(r.regularity.midpoint_valid) for r in reports],
        "largest / mean step": [number(r.regularity.path_jump) for r in reports],
    }


@guarded
def beta_page() -> None:
    st.title("Beta scrubber")
    st.markdown(EXPLANATION)
    if not FAMILY.is_dir():
        st.info(f"The beta family is not here ({FAMILY}). Rebuild it with "
                "`python scripts/build_pretrained.py --data-root PATH --only "
                f"{BETA_FAMILY_DIR}/...`.")
        return
    members, aligned, rotations, reports = family(str(FAMILY), family_stamp(FAMILY))
    betas = [m.beta for m in members]
    reference = betas[reference_member(members)]
    beta = st.select_slider("KL weight beta", options=betas, format_func=lambda b: f"{b:g}",
                            value=query_value("beta", float, reference, choices=betas), key="beta_pick")
    share_state(beta=f"{beta:g}")
    controls = st.columns([1, 1, 2])
    seed = int(controls[0].number_input("prior seed", 0, 1_000_000, 0, key="beta_seed"))
    same_axes = controls[1].toggle("same axes for every beta", value=False, key="beta_axes",
                                   help="On: every map on beta 0's wide axes, to compare spreads; "
                                        "off, each map fits its own codes and the prior's circles "
                                        "give the scale.")
    at = betas.index(beta)
    member = members[at]
    data = resources.dataset(shown_data_config(members))
    model = resources.model(str(member.folder), resources.stamp(member.folder)).model
    extent = float(max(np.quantile(np.abs(a), 0.995) for a in aligned)) * 1.05 if same_axes else None
    # Two views, the second lazy: drawing the trade-off chart and the table in the same pass
    # as the map held the map back by ~0.7 s in headless Chromium (2.2-2.8 s to open by URL).
    scrub, trades = st.tabs(["Scrub", TRADES], key="beta_view", bind="query-params")
    if scrub.open:
        with scrub:
            scrub_view(member, aligned[at], rotations[at], model, data, beta, reference, seed, extent,
                       None if reports is None else reports[at])
    if trades.open:
        with trades:
            trades_view(reports, betas, beta)


def scrub_view(member: FamilyMember, points: np.ndarray, rotation: np.ndarray, model, data, beta: float,
               reference: float, seed: int, extent: float | None, report: MemberReport | None) -> None:
    prior = latent.prior_samples(model, N_PRIOR, 1.0, seed)
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(member_map(points, prior.numpy() @ rotation, data, extent), key="beta_map",
                        width="stretch")
        st.caption(f"{len(member.codes):,} MNIST test images at beta {beta:g}, turned onto the "
                   f"beta-{reference:g} map. Grey circles: one and two standard deviations of "
                   f"N(0, I). ×: {N_PRIOR} draws from it (seed {seed}), the same draws at every beta.")
    with right:
        show_strip(data, latent.decode(model, prior[:32]).numpy(),
                   f"the first 32 of those prior draws, decoded at beta {beta:g}", key="beta_prior", ncols=8)
        if report is not None:
            first, second = st.columns(2)
            first.metric("class mix gap", f"{report.regularity.prior_class_gap:.2f}",
                         help="Total variation distance between the classes a classifier gives the "
                              "decoded prior draws and the data's classes: 0 when the prior reaches "
                              "every digit as often as the data has it (lower is better).")
            second.metric("reconstruction (nats)", f"{report.recon_nll:.1f}",
                          help="The loss's reconstruction term per image on the 10,000 test "
                               "images (lower is better).")
            st.caption(f"**{TRADES}** (the tab above): these and more, at every beta.")


def trades_view(reports: list[MemberReport] | None, betas: list[float], beta: float) -> None:
    if reports is None:
        st.info("This family has no stored measures: `python -m explorer beta FOLDER --measure --json` "
                "measures them.")
        return
    st.plotly_chart(charts.beta_tradeoff(betas, {
        "reconstruction, nats ↓": [r.recon_nll for r in reports],
        "codes' spread vs N(0, I) ↓": [r.prior_gap for r in reports],
        "prior's class mix off the data's ↓": [r.regularity.prior_class_gap for r in reports],
        "largest / mean step on paths ↓": [r.regularity.path_jump for r in reports],
    }, current=beta), key="beta_trade", width="stretch")
    st.table(measures_table(reports, beta))
    st.caption(
        "Reconstruction (the loss's Bernoulli term, one posterior draw), SSE and KL: per image on "
        "the 10,000 MNIST test images. Codes' spread vs "
        "N(0, I): the KL from a Gaussian with the codes' overall mean and covariance (each code's "
        "own posterior spread included) to N(0, I), 0 when the codes as a whole are spread like "
        "the prior. Active units: dimensions whose code varies over the data (Burda et al.). "
        "Judged valid: share of decoded items a small classifier of MNIST is at least 90 % sure of. "
        "Measured on the shipped 4,000-image test sample when the family was built.")
