"""End to end in Debian Chromium: load a demo corpus, embed it, see it listed; a bad upload."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox by its visible label."""
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_demo_corpus_is_embedded_and_listed(app_server: str, page: Page) -> None:
    page.goto(app_server)
    expect(page.get_by_role("heading", name="Corpora", exact=True)).to_be_visible()
    choose(page, "Demo corpus", "stdlib_docs_small")
    expect(page.get_by_label("Corpus name")).to_have_value("stdlib_docs_small")
    page.get_by_role("button", name="Create corpus").click()
    expect(page.get_by_text("Created 'stdlib_docs_small': 300 texts")).to_be_visible()
    done = page.get_by_text("Embedded stdlib_docs_small with all-MiniLM-L6-v2: 300 texts")
    expect(done).to_be_visible(timeout=240_000)
    page.reload()
    expect(page.get_by_text("1 corpus", exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="Your corpora")).to_be_visible()
    listed = page.locator("td[role=gridcell]", has_text="all-MiniLM-L6-v2")
    expect(listed.first).to_be_attached()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    expect(page.locator("svg text", has_text="Text lengths — stdlib_docs_small")).to_have_count(1)


def test_malformed_upload_shows_the_error(app_server: str, page: Page) -> None:
    page.goto(app_server)
    page.get_by_text("Upload files").click()
    page.locator("input[type=file]").set_input_files(
        files=[
            {
                "name": "broken.jsonl",
                "mimeType": "application/json",
                "buffer": b'{"text": "fine"}\n{"text": "ok"}\n{"text": nope}\n',
            }
        ]
    )
    alert = page.get_by_text("broken.jsonl line 3")
    expect(alert).to_be_visible()
    expect(page.get_by_text("Traceback")).to_have_count(0)
