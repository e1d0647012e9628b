"""Many users at once: browser sessions open the app, slide and train at the same time.

    python bench/concurrent_sessions.py [--viewers 8] [--trainers 2] [--moves 6]

Starts ``streamlit run app.py`` on the shipped models and opens ``viewers + trainers`` fresh
sessions in one headless Chromium at once. Each viewer opens its own share link (its own
endpoints A and B) on the Explore page and moves the interpolation slider; each trainer
trains a digits VAE of its own latent size on the Train page. It checks that every session
sees only its own state (its own endpoints, its own trained model) and that no page shows
an error, and prints the server's peak memory and each session's timings. Exits 1 when a
check fails. Needs Debian's chromium and the ``playwright`` package.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
import browser_support as bs  # noqa: E402

VIEWPORT = {"width": 1400, "height": 1000}
MEMORY_LIMIT_MIB = 4096


def peak_rss_mib(pid: int) -> float:
    """The high-water mark of a process's resident memory (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def viewer(browser, url: str, index: int, moves: int) -> dict:
    """Open a share link with this session's own endpoints, slide t, check what it shows."""
    a, b = 10 + 7 * index, 500 + 13 * index
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    started = time.perf_counter()
    await page.goto(f"{url}/?model=mnist-vae-2d&a={a}&b={b}&t=0.30", wait_until="domcontentloaded")
    await page.wait_for_selector(bs.MAP, state="visible", timeout=240_000)
    await page.get_by_text("t = 0.30").first.wait_for(timeout=240_000)
    opened = time.perf_counter() - started
    panel = page.locator('[data-testid="stTabPanel"]').nth(1)  # Interpolate
    await panel.locator('[role="slider"][aria-label="t"], input[type="range"][aria-label="t"]').first.focus()
    for _ in range(moves):
        await page.keyboard.press("ArrowRight")
        await page.wait_for_timeout(150)
    expected = f"t = {0.30 + 0.01 * moves:.2f}"
    await page.get_by_text(expected).first.wait_for(timeout=240_000)
    captions = " ".join(await page.locator('[data-testid="stImageCaption"]').all_inner_texts())
    own = f"A #{a}" in captions and f"B #{b}" in captions
    boxes = await page.locator(bs.ERRORS).all_inner_texts()
    await context.close()
    return {"session": f"viewer {index}", "open_s": opened, "total_s": time.perf_counter() - started,
            "ok": own and not boxes and not errors, "problems": [*boxes, *errors] or ([] if own else
            [f"captions do not show its own endpoints A #{a} / B #{b}: {captions[:200]}"])}


async def trainer(browser, url: str, index: int) -> dict:
    """Train a digits VAE with this session's own latent size; check the finished run is its own."""
    latent = 2 + index
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    started = time.perf_counter()
    await page.goto(f"{url}/train", wait_until="domcontentloaded")
    for label, value in (("latent size", str(latent)), ("epochs", "3")):
        box = page.get_by_label(label).first
        await box.wait_for(timeout=240_000)
        await box.fill(value)
        await box.press("Enter")
        await page.wait_for_timeout(800)
    await page.get_by_role("button", name="Train", exact=True).click()
    save_name = page.get_by_label("Save as")
    await save_name.wait_for(timeout=600_000)
    name = await save_name.input_value()
    boxes = await page.locator(bs.ERRORS).all_inner_texts()
    await context.close()
    own = name.endswith(f"-{latent}d")
    return {"session": f"trainer {index}", "open_s": float("nan"), "total_s": time.perf_counter() - started,
            "ok": own and not boxes and not errors,
            "problems": [*boxes, *errors] or ([] if own else [f"finished run is {name!r}, not {latent}-D"])}


async def run(url: str, viewers: int, trainers: int, moves: int, pid: int) -> tuple[list[dict], float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=bs.find_chromium(), headless=True,
                                                   args=bs.CHROMIUM_ARGS)
        try:
            results = await asyncio.gather(
                *(viewer(browser, url, i, moves) for i in range(viewers)),
                *(trainer(browser, url, i) for i in range(trainers)),
                return_exceptions=True,
            )
        finally:
            await browser.close()
    rows = [r if isinstance(r, dict) else {"session": "?", "open_s": float("nan"), "total_s": float("nan"),
                                            "ok": False, "problems": [f"{type(r).__name__}: {r}"]}
            for r in results]
    return rows, peak_rss_mib(pid)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=8)
    parser.add_argument("--trainers", type=int, default=2)
    parser.add_argument("--moves", type=int, default=6)
    args = parser.parse_args()
    if bs.find_chromium() is None:
        print(bs.NO_CHROMIUM, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        env = {"LATENT_EXPLORER_RUNS": str(Path(tmp) / "runs"),
               "LATENT_EXPLORER_CACHE": str(Path(tmp) / "cache")}
        with bs.streamlit_server("app.py", env=env) as url:
            rows, peak = asyncio.run(run(url, args.viewers, args.trainers, args.moves, url.pid))
    print(f"{'session':<12} {'open (s)':>9} {'total (s)':>10}  result")
    for r in rows:
        verdict = "ok" if r["ok"] else "FAILED: " + "; ".join(p[:160] for p in r["problems"])
        print(f"{r['session']:<12} {r['open_s']:>9.1f} {r['total_s']:>10.1f}  {verdict}")
    opens = [r["open_s"] for r in rows if r["open_s"] == r["open_s"]] or [float("nan")]
    failed = sum(not r["ok"] for r in rows)
    print(f"\n{len(rows)} sessions at once ({args.viewers} sliding, {args.trainers} training): "
          f"{failed} failed; median open {statistics.median(opens):.1f} s, slowest {max(opens):.1f} s")
    print(f"server peak memory {peak:,.0f} MiB (limit {MEMORY_LIMIT_MIB:,} MiB): "
          f"{peak / MEMORY_LIMIT_MIB:.2f}x of the limit")
    return 0 if failed == 0 and peak <= MEMORY_LIMIT_MIB else 1


if __name__ == "__main__":
    sys.exit(main())
