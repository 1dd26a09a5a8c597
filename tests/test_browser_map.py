"""End to end in Debian Chromium: the Map page on a prepared store; box selection and search."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, _free_port
from playwright.sync_api import Page, expect

from analysis.config import Limits
from analysis.corpora import IngestOptions, get_corpus, ingest
from analysis.embedding import corpus_models, embed_corpus
from analysis.projection import ProjectionParams, project
from analysis.readers import read_bytes
from analysis.store import Store

pytestmark = pytest.mark.browser

TOPICS = {
    "animals": [
        "The cat sat on the warm mat.",
        "Dogs love long walks in the park.",
        "A parrot can learn many words.",
        "Horses gallop across the open field.",
        "The goldfish swims in its bowl.",
        "Owls hunt quietly at night.",
        "The kitten chased a ball of yarn.",
        "Wolves travel in packs through the forest.",
        "The rabbit nibbled fresh carrots.",
        "Cows graze in the green meadow.",
    ],
    "finance": [
        "The stock market fell sharply today.",
        "Interest rates were raised again.",
        "The bank approved the mortgage.",
        "Bonds rallied after the announcement.",
        "Inflation slowed for the third month.",
        "The company reported record profits.",
        "Investors sold shares amid uncertainty.",
        "The central bank cut its lending rate.",
        "Quarterly earnings beat analyst forecasts.",
        "The currency weakened against the dollar.",
    ],
}


def _prepare_store(path: Path) -> None:
    """Ingest, embed and store the PCA and default UMAP maps, then release the file.

    A Store of its own (not open_store, which caches the connection): DuckDB lets one process
    at a time open the file, and the server is that process next.
    """
    rows = [(text, topic) for topic, texts in TOPICS.items() for text in texts]
    body = "text,topic\n" + "\n".join(f'"{text}",{topic}' for text, topic in rows) + "\n"
    store = Store(path)
    try:
        table = read_bytes(body.encode("utf-8"), "topics.csv", Limits())
        ingest(store, [table], IngestOptions(name="topics", label_columns=["topic"]))
        embed_corpus(store, "topics")
        corpus = get_corpus(store, "topics")
        record = corpus_models(store, corpus)[0]
        for method in ("pca", "umap"):
            project(store, corpus, record, ProjectionParams(method=method))
    finally:
        store.close()


@pytest.fixture
def map_server(tmp_path: Path):
    """`streamlit run app.py` on a free port, on a store that already holds a UMAP map."""
    db = tmp_path / "browser_map.duckdb"
    _prepare_store(db)
    port = _free_port()
    env = {**os.environ, "EMBEDLENS_DB": str(db)}
    log_path = tmp_path / "server.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError(log_path.read_text()) from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_box_selection_and_search_on_the_map(map_server: str, page: Page) -> None:
    page.goto(f"{map_server}/map")
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
