"""The insight lab's pages in headless Chromium: the interpolation lab and the training
timeline, whose epoch slider runs in the browser (Plotly frames), the Beta scrubber, and
long work in the background with Stop (the Anomalies page)."""

from __future__ import annotations

import re

import browser_support as bs
import pytest
from playwright.sync_api import expect

from explorer.cli import main as cli

pytestmark = pytest.mark.browser

JS_TIMELINE = """() => { const gd = document.querySelector('.js-plotly-plot');
  return {active: gd.layout.sliders[0].active, title: gd.layout.title.text,
          x: Array.from(gd._fullData[0].x).slice(0, 3)}; }"""


def assert_no_errors(page) -> None:
    assert not bs.error_boxes(page), bs.error_boxes(page)
    assert not page.errors, page.errors


def test_interpolation_lab_draws_the_three_paths_and_their_measures(page, app_url, screenshot_dir):
    bs.open_app(page, app_url, "interpolation", model="digits-ae-2d", a="3", b="40")
    expect(page.get_by_text("Along the paths")).to_be_visible(timeout=90_000)
    bs.wait_until_idle(page, settle_ms=1000)
    expect(page.locator(".js-plotly-plot")).to_have_count(4)  # the map and three measures
    assert page.locator(".js-plotly-plot").first.locator(".legendtext").filter(
        has_text="data-following").count() == 1
    assert_no_errors(page)
    page.screenshot(path=screenshot_dir / "13-interpolation-lab.png", full_page=True)


def test_timeline_slider_moves_the_map_to_the_epoch_picked(page, app_url, browser_runs, screenshot_dir):
    out = browser_runs / "digits-ae-2d-timeline"
    if not out.exists():
        assert cli(["train", "--data", "digits", "--model", "ae", "--latent-dim", "2", "--epochs", "4",
                    "--out", str(out), "--timeline", "--quiet"]) == 0
    bs.open_app(page, app_url, "timeline", model=out.name)
    expect(page.get_by_text("training loss").first).to_be_visible(timeout=90_000)
    bs.wait_until_idle(page, settle_ms=1000)
    final = page.evaluate(JS_TIMELINE)
    assert final["active"] == 4 and "epoch 4 · training loss" in final["title"]
    tick = page.locator(".slider-container .slider-label-group").nth(1).bounding_box()
    page.mouse.click(tick["x"] + tick["width"] / 2, tick["y"] - 12)  # on the rail above "1"
    page.wait_for_timeout(800)
    first = page.evaluate(JS_TIMELINE)
    assert first["active"] == 1 and "epoch 1 · training loss" in first["title"]
    assert len(first["x"]) == 3 and first["x"] != final["x"]  # the points moved to their epoch-1 codes
    expect(page.locator(".gtitle").filter(has_text="epoch 1")).to_have_count(1)  # redrawn
    assert_no_errors(page)
    page.screenshot(path=screenshot_dir / "14-timeline-epoch-1.png", full_page=True)


# Where the map's picture of the codes is on the screen, and where its data rectangle maps to
# through the axes, in page pixels.
JS_PICTURE_BOX = """() => { const gd = document.querySelector('.js-plotly-plot');
  const L = gd._fullLayout, xa = L.xaxis, ya = L.yaxis, im = gd.layout.images[0];
  const shown = gd.querySelector('.imagelayer image').getBoundingClientRect();
  const plot = gd.getBoundingClientRect();
  return {shown: [shown.left - plot.left, shown.top - plot.top, shown.width, shown.height],
          axes: [L._size.l + xa.l2p(im.x), L._size.t + ya.l2p(im.y),
                 xa.l2p(im.x + im.sizex) - xa.l2p(im.x), ya.l2p(im.y - im.sizey) - ya.l2p(im.y)],
          png: gd.querySelector('.imagelayer image').getAttribute('href').startsWith('data:image/png'),
          draws: gd.querySelectorAll('.scatterlayer .point').length}; }"""


@pytest.mark.parametrize("beta", ["0", "4"])
def test_beta_scrubber_paints_its_codes_where_the_axes_put_them(page, app_url, screenshot_dir, beta):
    bs.open_app(page, app_url, "beta", beta=beta)
    bs.wait_for_map(page)
    page.wait_for_selector(".js-plotly-plot .imagelayer image", timeout=30_000)
    bs.wait_until_idle(page, settle_ms=500)
    box = page.evaluate(JS_PICTURE_BOX)
    assert box["png"] and box["draws"] >= 200  # the codes a picture, the prior's 200 draws SVG marks
    assert box["axes"][2] > 200 and box["axes"][3] > 200  # a map, not a thumbnail
    assert max(abs(s - a) for s, a in zip(box["shown"], box["axes"], strict=True)) < 2, box
    assert_no_errors(page)
    page.screenshot(path=screenshot_dir / f"15-beta-scrubber-{beta}.png")


def test_the_anomaly_page_trains_in_the_background_and_stops_on_request(page, app_url, screenshot_dir):
    # The default: a 30-D VAE on the normal class of the shipped MNIST sample, about a minute.
    bs.open_app(page, app_url, "anomalies")
    page.get_by_role("button", name="Train on the normal class and score").click()
    stop = page.get_by_role("button", name="Stop training")
    expect(stop).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"epoch \d+ of \d+: loss"))).to_be_visible(timeout=30_000)  # live
    page.screenshot(path=screenshot_dir / "16-anomalies-training.png")
    stop.click()
    expect(page.get_by_text("Stopped after")).to_be_visible(timeout=30_000)
    expect(stop).to_have_count(0)
    assert_no_errors(page)
    page.screenshot(path=screenshot_dir / "17-anomalies-stopped.png")
