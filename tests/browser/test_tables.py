"""End to end in Debian Chromium: the Tables page refuses a bad table, accepts a good one, chooses
it at once and runs the default property on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_upload_then_run_the_default_property(app_server: str, page: Page, tmp_path: Path) -> None:
    page.goto(f"{app_server}/tables")
    expect(page.get_by_role("heading", name="Tables", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_text("countries: 71 rows", exact=False).first).to_be_visible()
    bad = tmp_path / "dupes.csv"
    bad.write_text("city,city\nParis,Lyon\nRome,Milan\n", encoding="utf-8")
    good = tmp_path / "stock.csv"
    rows = "Laptop,North\nPhone,South\nDesk,North\nLamp,East\nChair,South\nShelf,East\n"
    good.write_text(f"item,warehouse\n{rows}", encoding="utf-8")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        [str(bad), str(good)]
    )
    page.get_by_role("button", name="Add the uploaded tables").click()
    expect(page.get_by_text("has the header 'city' twice")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Added 'stock' (6 rows × 2 cols) and chose it below.")).to_be_visible()
    # the Tables box moved to the upload: its column picker shows, the demo tables' do not
    expect(page.get_by_text("stock: 6 rows × 2 columns", exact=True)).to_be_visible()
    expect(page.get_by_text("countries: 71 rows", exact=False)).to_have_count(0)
    expect(page.get_by_text("Estimated time")).to_be_visible()
    page.get_by_role("button", name="Run", exact=True).click()
    title = page.locator("svg text", has_text="Row order insignificance: mean cosine")
    expect(title).to_have_count(1, timeout=180_000)
    expect(page.get_by_text("invariant to this change by design")).to_be_visible()
    expect(page.get_by_text("Traceback")).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.screenshot(path="/tmp/tables_e2e.png", full_page=True)
