"""How long the app takes to show its first map: from the server's start, for a second
session, and for each page opened by URL, against a trivial Streamlit app with one Plotly
chart measured in the same run.

    python bench/open_time.py [--opens 8] [--starts 3]

*Start to map*: ``streamlit run app.py`` is launched and a browser tab waits on its URL;
the clock runs from the launch to the Explore page's map drawn with its data (imports, the
first script run, the shipped model's codes and map, the browser's drawing). Then a second,
fresh session (a new tab) opens the same page. *Open by URL*: on the warm server, each page
is opened ``--opens`` times in the same tab (a new session each time, the browser's cache
kept, as when a lecturer types the address), from navigation to its map's points drawn. The trivial
app gives the floor of each: Streamlit's own start and shell, and Plotly's first chart.
Uses the shipped models (``pretrained/``) and a fresh cache folder (caches warmed by the
first start, as on a lecturer's laptop after the first run). Needs Debian's chromium and
the ``playwright`` package.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
import browser_support as bs  # noqa: E402

VIEWPORT = {"width": 1366, "height": 900}
# Issue 14's targets for the app, issue 17's for the Timeline and the Beta scrubber.
TARGETS_S = {"start to map": 4.0, "second session": 1.5, "timeline": 2.0, "beta": 2.0}
# --pages name: (the table's name, the page's URL path)
PAGES = {"explore": ("Explore", ""), "timeline": ("Timeline", "timeline"), "beta": ("Beta scrubber", "beta")}

BASELINE_APP = textwrap.dedent(
    """
    import numpy as np
    import plotly.graph_objects as go
    import streamlit as st

    st.title("Baseline")
    xy = np.random.default_rng(0).normal(size=(2000, 2))
    st.plotly_chart(go.Figure(go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="markers")))
    """
)


# The first Plotly chart's markers are on the screen: SVG points, or a WebGL canvas. A chart
# can hold its data and axes before its points are drawn (an animated chart with frames
# draws them a few hundred ms later), so ``bs.wait_for_map`` alone would stop the clock early.
# A map whose points are a picture under the chart (the Beta scrubber's) waits for it too.
POINTS_DRAWN = """(() => { const gd = document.querySelector('.js-plotly-plot');
  return !!gd && !!gd._fullLayout && gd.data.length > 0
    && !!gd.querySelector('.scatterlayer .point, canvas.gl-canvas-context, .gl-container canvas')
    && (!(gd.layout.images || []).length || !!gd.querySelector('.imagelayer image')); })()"""

# The page marks the moment itself (the first animation frame after the points are in the
# page, i.e. the frame that paints them): the test driver's own polling answers late while
# the page is busy, which read the Beta scrubber 0.2-0.7 s slower than it opened.
JS_MARK_POINTS = f"""(() => {{
  new MutationObserver((_, observer) => {{
    if (!{POINTS_DRAWN}) return;
    observer.disconnect();
    requestAnimationFrame(() => {{ window.__lePointsAt = performance.timeOrigin + performance.now(); }});
  }}).observe(document, {{subtree: true, childList: true}});
}})();"""


def points_drawn_at(page) -> float:
    """The epoch second at which the page painted its first map's points."""
    bs.wait_for_map(page, timeout_ms=180_000)
    page.wait_for_function("() => window.__lePointsAt !== undefined", timeout=180_000)
    return page.evaluate("() => window.__lePointsAt") / 1000


def map_drawn(page, url: str) -> float:
    """Seconds from navigating ``page`` to ``url`` to its first Plotly chart's points drawn.
    (The same tab each time: a new tab alone costs headless Chromium about 1 s here.)"""
    start = time.time()
    page.goto(url, wait_until="commit", timeout=180_000)
    return points_drawn_at(page) - start


def started_and_opened(browser, script: str | Path, env: dict[str, str], log: Path,
                       pages: dict[str, str], opens: int) -> tuple[float, float, dict[str, list[float]]]:
    """Start a server on ``script``; the seconds from its launch to the first map, a second
    session's seconds to it, and ``opens`` timed opens of each of ``pages``."""
    launched = time.time()
    with bs.streamlit_server(script, env=env, log_path=log) as url:
        context = browser.new_context(viewport=VIEWPORT)
        context.add_init_script(JS_MARK_POINTS)
        page = context.new_page()
        page.goto(url, wait_until="commit", timeout=180_000)
        to_map = points_drawn_at(page) - launched
        second = context.new_page()
        again = map_drawn(second, url)
        second.close()
        bs.wait_until_idle(page)
        # The app warms UMAP's compiled code in the background after its first page; opens
        # are timed once the server is idle, as a lecturer's would be a minute later.
        bs.wait_until_quiet(url.pid, quiet_for=5.0, timeout=300.0)
        times = {name: [map_drawn(page, f"{url}/{path}") for _ in range(opens)]
                 for name, path in pages.items()}
        context.close()
    return to_map, again, times


def row(name: str, values: list[float], floor: float | None, target: float | None) -> str:
    median = statistics.median(values)
    ratio = f"{median / floor:6.2f}x" if floor else f"{'':7}"
    met = "" if target is None else ("met" if max(values) <= target else
                                     "median met" if median <= target else "NOT met")
    goal = "" if target is None else f"<= {target:g} s"
    return (f"{name:32} {len(values):>3} {median:8.2f} {min(values):8.2f} {max(values):8.2f} "
            f"{ratio} {goal:>9} {met}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opens", type=int, default=8, help="timed opens of each page by URL")
    parser.add_argument("--starts", type=int, default=3, help="timed server starts")
    parser.add_argument("--pages", nargs="+", choices=list(PAGES), default=list(PAGES),
                        help="the pages opened by URL (default: all)")
    args = parser.parse_args(argv)
    pages = dict(PAGES[name] for name in args.pages)
    if bs.find_chromium() is None:
        print(bs.NO_CHROMIUM)
        return 2
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="open-bench-") as tmp_name, sync_playwright() as pw, \
            bs.chromium(pw) as browser:
        tmp = Path(tmp_name)
        env = {"LATENT_EXPLORER_CACHE": str(tmp / "cache")}
        baseline = tmp / "baseline_app.py"
        baseline.write_text(BASELINE_APP)
        app_runs, base_runs = [], []
        for n in range(args.starts):
            # The first start fills the fresh cache folder (codes, maps, numba): timed apart.
            app_runs.append(started_and_opened(browser, "app.py", env, tmp / f"app{n}.log", pages,
                                               args.opens if n == args.starts - 1 else 0))
            base_runs.append(started_and_opened(browser, baseline, {}, tmp / f"base{n}.log",
                                                {"Baseline": ""}, args.opens if n == args.starts - 1 else 0))
            print(f"start {n + 1}/{args.starts}: app {app_runs[-1][0]:.2f} s, "
                  f"baseline {base_runs[-1][0]:.2f} s", flush=True)

    warm_app, warm_base = app_runs[1:] or app_runs, base_runs[1:] or base_runs
    base_open = statistics.median(base_runs[-1][2]["Baseline"])
    print()
    print("Seconds to the first map drawn (headless Chromium, 1366x900); x = median / the trivial app's")
    print(f"{'':32} {'n':>3} {'median':>8} {'min':>8} {'max':>8} {'':7} {'target':>9}")
    print(row("first start (empty cache)", [app_runs[0][0]], base_runs[0][0], None))
    print(row("start to map", [r[0] for r in warm_app], statistics.median(r[0] for r in warm_base),
              TARGETS_S["start to map"]))
    print(row("second session", [r[1] for r in warm_app], statistics.median(r[1] for r in warm_base),
              TARGETS_S["second session"]))
    for name, path in pages.items():
        print(row(f"open by URL: {name}", app_runs[-1][2][name], base_open, TARGETS_S.get(path)))
    print(row("trivial app: start to chart", [r[0] for r in base_runs], None, None))
    print(row("trivial app: open by URL", base_runs[-1][2]["Baseline"], None, None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
