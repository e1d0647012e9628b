"""The app in a real browser: the map draws, clicks inspect and decode, the interpolation
slider redraws its frame, the other pages open. Screenshots go to ``$SCREENSHOT_DIR``."""

from __future__ import annotations

import re

import browser_support as bs
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MODEL = "digits-vae-2d"
IMAGE = '[data-testid="stImage"]'


def open_map(page, url: str, **query) -> None:
    bs.open_app(page, url, model=MODEL, **query)
    bs.wait_for_map(page)
    bs.wait_until_idle(page)


def assert_no_errors(page) -> None:
    boxes = bs.error_boxes(page)
    assert not boxes, f"error boxes on the page: {boxes}"
    assert not page.errors, f"uncaught errors in the page: {page.errors}"


def test_map_opens(page, app_url, screenshot_dir):
    open_map(page, app_url)
    assert len(bs.data_points(page)) == 360  # the digits test split
    expect(page.get_by_role("heading", name=MODEL)).to_be_visible()
    assert_no_errors(page)
    page.screenshot(path=screenshot_dir / "01-map.png", full_page=True)


def test_plotly_code_is_preloaded_and_the_head_takes_no_room(page, app_url):
    open_map(page, app_url)
    preloads = page.evaluate("[...document.querySelectorAll('link[rel=modulepreload]')].map(l => l.href)")
    assert any("/static/js/PlotlyChart." in href for href in preloads), preloads
    # The element holding the layout's CSS and the preload script is not displayed: the
    # first element of the page starts where Streamlit's padding ends.
    hidden = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stHtml"]')]
        .filter(e => e.querySelector('#le-head'))
        .map(e => getComputedStyle(e.closest('[data-testid="stElementContainer"]')).display)""")
    assert hidden == ["none"]


def test_click_on_a_point_inspects_it(page, app_url, screenshot_dir):
    open_map(page, app_url)
    point = bs.isolated_points(page, 1)[0]
    bs.answered(page, lambda: bs.click_at(page, point), f"the click on item #{point['index']}")
    inspect = bs.tab_panel(page, "Inspect")
    images = inspect.locator(IMAGE)
    expect(images).to_have_count(2, timeout=30_000)  # the item and its reconstruction
    expect(images.nth(0)).to_contain_text(f"#{point['index']} ")
    expect(images.nth(1)).to_contain_text("reconstruction")
    for k in range(2):
        expect(images.nth(k).locator("img")).to_have_js_property("complete", True)
        assert images.nth(k).locator("img").evaluate("img => img.naturalWidth") > 0
    assert f"item={point['index']}" in page.url
    assert_no_errors(page)
    page.screenshot(path=screenshot_dir / "02-inspect.png", full_page=True)


def type_endpoints(page, app_url) -> tuple[dict, dict]:
    """Open the map and type two far-apart points' indices into the Interpolate tab."""
    open_map(page, app_url)
    a, b = bs.isolated_points(page, 2)  # far apart on the map: the path is long
    page.get_by_role("tab", name="Interpolate").click()
    for name, point in (("A", a), ("B", b)):
        box = page.get_by_label(f"endpoint {name} (index)")
        box.fill(str(point["index"]))
        bs.answered(page, lambda: box.press("Enter"), f"typing endpoint {name}")  # noqa: B023
    return a, b


def test_interpolation_slider_redraws_the_frame(page, app_url, screenshot_dir):
    a, b = type_endpoints(page, app_url)
    panel = bs.tab_panel(page, "Interpolate")
    frame = panel.locator(IMAGE).filter(has_text=re.compile(r"^\s*t = "))
    expect(frame).to_have_count(1, timeout=30_000)
    expect(panel.locator(IMAGE).first).to_contain_text(f"A #{a['index']} ")
    expect(panel.locator(IMAGE).nth(2)).to_contain_text(f"B #{b['index']} ")
    expect(frame).to_contain_text("t = 0.50")
    before = frame.locator("img").get_attribute("src")
    page.screenshot(path=screenshot_dir / "03-interpolate-t050.png", full_page=True)

    # Streamlit's react-aria slider: a visually hidden <input type="range"> (implicit role
    # "slider") takes the keyboard focus.
    slider = panel.locator('[role="slider"][aria-label="t"], input[type="range"][aria-label="t"]').first
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    expect(frame).to_contain_text("t = 0.60", timeout=30_000)
    bs.wait_until_idle(page)
    after = frame.locator("img").get_attribute("src")
    assert after != before, "the decoded frame did not change when t moved from 0.50 to 0.60"
    assert "t=0.6" in page.url
    assert_no_errors(page)
    page.screenshot(path=screenshot_dir / "04-interpolate-t060.png", full_page=True)


def test_typed_endpoints_draw_the_path(page, app_url):
    type_endpoints(page, app_url)
    page.wait_for_function(
        "() => document.querySelector('.js-plotly-plot')._fullData.some(t => t.name === 'interpolation')",
        timeout=15_000,
    )


def click_endpoints(page, app_url) -> list[int]:
    """Set A and B by clicking two points with "A click on a point…" switched to each;
    returns their indices. Both clicks must count: a changed figure is a new chart to
    Streamlit, so a click read only after drawing it would be dropped."""
    open_map(page, app_url)
    inspect = bs.tab_panel(page, "Inspect")
    chosen = []
    for label in ("sets endpoint A", "sets endpoint B"):
        choice = inspect.get_by_text(label, exact=True)
        bs.answered(page, choice.click, f"choosing {label!r}")
        # Read positions afresh: the previous rerun may have moved the axes.
        point = next(p for p in bs.isolated_points(page, 3) if p["index"] not in chosen)
        chosen.append(point["index"])
        bs.answered(page, lambda: bs.click_at(page, point), f"the click on item #{point['index']}")  # noqa: B023
    return chosen


def test_clicks_set_both_endpoints(page, app_url, screenshot_dir):
    a, b = click_endpoints(page, app_url)
    page.get_by_role("tab", name="Interpolate").click()
    panel = bs.tab_panel(page, "Interpolate")
    expect(panel.locator(IMAGE).first).to_contain_text(f"A #{a} ", timeout=15_000)
    expect(panel.locator(IMAGE).nth(2)).to_contain_text(f"B #{b} ", timeout=15_000)
    assert f"a={a}" in page.url and f"b={b}" in page.url
    assert_no_errors(page)
    page.screenshot(path=screenshot_dir / "03b-endpoints-by-click.png", full_page=True)


def test_clicked_endpoints_show_in_the_index_boxes(page, app_url):
    a, b = click_endpoints(page, app_url)
    page.get_by_role("tab", name="Interpolate").click()
    expect(page.get_by_label("endpoint A (index)")).to_have_value(str(a), timeout=15_000)
    expect(page.get_by_label("endpoint B (index)")).to_have_value(str(b), timeout=15_000)


def test_click_on_empty_space_decodes_there(page, app_url, screenshot_dir):
    open_map(page, app_url)
    spot = bs.empty_spot(page)
    assert spot["gap"] > 25, (
        f"no empty space on the map: the emptiest spot is {spot['gap']:.0f} px from a point"
    )
    bs.answered(page, lambda: bs.click_at(page, spot), "the click on empty space")
    inspect = bs.tab_panel(page, "Inspect")
    expect(inspect).to_contain_text("decoded at", timeout=30_000)
    expect(inspect).to_contain_text("Trust:")
    expect(inspect.locator(IMAGE)).to_have_count(1)
    assert_no_errors(page)
    page.screenshot(path=screenshot_dir / "05-decode-here.png", full_page=True)


@pytest.mark.parametrize(
    "path, query",
    [
        ("train", {}),
        # The tests' own pair, whatever pretrained/ holds at the moment.
        ("compare", {"left": "digits-ae-2d", "right": "digits-vae-2d"}),
    ],
)
def test_page_opens(page, app_url, screenshot_dir, path, query):
    bs.open_app(page, app_url, path, **query)
    bs.wait_until_idle(page, timeout_ms=90_000, settle_ms=2000)
    expect(page.locator('[data-testid="stMain"]')).to_be_visible()
    expect(page.locator('[data-testid="stHeading"]').first).to_be_visible(timeout=30_000)
    assert_no_errors(page)
    page.screenshot(path=screenshot_dir / f"06-{path}.png", full_page=True)


JS_TRACK_3D_HOVER = """
() => {
  const gd = document.querySelector('.js-plotly-plot');
  window.__hovered = null;
  gd.on('plotly_hover', (e) => {
    const p = e.points[0];
    const c = Array.isArray(p.customdata) ? p.customdata[0] : p.customdata;
    window.__hovered = (p.data.type === 'scatter3d' && c >= 0) ? c : null;
  });
  gd.on('plotly_unhover', () => { window.__hovered = null; });
}
"""


def test_click_on_a_point_of_a_3d_map_inspects_it(page, app_url, screenshot_dir):
    bs.open_app(page, app_url, model="mnist-vae-20d", method="pca", dims="3")
    bs.wait_for_map(page)
    bs.wait_until_idle(page)
    page.evaluate(JS_TRACK_3D_HOVER)
    box = page.locator(bs.MAP).first.bounding_box()
    hit = None
    for fy in (0.5, 0.45, 0.55, 0.4, 0.6, 0.35, 0.65):
        for fx in (0.5, 0.45, 0.55, 0.4, 0.6, 0.35, 0.65):
            x, y = box["x"] + fx * box["width"], box["y"] + fy * box["height"]
            page.mouse.move(x, y)
            page.wait_for_timeout(250)
            index = page.evaluate("() => window.__hovered")
            if index is not None:
                hit = (x, y, int(index))
                break
        if hit:
            break
    assert hit, "no data point under the mouse anywhere near the middle of the 3-D map"
    x, y, index = hit
    # Plotly takes a 3-D click from a press that lasts at least a frame, as a person's does.
    page.mouse.click(x, y, delay=100)
    images = bs.tab_panel(page, "Inspect").locator(IMAGE)
    expect(images.nth(0)).to_contain_text(f"#{index} ", timeout=30_000)
    assert f"item={index}" in page.url
    assert_no_errors(page)
    page.screenshot(path=screenshot_dir / "10-3d-click.png", full_page=True)


# --- a projector's screen ---------------------------------------------------------------

PROJECTOR = {"width": 1024, "height": 768}

# Elements on the page whose box passes the window's right edge, or whose text is cut off
# (wider than their box): a projector shows neither.
JS_CUT_OFF = """
() => {
  const out = [];
  const width = window.innerWidth;
  const main = document.querySelector('[data-testid="stMain"]');
  const shown = 'button, [role="tab"], [data-testid="stImage"], [data-testid="stTabPanel"]';
  for (const el of main.querySelectorAll(shown)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;  // a hidden tab's content
    if (r.right > width + 1) out.push(`${el.innerText.slice(0, 30)} ends at ${Math.round(r.right)} px`);
    if (el.tagName === 'BUTTON' && el.scrollWidth > el.clientWidth + 1)
      out.push(`button "${el.innerText.slice(0, 30)}" is cut`);
  }
  const tabs = main.querySelector('[role="tablist"]');
  if (tabs && tabs.scrollWidth > tabs.clientWidth + 1) out.push('the tab row scrolls');
  return out;
}
"""


def overlapping(boxes: list[dict]) -> list[tuple[int, int]]:
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes) if i < j
            and a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]]


@pytest.fixture
def projector(browser):
    context = browser.new_context(viewport=PROJECTOR)
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()


def test_explore_fits_a_projector_screen(projector, app_url, screenshot_dir):
    page = projector
    open_map(page, app_url, a="3", b="40")
    for tab in ("Inspect", "Interpolate", "Prior", "Sliders", "Grid"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(300)
        assert page.evaluate(JS_CUT_OFF) == [], tab
    page.get_by_role("tab", name="Interpolate").click()
    panel = bs.tab_panel(page, "Interpolate")
    frames = [panel.locator(IMAGE).nth(k).bounding_box() for k in range(3)]  # A, t, B
    assert overlapping(frames) == []
    assert_no_errors(page)
    page.screenshot(path=screenshot_dir / "11-projector-explore.png")


def test_compare_maps_fit_a_projector_screen(projector, app_url, screenshot_dir):
    page = projector
    bs.open_app(page, app_url, "compare", left="digits-ae-2d", right="digits-vae-2d")
    bs.wait_for_map(page)
    bs.wait_until_idle(page, timeout_ms=90_000, settle_ms=2000)
    maps = page.locator(bs.MAP)
    for k in range(2):  # each map's x-axis title clear of its legend
        title = maps.nth(k).locator(".g-xtitle").bounding_box()
        legend = maps.nth(k).locator(".legend").bounding_box()
        assert overlapping([title, legend]) == [], k
    assert page.evaluate(JS_CUT_OFF) == []
    assert_no_errors(page)
    page.screenshot(path=screenshot_dir / "12-projector-compare.png")


def test_3d_hover_thumbnail_sits_at_the_pointer(page, app_url):
    bs.open_app(page, app_url, model="mnist-vae-20d", method="pca", dims="3")
    bs.wait_for_map(page)
    bs.wait_until_idle(page)
    box = page.locator(bs.MAP).first.bounding_box()
    tip = page.locator("#le-hover-tip")
    for fy in (0.5, 0.45, 0.55, 0.4, 0.6):
        for fx in (0.5, 0.45, 0.55, 0.4, 0.6):
            x, y = box["x"] + fx * box["width"], box["y"] + fy * box["height"]
            page.mouse.move(x, y)
            page.wait_for_timeout(300)
            if tip.count() and tip.is_visible():
                shown = tip.bounding_box()
                # Beside the pointer (16 px off, either side), not at the window's corner.
                assert abs(shown["x"] - (x + 16)) < 4 or abs(shown["x"] + shown["width"] - (x - 16)) < 4
                assert abs(shown["y"] - (y + 16)) < 4 or abs(shown["y"] + shown["height"] - (y - 16)) < 4
                return
    raise AssertionError("no hover thumbnail anywhere near the middle of the 3-D map")
