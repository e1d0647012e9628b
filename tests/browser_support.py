"""Drive the Streamlit app in headless Chromium: start a server, launch the browser, find
things on the latent map. Plain functions and context managers (no pytest), shared by the
browser tests (``tests/browser/``) and ``bench/slider_latency.py``.

Debian's chromium is used, never Playwright's own download (it fails offline).
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_CHROMIUM = "no Chromium found: apt-get install chromium (the browser tests drive Debian's chromium)"
SERVER_START_TIMEOUT_S = 120.0


def find_chromium() -> str | None:
    """The path of a system Chromium, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_digits_models(runs: Path, epochs: int = 3, timeout: float = 600) -> list[Path]:
    """Train ``digits-vae-2d`` and ``digits-ae-2d`` into ``runs``, in parallel (most of each
    run is importing torch)."""
    jobs = []
    for model in ("vae", "ae"):
        out = runs / f"digits-{model}-2d"
        cmd = [
            sys.executable, "-m", "explorer", "train", "--data", "digits", "--model", model,
            "--latent-dim", "2", "--epochs", str(epochs), "--out", str(out), "--quiet",
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        jobs.append((out, proc))
    try:
        for out, proc in jobs:
            _, err = proc.communicate(timeout=timeout)
            if proc.returncode != 0:
                raise RuntimeError(f"training {out.name} failed ({proc.returncode}):\n{err[-3000:]}")
    finally:
        for _, proc in jobs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return [out for out, _ in jobs]


def _health(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop the server and anything it started (its own process group)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)


@contextlib.contextmanager
def streamlit_server(
    script: str | Path = "app.py",
    env: Mapping[str, str] | None = None,
    timeout: float = SERVER_START_TIMEOUT_S,
    log_path: Path | None = None,
) -> Iterator[ServerURL]:
    """Run ``streamlit run script`` on a free localhost port from the repo root; yield its
    base URL once ``/_stcore/health`` answers "ok"; always stop it afterwards. Its output
    goes to ``log_path`` (a temporary file, removed afterwards, when not given)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    temporary = log_path is None
    if temporary:
        fd, name = tempfile.mkstemp(prefix="streamlit-", suffix=".log")
        os.close(fd)
        log_path = Path(name)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with all it starts
        )
    try:
        deadline = time.monotonic() + timeout
        while not _health(url):
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"no answer from {url}/_stcore/health in {timeout:.0f} s:\n{_tail(log_path)}"
                )
            time.sleep(0.25)
        served = ServerURL(url)
        served.pid = proc.pid
        yield served
    finally:
        _stop(proc)
        if temporary:
            log_path.unlink(missing_ok=True)


class ServerURL(str):
    """The server's base URL; ``pid`` is its process id (the leader of its process group)."""

    pid: int


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and its waited-for children (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def wait_until_quiet(
    pid: int, below: float = 0.1, window: float = 2.0, quiet_for: float = 2.0, timeout: float = 180.0
) -> float:
    """Wait until process ``pid`` has used less than ``below`` of a core in every ``window``
    for ``quiet_for`` seconds in a row (e.g. a background warm-up has finished); return the
    seconds waited (``timeout`` or more if it never went quiet)."""
    start = time.monotonic()
    quiet_since = None
    while time.monotonic() - start < timeout:
        before = cpu_seconds(pid)
        time.sleep(window)
        now = time.monotonic()
        if (cpu_seconds(pid) - before) / window >= below:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now - window
        if quiet_since is not None and now - quiet_since >= quiet_for:
            break
    return time.monotonic() - start


def _tail(path: Path, n: int = 4000) -> str:
    return path.read_bytes()[-n:].decode(errors="replace")


@contextlib.contextmanager
def chromium(playwright, executable: str | None = None):
    """A headless Debian Chromium launched through Playwright; closed afterwards."""
    executable = executable or find_chromium()
    if executable is None:
        raise FileNotFoundError(NO_CHROMIUM)
    browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


# --- the latent map -------------------------------------------------------------------

MAP = ".js-plotly-plot"

# Page coordinates of the points of the first plotly graph, from its axes' linear-to-pixel
# maps: data points (customdata >= 0, not the "selected" rings) when `probe` is false, the
# hidden probe grid (customdata < 0) when true. Returns [{index, x, y, px, py}, ...].
JS_MAP_POINTS = """
(probe) => {
  const gd = document.querySelector('.js-plotly-plot');
  if (!gd || !gd._fullLayout || !gd._fullLayout.xaxis || !gd._fullData) return [];
  const L = gd._fullLayout, xa = L.xaxis, ya = L.yaxis, size = L._size;
  const rect = gd.getBoundingClientRect();
  const out = [];
  // _fullData: plotly.js has decoded the base64 typed arrays plotly.py 6 sends.
  for (const trace of gd._fullData) {
    if (!trace.customdata || trace.visible !== true || trace.name === 'selected') continue;
    for (let k = 0; k < trace.x.length; k++) {
      let c = trace.customdata[k];
      if (Array.isArray(c)) c = c[0];
      if (c === null || c === undefined || (probe ? c >= 0 : c < 0)) continue;
      const px = rect.left + size.l + xa.l2p(trace.x[k]);
      const py = rect.top + size.t + ya.l2p(trace.y[k]);
      out.push({index: c, x: trace.x[k], y: trace.y[k], px, py});
    }
  }
  return out;
}
"""

# The src of the image whose caption starts with `prefix` (an st.image caption such as
# "t = 0.50"), or null.
JS_IMAGE_SRC = """
(prefix) => {
  for (const el of document.querySelectorAll('[data-testid="stImage"]')) {
    const cap = el.querySelector('[data-testid="stImageCaption"]');
    const img = el.querySelector('img');
    if (cap && img && cap.innerText.trim().startsWith(prefix)) return img.getAttribute('src');
  }
  return null;
}
"""

# Wait in the page until that image's src differs from `before` and the new image has
# loaded. Resolves with [ms until the new src is in the DOM, ms until it has loaded], both
# counted from window.__pressT0 (set just before the key press), or [-1, -1] after
# `timeout` ms. A MutationObserver sees the change in the same task.
JS_WAIT_SRC_CHANGE = """
([prefix, before, timeout]) => new Promise((resolve) => {
  const find = () => {
    for (const el of document.querySelectorAll('[data-testid="stImage"]')) {
      const cap = el.querySelector('[data-testid="stImageCaption"]');
      const img = el.querySelector('img');
      if (cap && img && cap.innerText.trim().startsWith(prefix)) return img;
    }
    return null;
  };
  const t0 = window.__pressT0 || performance.now();
  let finished = false, obs = null, timer = null;
  let changed = null;
  const done = (loaded) => {
    if (finished) return;
    finished = true;
    if (obs) obs.disconnect();
    clearTimeout(timer);
    resolve(loaded < 0 ? [-1, -1] : [changed, loaded]);
  };
  const check = () => {
    if (changed !== null) return;
    const img = find();
    const src = img && img.getAttribute('src');
    if (!src || src === before) return;
    changed = performance.now() - t0;  // the new src is in the DOM
    if (img.complete && img.naturalWidth > 0) done(changed);
    else {
      img.addEventListener('load', () => done(performance.now() - t0), {once: true});
      img.addEventListener('error', () => done(performance.now() - t0), {once: true});
    }
  };
  obs = new MutationObserver(check);
  obs.observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
  timer = setTimeout(() => done(-1), timeout);
  check();
})
"""


def data_points(page) -> list[dict]:
    """The map's data points with their page coordinates (read fresh: a rerun may move them)."""
    return page.evaluate(JS_MAP_POINTS, False)


def probe_points(page) -> list[dict]:
    """The hidden probe grid's points (the app decodes at the one clicked)."""
    return page.evaluate(JS_MAP_POINTS, True)


def _nearest_distance(point: dict, others: list[dict]) -> float:
    return min(
        (math.hypot(point["px"] - o["px"], point["py"] - o["py"]) for o in others if o is not point),
        default=math.inf,
    )


PROBE_CLEARANCE_PX = 3.0


def isolated_points(page, n: int = 2) -> list[dict]:
    """``n`` data points far from their neighbours (so a click hits exactly them), spread
    out: the most isolated point, then the isolated point farthest from those chosen."""
    points = data_points(page)
    if len(points) < n:
        raise AssertionError(f"the map shows {len(points)} data points, expected at least {n}")
    for p in points:
        p["gap"] = _nearest_distance(p, points)
    # An invisible probe point (empty space to decode) within a few pixels can take the click
    # instead of the point (measured: the CI flake of stops 19 and 20); keep clear of them.
    probes = probe_points(page)
    clear = [p for p in points if _nearest_distance(p, probes) >= PROBE_CLEARANCE_PX] or points
    candidates = sorted(clear, key=lambda p: -p["gap"])[: max(n, len(clear) // 4)]
    chosen = [candidates[0]]
    while len(chosen) < n:
        chosen.append(max(candidates, key=lambda p: _nearest_distance(p, chosen) if p not in chosen else -1))
    return chosen


def empty_spot(page) -> dict:
    """The probe-grid point farthest (in pixels) from every data point: empty space that the
    app can still decode. Its ``gap`` is that distance."""
    points, probes = data_points(page), probe_points(page)
    if not probes:
        raise AssertionError("the map has no probe grid: clicks on empty space cannot be decoded")
    for p in probes:
        p["gap"] = _nearest_distance(p, points)
    return max(probes, key=lambda p: p["gap"])


def click_at(page, point: dict, settle_ms: int = 400) -> None:
    """Hover first (plotly picks its click target on hover), then click."""
    page.mouse.move(point["px"], point["py"])
    page.wait_for_timeout(settle_ms)
    page.mouse.click(point["px"], point["py"])


ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


def error_boxes(page) -> list[str]:
    """Texts of Streamlit exception boxes and error alerts (st.error, component errors)."""
    return [t[:500] for t in page.locator(ERRORS).all_inner_texts()]


def tab_panel(page, name: str):
    """The panel of the tab labelled ``name`` (Streamlit renders every tab's panel)."""
    names = [t.strip() for t in page.get_by_role("tab").all_inner_texts()]
    if name not in names:
        raise AssertionError(f"no tab {name!r} among {names}")
    return page.locator('[data-testid="stTabPanel"]').nth(names.index(name))


def open_app(page, url: str, path: str = "", **query) -> None:
    """Go to the app (``path`` e.g. "train") with ``query`` in the URL."""
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    page.goto(f"{url}/{path}" + (f"?{qs}" if qs else ""), wait_until="domcontentloaded")


def wait_for_map(page, timeout_ms: float = 90_000) -> None:
    """Wait until the plotly map (2-D axes or a 3-D scene) is drawn with its data."""
    page.wait_for_selector(MAP, state="visible", timeout=timeout_ms)
    page.wait_for_function(
        "() => { const gd = document.querySelector('.js-plotly-plot');"
        " return gd && gd._fullLayout && (gd._fullLayout.xaxis || gd._fullLayout.scene)"
        " && gd.data && gd.data.length > 0; }",
        timeout=timeout_ms,
    )


# Counts the messages the page receives from the server (and when the last one came), from
# before the page's own scripts run. Every script run, a fragment's included, sends some,
# while the script-state attribute can miss a fast fragment run (React batches the two
# changes into one render).
JS_COUNT_MESSAGES = """
(() => {
  const Native = window.WebSocket;
  window.__leMessages = 0;
  window.__leLastMessage = 0;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => {
        window.__leMessages += 1;
        window.__leLastMessage = performance.now();
      });
    }
  };
})();
"""


def count_messages(context) -> None:
    """Count server messages in every page of a browser ``context`` (see ``answered``)."""
    context.add_init_script(JS_COUNT_MESSAGES)


def answered(page, action, what: str, start_ms: float = 15_000, quiet_ms: float = 500,
             timeout_ms: float = 60_000) -> None:
    """Do ``action()``, wait for the server's answer to it, then until the server has been
    quiet for ``quiet_ms`` and the script is idle.

    A fixed pause is not enough on a loaded machine: a run that starts late can replace the
    chart under the next click, which then never counts. Raises naming ``what`` when the
    server sends nothing within ``start_ms``."""
    before = page.evaluate("() => window.__leMessages")
    if before is None:
        raise RuntimeError("server messages are not counted in this page: call count_messages(context)")
    action()
    try:
        page.wait_for_function(f"() => window.__leMessages > {before}", timeout=start_ms)
    except Exception as exc:
        raise AssertionError(f"the server did not answer {what} within {start_ms / 1000:.0f} s") from exc
    page.wait_for_function(
        f"() => performance.now() - window.__leLastMessage > {quiet_ms}"
        " && document.querySelector('[data-testid=\"stApp\"]')"
        ".getAttribute('data-test-script-state') === 'notRunning'",
        timeout=timeout_ms,
        polling=100,
    )


def wait_until_idle(page, timeout_ms: float = 60_000, settle_ms: int = 300) -> None:
    """Wait ``settle_ms`` for a rerun to start, then until Streamlit's script is not running
    (``stApp``'s ``data-test-script-state``)."""
    page.wait_for_timeout(settle_ms)
    page.wait_for_function(
        "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
        " return app && app.getAttribute('data-test-script-state') === 'notRunning'; }",
        timeout=timeout_ms,
    )
