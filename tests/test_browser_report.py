"""End to end in Debian Chromium: pin a chart on the Corpora page, download the report."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from conftest import serve_prepared
from playwright.sync_api import Page, expect

from analysis.core.config import Limits
from analysis.corpus.corpora import IngestOptions
from analysis.corpus.readers import read_path
from analysis.vectors.ingest import ingest

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path, tiny_csv: Path):
    def fill(store) -> None:
        ingest(store, [read_path(tiny_csv, Limits())], IngestOptions(name="tiny"))

    with serve_prepared(tmp_path, fill) as url:
        yield url


def test_pinned_chart_appears_in_the_downloaded_report(server: str, page: Page, tmp_path) -> None:
    page.goto(server)
    expect(page.get_by_role("heading", name="Your corpora")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Pin to report").first.click()
    expect(page.get_by_text("Pinned to the report")).to_be_visible()
    page.goto(f"{server}/report")
    expect(page.locator("svg text", has_text="Text lengths — tiny").first).to_be_attached()
    with page.expect_download() as html_download:
        page.get_by_role("button", name="Report (HTML)").click()
    html = Path(html_download.value.path()).read_text(encoding="utf-8")
    assert "Text lengths — tiny" in html and "Plotly.newPlot" in html
    assert '<script src="http' not in html
    with page.expect_download() as zip_download:
        page.get_by_role("button", name="Report (ZIP: PNG + SVG + index.md)").click()
    with zipfile.ZipFile(zip_download.value.path()) as archive:
        names = archive.namelist()
    assert "index.md" in names and "report.html" in names
    assert any(n.endswith(".png") for n in names) and any(n.endswith(".svg") for n in names)
