"""End to end in Debian Chromium: the Tables page refuses a bad table, accepts a good one and
runs the default property on the demo tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_upload_then_run_the_default_property(app_server: str, page: Page, tmp_path: Path) -> None:
    page.goto(f"{app_server}/tables")
    expect(page.get_by_role("heading", name="Tables", exact=True)).to_be_visible(timeout=60_000)
    bad = tmp_path / "dupes.csv"
    bad.write_text("city,city\nParis,Lyon\nRome,Milan\n", encoding="utf-8")
    good = tmp_path / "stock.csv"
    good.write_text("item,warehouse\nLaptop,North\nPhone,South\nDesk,North\n", encoding="utf-8")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        [str(bad), str(good)]
    )
    page.get_by_role("button", name="Add the uploaded tables").click()
    expect(page.get_by_text("has the header 'city' twice")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Added 'stock' (3 rows × 2 cols).")).to_be_visible()
    expect(page.get_by_text("Estimated time")).to_be_visible()
    page.get_by_role("button", name="Run", exact=True).click()
    title = page.locator("svg text", has_text="Row order insignificance: mean cosine")
    expect(title).to_have_count(1, timeout=180_000)
    expect(page.get_by_text("invariant to this change by design")).to_be_visible()
    expect(page.get_by_text("Traceback")).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.screenshot(path="/tmp/tables_e2e.png", full_page=True)
