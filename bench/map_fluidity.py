"""Do 10,000 points on the latent map stay fluid? Frame times while panning, render times of
zoom steps and hover response, in a real browser, for 10,000 points against the shipped
4,000-point map measured in the same run.

    python bench/map_fluidity.py --data-root ../shared/data

Trains a 2-D MLP VAE on full MNIST for one epoch into a temporary runs folder (its map shows
all 10,000 test images; the shipped models show the 4,000-image sample), starts
``streamlit run app.py`` and, for each model in headless Debian Chromium:

- pan: drags the map with plotly's pan tool in 40 mouse steps while counting animation
  frames in the page; reports the frame interval (median, p95) and frames per second (the
  page's frame rate during the gesture: a frame that takes long to draw shows as a long gap);
- zoom: 30 mouse-wheel steps in and out (the map zooms with the wheel) while counting
  animation frames;
- hover: moves the mouse onto 30 data points and times each until plotly's hover event,
  which is also what shows the thumbnail.

Headless Chromium renders WebGL in software (SwiftShader) on the CPU, so these times are an
upper bound on a laptop with a GPU. Needs the ``playwright`` package (no browser download).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
import browser_support as bs  # noqa: E402

FRAME_P95_TARGET_MS = 50.0  # 20 frames per second while dragging
HOVER_P95_TARGET_MS = 100.0
VIEWPORT = {"width": 1400, "height": 1000}

# Count animation frames while `run` drags the map; returns frame intervals (ms).
JS_FRAME_CLOCK_START = """
() => {
  window.__frames = [];
  window.__counting = true;
  const tick = (t) => { window.__frames.push(t); if (window.__counting) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}
"""
JS_FRAME_CLOCK_STOP = """
() => {
  window.__counting = false;
  const f = window.__frames;
  return f.slice(1).map((t, i) => t - f[i]);
}
"""

JS_HOVER_ARM = """
() => {
  const gd = document.querySelector('.js-plotly-plot');
  if (!gd.__benchHover) {
    gd.on('plotly_hover', () => { window.__hoverAt = performance.now(); });
    gd.__benchHover = true;
  }
  window.__hoverAt = null;
  window.__moveAt = performance.now();
}
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def train_full_mnist_model(runs: Path, data_root: str) -> str:
    name = "mnist-vae-2d-full"
    subprocess.run(
        [sys.executable, "-m", "explorer", "train", "--data", "mnist", "--data-root", data_root,
         "--model", "vae", "--latent-dim", "2", "--hidden", "512,256", "--epochs", "1",
         "--out", str(runs / name), "--quiet"],
        cwd=REPO, check=True, stdout=subprocess.DEVNULL,
    )
    return name


def count_points(page) -> int:
    return len(bs.data_points(page))


def measure(page, url: str, model: str) -> dict[str, float]:
    bs.open_app(page, url, model=model)
    bs.wait_for_map(page, timeout_ms=180_000)
    bs.wait_until_idle(page, timeout_ms=180_000)
    page.wait_for_timeout(1000)
    result = {"points": float(count_points(page))}

    hovers = []
    targets = bs.isolated_points(page, 30)
    for point in targets:
        page.mouse.move(point["px"] + 40, point["py"] + 40)
        page.wait_for_timeout(150)
        page.evaluate(JS_HOVER_ARM)
        page.mouse.move(point["px"], point["py"])
        page.wait_for_function("() => window.__hoverAt !== null", timeout=5000)
        hovers.append(page.evaluate("() => window.__hoverAt - window.__moveAt"))
    result["hover median ms"] = statistics.median(hovers)
    result["hover p95 ms"] = percentile(hovers, 95)

    box = page.locator(bs.MAP).first.bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5
    page.mouse.move(x0, y0)
    page.evaluate(JS_FRAME_CLOCK_START)
    for step in range(30):  # zoom in with the wheel, then back out
        page.mouse.wheel(0, -60 if step < 15 else 60)
        page.wait_for_timeout(30)
    page.wait_for_timeout(400)
    frames = page.evaluate(JS_FRAME_CLOCK_STOP)
    result["zoom frame median ms"] = statistics.median(frames)
    result["zoom frame p95 ms"] = percentile(frames, 95)

    page.hover(bs.MAP)
    pan_button = page.locator(f'{bs.MAP} [data-title="Pan"]')
    if pan_button.count():
        pan_button.first.click()
    else:
        page.keyboard.down("Shift")  # plotly pans on shift-drag in zoom mode
    page.mouse.move(x0, y0)
    page.evaluate(JS_FRAME_CLOCK_START)
    page.mouse.down()
    for step in range(40):
        page.mouse.move(x0 + 4 * step, y0 + 2 * step)
        page.wait_for_timeout(16)
    page.mouse.up()
    page.keyboard.up("Shift")
    page.wait_for_timeout(200)
    frames = page.evaluate(JS_FRAME_CLOCK_STOP)
    result["pan frame median ms"] = statistics.median(frames)
    result["pan frame p95 ms"] = percentile(frames, 95)
    result["pan fps"] = 1000.0 / statistics.mean(frames)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True, help="folder holding MNIST/raw (full test set)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print("training a 1-epoch 2-D VAE on full MNIST for a 10,000-point map…", file=sys.stderr)
        big = train_full_mnist_model(tmp / "runs", args.data_root)
        env = {"LATENT_EXPLORER_RUNS": str(tmp / "runs"), "LATENT_EXPLORER_CACHE": str(tmp / "cache"),
               "LATENT_EXPLORER_DATA": args.data_root}
        with bs.streamlit_server("app.py", env=env, log_path=tmp / "app.log") as url, \
                sync_playwright() as pw, bs.chromium(pw) as browser:
            results = {}
            for model in ("mnist-vae-2d", big):
                page = browser.new_page(viewport=VIEWPORT)
                results[model] = measure(page, url, model)
                page.close()
    base, large = results["mnist-vae-2d"], results[big]
    print(f"\n{'':24}{'shipped map':>14}{'full MNIST map':>16}{'ratio':>8}")
    for metric in base:
        ratio = large[metric] / base[metric] if base[metric] else float("nan")
        print(f"{metric:24}{base[metric]:14.1f}{large[metric]:16.1f}{ratio:8.2f}")
    ok_frames = large["pan frame p95 ms"] <= FRAME_P95_TARGET_MS
    ok_hover = large["hover p95 ms"] <= HOVER_P95_TARGET_MS
    print(f"\n10,000 points: pan frame p95 {large['pan frame p95 ms']:.0f} ms "
          f"(target <= {FRAME_P95_TARGET_MS:.0f}: {'met' if ok_frames else 'NOT met'}), hover p95 "
          f"{large['hover p95 ms']:.0f} ms (target <= {HOVER_P95_TARGET_MS:.0f}: "
          f"{'met' if ok_hover else 'NOT met'})")


if __name__ == "__main__":
    main()
