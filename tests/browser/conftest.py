"""Fixtures for the browser tests: two tiny digits models in a temporary runs folder, one
Streamlit server for the session, one headless Chromium, a fresh page (= a fresh Streamlit
session) per test. Run with ``python -m pytest -q -m browser tests/browser``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for browser_support
import browser_support as bs  # noqa: E402

# Three epochs (the CLI's quick default in the docs) leave the digits VAE collapsed onto its
# prior (KL ~0.001): every code decodes to the same blur, so no interpolation frame could
# differ. Thirty epochs take about 3 s each and give a map and decodes that vary.
EPOCHS = 30
VIEWPORT = {"width": 1400, "height": 1000}


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = bs.find_chromium()
    if path is None:
        pytest.skip(bs.NO_CHROMIUM)
    return path


@pytest.fixture(scope="session")
def browser_runs(tmp_path_factory, chromium_path) -> Path:
    """A runs folder holding digits-vae-2d and digits-ae-2d, trained with the CLI."""
    runs = tmp_path_factory.mktemp("browser-runs")
    bs.train_digits_models(runs, epochs=EPOCHS)
    return runs


@pytest.fixture(scope="session")
def app_url(browser_runs: Path, tmp_path_factory) -> str:
    """The base URL of ``streamlit run app.py`` serving the tiny models; stopped at the end."""
    cache = tmp_path_factory.mktemp("browser-cache")
    log = tmp_path_factory.mktemp("browser-server") / "streamlit.log"
    env = {"LATENT_EXPLORER_RUNS": str(browser_runs), "LATENT_EXPLORER_CACHE": str(cache)}
    with bs.streamlit_server("app.py", env=env, log_path=log) as url:
        yield url


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, bs.chromium(playwright, chromium_path) as launched:
        yield launched


@pytest.fixture
def page(browser):
    """A fresh browser context and page: its own Streamlit session, so no state leaks
    between tests. Uncaught page errors are collected on ``page.errors``."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(60_000)
    bs.count_messages(context)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """Where screenshots go: ``$SCREENSHOT_DIR`` or a pytest temporary folder."""
    given = os.environ.get("SCREENSHOT_DIR")
    path = Path(given) if given else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
