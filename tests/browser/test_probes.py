"""End to end in Debian Chromium: run a probe on the Probes page and a comparison on the Compare
page of a prepared store, and see their figures drawn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.probe_corpus import copy_of, template

pytestmark = pytest.mark.browser


@pytest.fixture
def server(serve: Callable[..., str], tmp_path: Path, tmp_path_factory) -> str:
    """The real app on a copy of the 'docs' store (embedded, layers cached)."""
    return serve(copy_of(template(tmp_path_factory), tmp_path / "browser.duckdb"))


def no_errors(page: Page) -> None:
    expect(page.get_by_text("Traceback")).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_probe_then_compare(server: str, page: Page) -> None:
    page.goto(f"{server}/probes")
    expect(page.get_by_role("heading", name="Probes", exact=True)).to_be_visible()
    expect(page.get_by_text("all layers are cached", exact=False)).to_be_visible()
    page.get_by_role("button", name="Run").click()
    title = page.locator("svg text", has_text="Probe accuracy per layer")
    expect(title).to_have_count(1, timeout=180_000)
    expect(page.get_by_text("'topic' is decodable", exact=False)).to_be_visible()
    expect(page.locator("svg text", has_text="Selectivity per layer")).to_have_count(1)
    expect(page.locator("svg text", has_text="Accuracy by number of dimensions")).to_have_count(1)
    expect(page.get_by_role("button", name="Pin to report").first).to_be_visible()
    no_errors(page)
    page.screenshot(path="/tmp/probes_e2e.png", full_page=True)

    page.goto(f"{server}/compare")
    expect(page.get_by_role("heading", name="Compare", exact=True)).to_be_visible()
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("svg text", has_text="Neighbourhood overlap per text")).to_have_count(
        1, timeout=180_000
    )
    expect(page.locator("svg text", has_text="Where A and B disagree")).to_have_count(1)
    expect(page.get_by_text("Linear CKA", exact=False).first).to_be_visible()
    expect(
        page.get_by_role("heading", name="Documents whose neighbourhoods changed most")
    ).to_be_visible()
    no_errors(page)
    page.screenshot(path="/tmp/compare_e2e.png", full_page=True)
