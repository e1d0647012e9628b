"""Codes uploaded on the Train page become a folder that Explore maps, in a real browser."""

from __future__ import annotations

import browser_support as bs
import numpy as np
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_uploaded_codes_open_on_explore(page, app_url, tmp_path, screenshot_dir):
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(0, 1, (100, 4)), rng.normal(6, 1, (100, 4))])
    rows = [",".join([*(f"{v:.6g}" for v in row), "cat" if i < 100 else "dog"]) for i, row in enumerate(z)]
    path = tmp_path / "browser-codes.csv"
    path.write_text("a,b,c,d,animal\n" + "\n".join(rows) + "\n")
    bs.open_app(page, app_url, "train")
    bs.wait_until_idle(page, timeout_ms=90_000, settle_ms=1000)
    page.get_by_text("Open codes computed elsewhere").click()
    uploader = page.locator('.st-key-codes_upload input[type="file"]')
    bs.answered(page, lambda: uploader.set_input_files(str(path)), "the upload")
    box = page.get_by_label("label column (CSV or Parquet, optional)")
    box.fill("animal")
    bs.answered(page, lambda: box.press("Enter"), "the label column")
    button = page.get_by_role("button", name="Import codes")
    bs.answered(page, button.click, "Import codes", timeout_ms=120_000)
    expect(page.get_by_text("Imported 200 codes of 4 numbers as browser-codes")).to_be_visible(timeout=60_000)
    link = page.get_by_role("link", name="open it on Explore")
    expect(link).to_have_attribute("href", "./?model=browser-codes")
    bs.open_app(page, app_url, model="browser-codes")
    bs.wait_for_map(page)
    bs.wait_until_idle(page)
    expect(page.get_by_text("This folder holds codes only")).to_be_visible(timeout=30_000)
    assert len(bs.data_points(page)) == 40  # the folder's test split: a fifth of 200
    assert not bs.error_boxes(page) and not page.errors
    page.screenshot(path=screenshot_dir / "20-codes-upload-explore.png", full_page=True)
