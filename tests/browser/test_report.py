"""End to end in Debian Chromium: pin a chart on the Corpora page, download the report; the
report's HTML draws its charts offline."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from analysis.core.config import Limits
from analysis.core.store import Store
from analysis.corpus.corpora import IngestOptions
from analysis.corpus.readers import read_path
from analysis.report.pins import list_pins
from analysis.report.render import report_html
from analysis.vectors.ingest import ingest
from tests.report.charts import pin_all

pytestmark = pytest.mark.browser


@pytest.fixture
def server(serve: Callable[..., str], tiny_csv: Path) -> str:
    """The real app on a store holding the twelve tiny texts, not embedded."""

    def fill(store) -> None:
        ingest(store, [read_path(tiny_csv, Limits())], IngestOptions(name="tiny"))

    return serve(fill=fill)


def test_pinned_chart_appears_in_the_downloaded_report(server: str, page: Page, tmp_path) -> None:
    page.goto(server)
    expect(page.get_by_role("heading", name="Your corpora")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Pin to report").first.click()
    expect(page.get_by_text("Pinned to the report")).to_be_visible()
    page.goto(f"{server}/report")
    heading = page.get_by_role("heading", name="Figure 1. Text lengths — tiny")
    expect(heading).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    # title and caption once each: as text around the chart, not drawn into it again
    expect(page.locator(".js-plotly-plot svg text", has_text="Text lengths")).to_have_count(0)
    expect(page.locator(".js-plotly-plot svg text", has_text="Corpus tiny")).to_have_count(0)
    expect(page.get_by_text("Corpus tiny: n = 12 texts", exact=False)).to_have_count(1)
    page.get_by_label("Report title", exact=True).fill("Tiny texts")
    page.get_by_label("Report title", exact=True).press("Enter")
    page.get_by_label("Note (exported with the chart)").fill("Twelve short texts.")
    page.get_by_label("Report title", exact=True).click()  # leaving the note box stores it
    expect(page.get_by_label("Note (exported with the chart)")).to_have_value("Twelve short texts.")
    page.wait_for_load_state("networkidle")
    with page.expect_download() as html_download:
        page.get_by_role("button", name="Report (HTML)").click()
    html = Path(html_download.value.path()).read_text(encoding="utf-8")
    assert "Text lengths — tiny" in html and "Plotly.newPlot" in html
    assert "<h1>Tiny texts</h1>" in html and '<p class="note">Twelve short texts.</p>' in html
    assert '<script src="http' not in html
    with page.expect_download() as zip_download:
        page.get_by_role("button", name="Report (ZIP: PNG + SVG + index.md)").click()
    with zipfile.ZipFile(zip_download.value.path()) as archive:
        names = archive.namelist()
    assert "index.md" in names and "report.html" in names
    assert any(n.endswith(".png") for n in names) and any(n.endswith(".svg") for n in names)


def test_report_html_opens_offline_in_chromium(tmp_path: Path, store: Store, figures, page) -> None:
    """Every request is refused except the file itself: the charts must still draw."""
    pin_all(store, figures)
    path = tmp_path / "report.html"
    path.write_text(report_html(list_pins(store)), encoding="utf-8")
    requested: list[str] = []

    def refuse_network(route) -> None:
        requested.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", refuse_network)
    page.goto(path.as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6")
    assert page.locator(".js-plotly-plot").count() == 3
    assert page.locator("text=Produced with Plotly").count() == 0
    assert [url for url in requested if not url.startswith("file://")] == []
