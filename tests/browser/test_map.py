"""End to end in Debian Chromium: the Map page on a prepared store; box selection and search."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from analysis.core.config import Limits
from analysis.core.store import Store
from analysis.corpus.corpora import IngestOptions, get_corpus
from analysis.corpus.readers import read_bytes
from analysis.map.projection import ProjectionParams, project
from analysis.vectors.catalogue import corpus_models
from analysis.vectors.embedding import embed_corpus
from analysis.vectors.ingest import ingest
from tests.shared import ANIMAL_TEXTS, FINANCE_TEXTS, topics_csv

pytestmark = pytest.mark.browser

TOPICS = {"animals": ANIMAL_TEXTS[:10], "finance": FINANCE_TEXTS[:10]}


def _fill(store: Store) -> None:
    """Ingest, embed and store the PCA and default UMAP maps: the server opens on a UMAP map."""
    rows = [(text, topic) for topic, texts in TOPICS.items() for text in texts]
    table = read_bytes(topics_csv(rows), "topics.csv", Limits())
    ingest(store, [table], IngestOptions(name="topics", label_columns=["topic"]))
    embed_corpus(store, "topics")
    corpus = get_corpus(store, "topics")
    record = corpus_models(store, corpus)[0]
    for method in ("pca", "umap"):
        project(store, corpus, record, ProjectionParams(method=method))


def test_box_selection_and_search_on_the_map(serve: Callable[..., str], page: Page) -> None:
    page.goto(f"{serve(fill=_fill)}/map")
    expect(page.get_by_role("heading", name="Map", exact=True)).to_be_visible()
    plot = page.locator(".js-plotly-plot").first
    expect(plot).to_be_visible()
    expect(page.locator("svg text", has_text="UMAP map — topics")).to_have_count(1)
    expect(page.get_by_text("PCA preview")).to_have_count(0)
    expect(page.get_by_text("Trustworthiness@9", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Selected documents (0)")).to_be_visible()

    plot.hover()
    page.locator('.modebar-btn[data-title="Box Select"]').first.click()
    drag = plot.locator(".nsewdrag").first
    box = drag.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 3, box["y"] + 3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.move(box["x"] + box["width"] - 3, box["y"] + box["height"] - 3, steps=5)
    page.mouse.up()
    selected = page.get_by_role("heading", name="Selected documents (20)")
    expect(selected).to_be_visible()
    listed = page.locator("td[role=gridcell]", has_text="Owls hunt quietly at night.")
    expect(listed).to_have_count(1)
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()

    search = page.get_by_label("Semantic search")
    search.fill("stock market and interest rates")
    search.press("Enter")
    expect(page.locator("svg text.legendtext", has_text="search results")).to_have_count(
        1, timeout=120_000
    )
    hit = page.locator("td[role=gridcell]", has_text="Interest rates were raised again.")
    expect(hit).to_have_count(1)
    expect(page.get_by_text("Traceback")).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.screenshot(path="/tmp/map_e2e.png", full_page=True)
