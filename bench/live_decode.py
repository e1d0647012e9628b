"""How fast the Explore page decodes the map point under the pointer, in the page itself, and
how many messages go to the server meanwhile (the goal: none).

    python bench/live_decode.py [--moves 200] [--models mnist-vae-2d,...]

Starts ``streamlit run app.py`` (full MNIST where ``LATENT_EXPLORER_DATA`` points at it, else
the shipped sample), opens the default Explore page of every shipped model whose decoder runs
in the page (the 3-D S-VAE on its 2-D Hammer map), and moves the pointer to ``--moves``
random spots of the map, one every ``--gap-ms``, after ``WARM_UP_MOVES`` untimed ones. The
page stamps each drawn frame with ``performance.now()``: the move's event time (when the
browser took the input), when the page's handler saw it, and when the decoded image was on
the canvas. Columns:

- ``move→drawn``: event time to the decoded frame drawn, the latency a user sees before the
  compositor shows that frame. Chromium hands pointer moves to the page once per display
  frame (rAF-aligned input), so this includes up to one 16.7 ms frame of waiting;
- ``handler→drawn``: the page's own work in that frame (plotly's hover runs there too);
- ``decode``: one inverse + decode + trust on its own, averaged over 200 calls;
- ``frames``: frames drawn for the moves made; ``to server``: websocket messages the page
  sent during the moves.

Needs Debian's chromium and the ``playwright`` package (no browser download).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
import browser_support as bs  # noqa: E402

from explorer.store.catalog import list_models  # noqa: E402
from explorer.store.checkpoint import load_checkpoint  # noqa: E402
from explorer.figures.live import decoder_program  # noqa: E402

TARGET_P95_MS = 16.0
# Not timed: the first moves pay for JIT compilation and decoding the hover sprite image.
WARM_UP_MOVES = 20
VIEWPORT = {"width": 1400, "height": 1000}
READY = "() => window.__leLive && window.__leLive.ready && window.__leLive.ready()"
JS_AREA = """() => { const gd = document.querySelector('.js-plotly-plot'), L = gd._fullLayout;
  const r = gd.getBoundingClientRect();
  return [r.left + L._size.l, r.top + L._size.t, L.xaxis._length, L.yaxis._length]; }"""
# One pointer decode's work without the browser around it, ms per call.
JS_DECODE_MS = """() => { const L = window.__leLive, m = L.view.map, p = m.points;
  const t = performance.now();
  for (let i = 0; i < 200; i++) {
    const k = (i * 7919) % m.n, x = p[2 * k] + 0.01, y = p[2 * k + 1] - 0.01;
    L.decode(L.inverse(x, y)); L.trust(x, y);
  }
  return (performance.now() - t) / 200; }"""


def live_models(names: list[str] | None) -> list[tuple[str, dict[str, str]]]:
    """Shipped models whose decoder runs in the page, with the query that opens a 2-D map."""
    chosen = []
    for entry in list_models():
        if entry.source != "pretrained" or (names and entry.path.name not in names):
            continue
        ckpt = load_checkpoint(entry.path)
        if isinstance(decoder_program(ckpt.model), str):
            continue
        cfg = ckpt.config
        query = {"method": "hammer"} if cfg.latent_dim == 3 and cfg.posterior == "vmf" else {}
        chosen.append((entry.path.name, query))
    return chosen


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(browser, url: str, model: str, query: dict[str, str], moves: int, gap_ms: int) -> dict:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    sent: list[object] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
    try:
        bs.open_app(page, url, model=model, **query)
        bs.wait_for_map(page)
        bs.wait_until_idle(page)
        page.wait_for_function(READY, timeout=120_000)
        info = page.evaluate("() => { const m = window.__leLive.view.map; return [m.kind, m.n]; }")
        decode_ms = page.evaluate(JS_DECODE_MS)
        left, top, width, height = page.evaluate(JS_AREA)
        rng = random.Random(0)

        def sweep(n: int) -> None:
            for _ in range(n):
                x, y = rng.uniform(0.02, 0.98), rng.uniform(0.02, 0.98)
                page.mouse.move(left + x * width, top + y * height)
                page.wait_for_timeout(gap_ms)
            page.wait_for_timeout(300)

        sweep(WARM_UP_MOVES)
        page.evaluate("() => { window.__leLive.frames.length = 0; }")
        before = len(sent)
        sweep(moves)
        messages = len(sent) - before
        frames = page.evaluate("() => window.__leLive.frames")
    finally:
        context.close()
    seen = [f["drawn"] - f["t0"] for f in frames]
    work = [f["drawn"] - f["handled"] for f in frames]
    return {"model": model, "map": info[0], "points": info[1], "frames": len(frames),
            "p50": statistics.median(seen), "p95": quantile(seen, 0.95), "work95": quantile(work, 0.95),
            "decode": decode_ms, "messages": messages}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--gap-ms", type=int, default=40, help="pause after each move")
    parser.add_argument("--models", default="", help="comma-separated names; default: all that qualify")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    models = live_models([m for m in args.models.split(",") if m] or None)
    rows = []
    with bs.streamlit_server("app.py") as url, sync_playwright() as pw, bs.chromium(pw) as browser:
        for model, query in models:
            rows.append(measure(browser, url, model, query, args.moves, args.gap_ms))
            print(f"  {model}: done", file=sys.stderr)
    load = os.getloadavg()[0]
    print(f"\nPointer move to decoded frame, {args.moves} moves per model ({args.gap_ms} ms apart), "
          f"headless Chromium; target p95 <= {TARGET_P95_MS:.0f} ms and 0 messages. "
          f"Load average {load:.1f} on {os.cpu_count()} cores.\n")
    header = (f"{'model':<20} {'map':<7} {'points':>6} {'frames':>7} {'move→drawn p50':>15} "
              f"{'p95':>6} {'handler→drawn p95':>18} {'decode':>7} {'to server':>9}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['model']:<20} {r['map']:<7} {r['points']:>6} {r['frames']:>3}/{args.moves:<3} "
              f"{r['p50']:>12.1f} ms {r['p95']:>6.1f} {r['work95']:>15.1f} ms {r['decode']:>4.2f} ms "
              f"{r['messages']:>9}")
    met = all(r["p95"] <= TARGET_P95_MS and r["messages"] == 0 for r in rows)
    print(f"\ntarget {'met' if met else 'missed'}: worst p95 {max(r['p95'] for r in rows):.1f} ms, "
          f"{sum(r['messages'] for r in rows)} messages in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
