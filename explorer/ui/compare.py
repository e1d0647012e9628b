"""AE vs VAE side by side: the same data, the same paths, the same prior samples."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import streamlit as st
import torch

from explorer import latent
from explorer.apps.likelihood import LikelihoodReport, likelihood_report
from explorer.apps.regularity import BETTER, Rows, favours, path_steps, regularity_report
from explorer.apps.stretch import StretchGrid, plane_of, stretch_grid
from explorer.figures import charts, overlays, plots
from explorer.models import Autoencoder
from explorer.store.catalog import ModelEntry, list_models
from explorer.training.jobs import Report, stopping_report
from explorer.ui import job_panel, resources
from explorer.ui.model_picker import pick_model
from explorer.ui.widgets import guarded, query_value, share_state, show_strip

EXPLANATION = """
**Why a VAE's latent space is regular.** A plain autoencoder is only asked to reconstruct:
it may put each class wherever it likes, leave wide gaps between them, and stretch the space
arbitrarily. A VAE encodes each item as a *distribution* q(z | x) and pays a KL penalty for
straying from the prior N(0, I). Two things follow:

- **Continuity**: each code is blurred by its posterior noise during training, so nearby
  codes must decode to similar items. Paths between codes change smoothly.
- **Completeness**: the codes are packed around the origin with unit spread, so a random
  draw from N(0, I) lands near real encodings and decodes to something plausible.

The numbers below measure both on the test codes of each model.
"""


def regularity_work(chosen: list[ModelEntry], ckpts, views: list[resources.View],
                    judge_path: str) -> Callable[[Report, Callable[[], bool]], list[Rows]]:
    """Both models' regularity rows, as work for ``resources.shared_work``; the judge of
    samples is trained on the first model's data, once, as shared work of its own (a Stop
    here leaves it training: it is one fit of seconds, kept for the next visit). The models
    and data are read here, in the page's thread."""
    jobs, judge_mtime = resources.shared_work(), resources.stamp(Path(judge_path))
    judges = []
    for entry in chosen:
        data = resources.view(judge_path, judge_mtime, entry.display_data).data
        judges.append(None if data.y_train is None else
                      (resources.judge_key(judge_path, judge_mtime, entry.display_data),
                       resources.judge_work(data)))

    def work(report: Report, should_stop: Callable[[], bool]) -> list[Rows]:
        rows = []
        for i, (entry, ckpt, view, judge_job) in enumerate(zip(chosen, ckpts, views, judges)):
            judge = None
            if judge_job is not None:
                report(i / len(chosen), "training a classifier of real items to judge the samples")
                judge = jobs.wait_for(*judge_job, should_stop, name="the judge")
            report((i + 0.5) / len(chosen), f"measuring {entry.path.name}")
            rows.append(regularity_report(ckpt.model, view.z, view.logvar, judge=judge,
                                          labels=view.labels).as_rows())
        return rows

    return work


# The measures that decide which space is more regular, in order: does a prior draw decode to
# a real item, does the prior reach every class, do paths change evenly. The first that is not
# a tie leads the page's reading.
DECIDING = {
    "prior samples judged valid": "this share of prior draws decodes to an item a classifier is sure of",
    "prior samples' class mix off the data's": "the prior samples' classes are this far from the "
    "data's mix (0 when every class turns up as often as in the data)",
    "largest / mean step on paths": "decoded paths between codes change this evenly (1 is even)",
}


@st.cache_data(max_entries=8, show_spinner="Measuring the decoder's stretch…")
def stretch_grid_of(path: str, mtime: float, display: str) -> StretchGrid | None:
    ckpt = resources.model(path, mtime)
    proj = resources.projection(path, mtime, display, resources.overview_map(ckpt.config.latent_dim))
    plane = plane_of(proj.projector)
    return None if plane is None else stretch_grid(ckpt.model, plane, proj.embedding)


LIKELIHOOD_ITEMS = 1000  # K = 100 samples each: seconds for an MLP, ~30 s for the conv VAE
LIKELIHOOD_JOB = "cmp_nll_job"


def estimate_likelihoods(work: list[tuple[str, Autoencoder, torch.Tensor]],
                         report: Report) -> dict[str, LikelihoodReport]:
    """Each named model's likelihood report on its items, one after the other."""
    out = {}
    for i, (name, model, x) in enumerate(work):
        out[name] = likelihood_report(model, x, progress=lambda f, text, i=i, name=name: report(
            (i + f) / len(work), f"{name}: {text}"))
    return out


def likelihood_section(chosen: list[ModelEntry], ckpts, stamps) -> None:
    vaes = [(e, c, m) for e, c, m in zip(chosen, ckpts, stamps) if c.model.variational]
    if not vaes:
        return
    st.subheader("Likelihood")
    if not st.toggle(f"estimate each VAE's test log-likelihood (importance sampling, K = 100, the first "
                     f"{LIKELIHOOD_ITEMS:,} test items; seconds)", key="cmp_nll"):
        job_panel.discard(LIKELIHOOD_JOB)  # switched off: stop it; switched on again: a fresh run
        return
    # The models and items are read here, in the page's thread; the sampling runs as a job.
    work = []
    for e, c, m in vaes:
        x = resources.view(str(e.path), m, e.display_data).data.x_test
        work.append((e.path.name, c.model, x[:LIKELIHOOD_ITEMS]))
    key = ("likelihood", tuple((str(e.path), m, e.display_data) for e, _, m in vaes))
    if not job_panel.started_for(LIKELIHOOD_JOB, key) and not job_panel.running(LIKELIHOOD_JOB):
        job_panel.start(LIKELIHOOD_JOB, key, lambda report, should_stop: estimate_likelihoods(
            work, stopping_report(report, should_stop)))
    reports = job_panel.result(LIKELIHOOD_JOB, key, stop_label="Stop the estimate",
                               again="Switch the estimate off and on to start again.")
    if reports is None:
        return
    st.table({
        "model": list(reports),
        "−ELBO (nats)": [f"{r.neg_elbo:.2f}" for r in reports.values()],
        f"−log p(x), K = {next(iter(reports.values())).k} (nats)": [f"{r.nll:.2f}" for r in reports.values()],
        "ELBO gap": [f"{r.neg_elbo - r.nll:.2f}" for r in reports.values()],
        "active units": ["—" if r.n_active is None else f"{r.n_active} of {r.latent_dim}"
                         for r in reports.values()],
    })
    st.caption("The importance-weighted bound (Burda et al. 2016) is tighter than the ELBO, so it lies "
               "below it; the gap is how loose the ELBO is. A unit is active when its posterior mean "
               "varies over the data (variance > 0.01); inactive ones carry no information.")
    with_kl = {name: r.kl_per_dim for name, r in reports.items() if r.kl_per_dim is not None}
    if with_kl:
        st.plotly_chart(charts.kl_per_dimension(with_kl), key="cmp_kl", width="stretch")


def verdicts(chosen: list[ModelEntry], ckpts, rows: list[list[tuple[str, float, str]]]) -> None:
    """Say which model the numbers favour, leading with the measure that decides it, so the
    page never claims more than they show; and explain, for the pair on screen, where a
    plain AE holds its own."""
    names = [e.path.name for e in chosen]
    values = [{measure: value for measure, value, _ in model_rows} for model_rows in rows]
    won = favours(*rows)

    def pair(measure: str, winner: int) -> str:
        return f"{values[winner][measure]:.2f} vs {values[1 - winner][measure]:.2f}"

    deciding = next((m for m in DECIDING if won.get(m) is not None), None)
    if deciding is not None:
        st.markdown(f"**What decides it: {deciding}.** **{names[won[deciding]]}** wins, "
                    f"{pair(deciding, won[deciding])}: {DECIDING[deciding]}.")
    lines, ae_holds = [], []
    for measure, winner in won.items():
        if winner is None:
            lines.append(f"- {measure}: a tie ({values[0][measure]:.2f} vs {values[1][measure]:.2f})")
            continue
        lines.append(f"- {measure}: **{names[winner]}** ({pair(measure, winner)})")
        if not ckpts[winner].model.variational and ckpts[1 - winner].model.variational:
            ae_holds.append(measure)
    st.markdown("**Which model the numbers favour**\n" + "\n".join(lines))
    if ae_holds:
        st.info(ae_holds_note(ae_holds, max(c.config.latent_dim for c in ckpts)), icon=":material/lightbulb:")


def ae_holds_note(measures: list[str], latent_dim: int) -> str:
    """Why a plain AE wins some rows, for a pair of this code size."""
    held = ", ".join(measures)
    if latent_dim <= 3:
        return (f"The theory predicts the VAE wins every row; here the plain AE does better on {held}. "
                f"With a {latent_dim}-D code an MLP decoder often fills the gaps between clusters with "
                "plausible digits, and N(0, I) only visits the centre of an AE map that spreads far "
                "wider than the prior (compare the code variances): each sample may look fine, yet "
                "together they show only some classes (the class mix row). With more latent "
                "dimensions the difference is starker: compare mnist-ae-20d with mnist-vae-20d.")
    return (f"The plain AE does better on {held}. Those rows follow paths between real codes, which "
            f"stay where its decoder was trained; with a {latent_dim}-D code, what the prior decides "
            "(sampling) it loses, because its codes sit far from N(0, I) (compare the code variances) "
            "and most prior draws land where its decoder was never trained.")


# The rows that are shares in [0, 1], drawn side by side as bars.
SHARES = ("prior samples judged valid", "prior samples' class mix off the data's",
          "path midpoints judged valid")


def bar_label(measure: str) -> str:
    """A measure's name wrapped to fit under its bar group, with the direction that is better."""
    return "<br>".join(textwrap.wrap(measure, 16)) + (" ↑" if BETTER[measure] == "higher" else " ↓")


def default_pair(entries: list[ModelEntry]) -> tuple[str, str]:
    """The shipped 2-D MNIST pair, else an AE and a VAE trained on the same data with the
    same latent size, else the first two models."""
    names = {e.path.name for e in entries}
    if {"mnist-ae-2d", "mnist-vae-2d"} <= names:
        return "mnist-ae-2d", "mnist-vae-2d"
    for ae in (e for e in entries if not e.variational):
        for vae in (e for e in entries if e.variational):
            if (ae.data_name, ae.latent_dim) == (vae.data_name, vae.latent_dim):
                return ae.path.name, vae.path.name
    return entries[0].path.name, entries[1].path.name


def measured_section(chosen: list[ModelEntry], ckpts, views: list[resources.View], stamps: list[float],
                     a: int, b: int) -> None:
    st.subheader("Measured")
    key = ("regularity", tuple((str(e.path), m, e.display_data) for e, m in zip(chosen, stamps)),
           str(chosen[0].path))
    rows = job_panel.shared_result(resources.shared_work(), key,
                                   regularity_work(chosen, ckpts, views, str(chosen[0].path)),
                                   "measuring the two spaces", "Stop measuring")
    if rows is None:
        return
    readings = {measure: reading for model_rows in rows for measure, _, reading in model_rows}
    values = [{measure: value for measure, value, _ in model_rows} for model_rows in rows]
    st.table({
        "measure": list(readings),
        **{e.path.name: [f"{v[m]:.3f}" if m in v else "—" for m in readings] for e, v in zip(chosen, values)},
        "reading": list(readings.values()),
    })
    st.caption(
        "Judged valid: share that a "
        "small classifier of real items assigns to one class with at least 90 % confidence (prior "
        "samples; midpoints of 500 paths between random test codes). Class mix: total variation "
        "distance between the classes the judge gives the prior samples and the test items' "
        "classes (1 − the share the two mixes have in common). Largest / mean step: along "
        "20 random paths between test codes, the biggest change between consecutive decoded frames "
        "divided by the average change. There is no share of prior samples \"in holes\" (far from "
        "every code): in code space it counts dimensions a decoder ignores, and it called a 20-D AE "
        "whose samples decode to noise the more complete model."
    )
    verdicts(chosen, ckpts, rows)
    plots_left, plots_right = st.columns(2)
    plots_left.plotly_chart(
        charts.grouped_bars({e.path.name: {bar_label(r[0]): r[1] for r in model_rows if r[0] in SHARES}
                             for e, model_rows in zip(chosen, rows)},
                            "completeness and continuity<br>(↑ higher is better, ↓ lower)"),
        key="cmp_shares", width="stretch")
    plots_right.plotly_chart(
        charts.step_profiles({e.path.name: path_steps(c.model, v.z[a], v.z[b], 24)
                              for e, c, v in zip(chosen, ckpts, views)}, "the path A→B, frame by frame"),
        key="cmp_steps", width="stretch")


@guarded
def compare_page() -> None:
    st.title("AE vs VAE")
    entries = [e for e in list_models() if e.has_decoder]  # comparing decodes
    if len(entries) < 2:
        st.info("Comparing needs two models; train another on the Train page.")
        return
    left_default, right_default = default_pair(entries)
    cols = st.columns(2)
    chosen = [
        pick_model(entries, key=k, label=f"{k.title()} model", default=d, where=c)
        for k, d, c in (("left", left_default, cols[0]), ("right", right_default, cols[1]))
    ]
    share_state(left=chosen[0].path.name, right=chosen[1].path.name)
    stamps = [resources.stamp(e.path) for e in chosen]
    ckpts = [resources.model(str(e.path), m) for e, m in zip(chosen, stamps)]
    views = [resources.view(str(e.path), m, e.display_data) for e, m in zip(chosen, stamps)]
    if views[0].data.item_shape != views[1].data.item_shape:
        st.error(
            "These two models were trained on data of different shapes; pick two models of the same data."
        )
        return
    st.markdown(EXPLANATION)
    n = min(len(v.z) for v in views)
    labels = views[0].labels
    controls = st.columns(4)
    a = int(controls[0].number_input("path from item", 0, n - 1, query_value("a", int, 0, lo=0, hi=n - 1),
                                     key="cmp_a"))
    b = int(controls[1].number_input("to item", 0, n - 1,
                                     query_value("b", int, min(1, n - 1), lo=0, hi=n - 1), key="cmp_b"))
    temperature = controls[2].slider("prior temperature", 0.1, 2.0, 1.0, 0.1, key="cmp_temp")
    seed = int(controls[3].number_input("prior seed", 0, 1_000_000, 0, key="cmp_seed"))
    share_state(a=a, b=b)
    show_stretch = st.toggle(
        "shade where the decoder jumps", key="cmp_stretch",
        help="Under the points, the decoder's local stretch on the map's plane: dark where a small "
             "move changes the decoded image a lot, light where it barely changes (log scale).")
    columns = st.columns(2)
    for col, entry, ckpt, view, mtime in zip(columns, chosen, ckpts, views, stamps):
        with col:
            st.subheader(f"{entry.path.name} ({'VAE' if ckpt.model.variational else 'AE'})")
            cfg = resources.overview_map(ckpt.config.latent_dim)
            proj = resources.projection(str(entry.path), mtime, entry.display_data, cfg)
            prior = latent.prior_samples(ckpt.model, 200, temperature, seed)
            fig = plots.latent_scatter(
                proj.embedding,
                labels=labels,
                label_names=view.data.class_names,
                selected=[a, b],
                axis_name=cfg.method,
                height=420,
            )
            if show_stretch:
                grid = stretch_grid_of(str(entry.path), mtime, entry.display_data)
                if grid is None:
                    st.caption("This map is not a plane of the code space; no stretch to shade.")
                else:
                    fig = overlays.add_stretch(fig, grid.x, grid.y, grid.values)
            fig = overlays.add_points(fig, proj.projector.transform(prior.numpy()), name="prior samples",
                                  symbol="x-thin", color="#b2182b", size=7, line_width=1.5)
            z0, z1 = torch.from_numpy(view.z[a]), torch.from_numpy(view.z[b])
            path = latent.interpolate(z0, z1, 10, latent.natural_path(ckpt.model))
            fig = overlays.add_path(fig, proj.projector.transform(path.numpy()), name="path A→B")
            st.plotly_chart(fig, key=f"cmp_map_{entry.path.name}_{col is columns[0]}", width="stretch")
            show_strip(
                view.data,
                latent.decode(ckpt.model, path).numpy(),
                "the same path A→B",
                key=f"cmp_path_{col is columns[0]}",
            )
            show_strip(
                view.data,
                latent.decode(ckpt.model, prior[:32]).numpy(),
                "the same 32 prior samples",
                key=f"cmp_prior_{col is columns[0]}",
                ncols=8,
            )
    measured_section(chosen, ckpts, views, stamps, a, b)
    likelihood_section(chosen, ckpts, stamps)
