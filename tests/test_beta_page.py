"""The Beta scrubber page through AppTest, on the shipped family."""

from __future__ import annotations

import numpy as np
from app_support import figure, no_errors, page

from explorer.apps.beta_family import BETA_FAMILY_DIR, aligned_maps, read_family
from explorer.data.sample import PRETRAINED_DIR
from explorer.figures.raster import LONG_SIDE_PX, RADIUS_SHARE, PointsPicture, picture_pixels
from explorer.ui.beta_page import TRADES

BETA = "from explorer.ui.beta_page import beta_page\nbeta_page()\n"
TIMELINE = "from explorer.ui.timeline_page import timeline_page\ntimeline_page()\n"


def _drawn_points(fig) -> np.ndarray:
    """The data coordinates of the map picture's painted pixels."""
    (image,) = fig.layout.images
    pixels = picture_pixels(PointsPicture(image.source, (image.x, image.x + image.sizex),
                                          (image.y - image.sizey, image.y)))
    rows, cols = np.nonzero(pixels[..., 3])
    per_unit = pixels.shape[1] / image.sizex
    return np.column_stack([image.x + (cols + 0.5) / per_unit, image.y - (rows + 0.5) / per_unit])


def _reach(fig, codes: np.ndarray) -> None:
    """The picture's painted pixels reach as far as the codes, give or take a disc's radius
    (and two pixels: a disc's edge pixels and the pixel grid)."""
    image = fig.layout.images[0]
    pixel = max(image.sizex, image.sizey) / LONG_SIDE_PX
    radius = RADIUS_SHARE * LONG_SIDE_PX * pixel + 2 * pixel
    drawn = _drawn_points(fig)
    assert np.abs(np.abs(drawn).max(axis=0) - np.abs(codes).max(axis=0)).max() < radius
    # and no further than any code: every painted pixel lies within a radius of one
    nearest = np.min(np.linalg.norm(drawn[::50, None] - codes[None], axis=2), axis=1)
    assert nearest.max() < radius


def test_the_page_opens_on_beta_one_and_scrubs_to_beta_four(env):
    members = read_family(PRETRAINED_DIR / BETA_FAMILY_DIR)
    aligned, _ = aligned_maps(members)
    at = page(BETA)
    no_errors(at)
    assert at.select_slider(key="beta_pick").value == 1.0
    fig = figure(at)
    names = {t.name for t in fig.data}
    assert {"N(0, I): 1 sd", "N(0, I): 2 sd", "prior samples"} <= names
    assert {str(c) for c in range(10)} <= names  # the classes' colours in the legend
    _reach(fig, aligned[3])
    spread_at_one = np.abs(_drawn_points(fig)).max()
    assert len(at.get("plotly_chart")) == 1  # what beta trades waits in its own tab

    at.select_slider(key="beta_pick").set_value(4.0).run()
    no_errors(at)
    _reach(figure(at), aligned[4])
    assert np.abs(_drawn_points(figure(at))).max() < spread_at_one  # beta 4 pulls the codes in
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
