"""End to end in Debian Chromium: five people on one server at once.

Each browser context (its own Streamlit session) uploads its own small corpus, has it embedded
right away and opens its map. Their embeddings queue on the one worker. Afterwards the store,
read directly while the server still runs, holds every corpus complete: every row, every vector.
"""

from __future__ import annotations

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from analysis.core.store import Store
from analysis.corpus.corpora import get_corpus, load_documents
from analysis.vectors.catalogue import corpus_models, load_vectors
from tests.browser.conftest import Serve
from tests.shared import DEMO_DOCS

pytestmark = pytest.mark.browser

SESSIONS = 5
ROWS = 60
DOCS = pd.read_csv(DEMO_DOCS)["text"].tolist()


def corpus_csv(person: int) -> bytes:
    """A corpus of its own per person: different texts, so nothing comes from another's cache."""
    texts = DOCS[person * ROWS : (person + 1) * ROWS]
    return pd.DataFrame({"text": texts, "person": person}).to_csv(index=False).encode("utf-8")


def no_error(page: Page) -> None:
    """No exception box and no error message (the texts are docstrings: "Traceback" is data)."""
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)


def settled(page: Page) -> None:
    """Wait until the session's script run has finished (the "Running…" indicator is gone)."""
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)


def upload_and_create(page: Page, person: int) -> None:
    page.get_by_text("Upload files").click()
    page.locator("input[type=file]").set_input_files(
        files=[
            {"name": f"person{person}.csv", "mimeType": "text/csv", "buffer": corpus_csv(person)}
        ]
    )
    expect(page.get_by_label("Corpus name")).to_have_value(f"person{person}")
    settled(page)
    page.get_by_role("button", name="Create corpus").click()
    # The sidebar counts every session's corpora, live.
    count = "1 corpus" if person == 0 else f"{person + 1} corpora"
    expect(page.get_by_test_id("stSidebar")).to_contain_text(count)


def open_own_map(page: Page, url: str, person: int) -> None:
    page.goto(f"{url}/map")
    expect(page.get_by_role("heading", name="Map", exact=True)).to_be_visible()
    page.get_by_role("combobox", name="Corpus").click()
    page.get_by_role("option", name=f"person{person}", exact=True).click()
    title = page.locator("svg text.gtitle", has_text=f"— person{person}")
    expect(title).to_have_count(1, timeout=240_000)
    no_error(page)


def test_five_sessions_upload_embed_and_map_at_once(serve: Serve, browser, tmp_path) -> None:
    expect.set_options(timeout=30_000)
    db = tmp_path / "shared.duckdb"
    url = serve(db)
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1800}) for _ in range(5)]
    try:
        pages = [context.new_page() for context in contexts]
        for page in pages:
            page.set_default_timeout(60_000)
            page.goto(url)
            expect(page.get_by_role("heading", name="Corpora", exact=True)).to_be_visible()
        for person, page in enumerate(pages):
            upload_and_create(page, person)
        for person, page in enumerate(pages):
            done = page.get_by_text(f"Embedded person{person} with all-MiniLM-L6-v2: {ROWS} texts")
            expect(done).to_be_visible(timeout=300_000)
            no_error(page)
        for person, page in enumerate(pages):
            open_own_map(page, url, person)
    finally:
        for context in contexts:
            context.close()

    store = Store(db)
    try:
        for person in range(SESSIONS):
            corpus = get_corpus(store, f"person{person}")
            documents = load_documents(store, corpus)
            assert corpus.n_rows == len(documents) == ROWS
            assert documents["text"].tolist() == DOCS[person * ROWS : (person + 1) * ROWS]
            (model,) = corpus_models(store, corpus)
            assert load_vectors(store, corpus, model.model_key, model.dim).shape == (ROWS, 384)
    finally:
        store.close()
