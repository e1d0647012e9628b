"""The Beta scrubber page through AppTest, on the shipped family."""

from __future__ import annotations

import numpy as np
from app_support import axis_values, figure, n_points, no_errors, page

from explorer.beta_family import BETA_FAMILY_DIR, aligned_maps, read_family
from explorer.data.sample import PRETRAINED_DIR
from explorer.ui.beta_page import N_SHOWN, TRADES

BETA = "from explorer.ui.beta_page import beta_page\nbeta_page()\n"
TIMELINE = "from explorer.ui.timeline_page import timeline_page\ntimeline_page()\n"


def _class_points(fig) -> np.ndarray:
    traces = [t for t in fig.data if t.name in {str(c) for c in range(10)}]
    assert sum(n_points(t) for t in traces) == N_SHOWN
    return np.concatenate([np.column_stack([axis_values(t.x), axis_values(t.y)]) for t in traces])


def test_the_page_opens_on_beta_one_and_scrubs_to_beta_four(env):
    members = read_family(PRETRAINED_DIR / BETA_FAMILY_DIR)
    aligned, _ = aligned_maps(members)
    at = page(BETA)
    no_errors(at)
    assert at.select_slider(key="beta_pick").value == 1.0
    fig = figure(at)
    names = {t.name for t in fig.data}
    assert {"N(0, I): 1 sd", "N(0, I): 2 sd", "prior samples"} <= names
    shown = _class_points(fig)
    spread_at_one = np.abs(shown).max()
    np.testing.assert_allclose(np.abs(shown).max(), np.abs(aligned[3][:N_SHOWN]).max(), rtol=1e-4)
    assert len(at.get("plotly_chart")) == 1  # what beta trades waits in its own tab

    at.select_slider(key="beta_pick").set_value(4.0).run()
    no_errors(at)
    shown = _class_points(figure(at))
    np.testing.assert_allclose(np.abs(shown).max(), np.abs(aligned[4][:N_SHOWN]).max(), rtol=1e-4)
    assert np.abs(shown).max() < spread_at_one  # beta 4 pulls the codes in
    assert at.query_params["beta"] == "4"


def test_the_trades_tab_marks_the_current_beta(env):
    at = page(BETA, beta="4", beta_view=TRADES)
    no_errors(at)
    assert len(at.get("plotly_chart")) == 1 and not any(t.name == "prior samples" for t in figure(at).data)
    assert "▶ 4" in at.table[0].value["beta"].tolist()


def test_a_link_opens_the_member_it_names(env):
    at = page(BETA, beta="0")
    no_errors(at)
    assert at.select_slider(key="beta_pick").value == 0.0
    assert any("beta 0" in c for image in at.get("image") for c in image.captions)


def test_the_timeline_page_lists_the_family_runs(env):
    at = page(TIMELINE, model="mnist-vae-2d-beta-4")
    no_errors(at)
    options = at.sidebar.selectbox(key="pick_model").options
    assert {f"mnist-vae-2d-beta-{b}" for b in ("0", "0.1", "0.5", "1", "4")} <= set(options)
    assert at.sidebar.selectbox(key="pick_model").value == "mnist-vae-2d-beta-4"
    assert len(figure(at).frames) == 21  # the untrained encoder and 20 epochs
