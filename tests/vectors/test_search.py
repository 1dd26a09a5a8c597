"""Exact cosine search: against an argsort reference, and with the real model on a tiny corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.corpus.corpora import IngestOptions, load_documents
from analysis.corpus.readers import read_path
from analysis.vectors.catalogue import corpus_models, load_vectors
from analysis.vectors.embedding import embed_corpus
from analysis.vectors.ingest import ingest
from analysis.vectors.search import SearchHit, semantic_search, top_k_cosine

TINY = [  # the texts of conftest's tiny_csv
    ("The cat sat on the warm mat.", "animals"),
    ("Dogs love long walks in the park.", "animals"),
    ("A parrot can learn many words.", "animals"),
    ("Horses gallop across the open field.", "animals"),
    ("The goldfish swims in its bowl.", "animals"),
    ("Owls hunt quietly at night.", "animals"),
    ("The stock market fell sharply today.", "finance"),
    ("Interest rates were raised again.", "finance"),
    ("The bank approved the mortgage.", "finance"),
    ("Bonds rallied after the announcement.", "finance"),
    ("Inflation slowed for the third month.", "finance"),
    ("The company reported record profits.", "finance"),
]
ANIMALS = set(range(6))


def unit_rows(n: int, dims: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, dims)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("k", [1, 5, 37, 499, 500])
def test_top_k_matches_a_full_argsort(k: int) -> None:
    vectors = unit_rows(500, 32, seed=k)
    query = np.random.default_rng(100 + k).standard_normal(32).astype(np.float32)
    order, scores = top_k_cosine(vectors, query * 7.5, k)  # the query need not be unit length
    reference_scores = vectors.astype(np.float64) @ (query / np.linalg.norm(query))
    reference = np.argsort(-reference_scores, kind="stable")[:k]
    np.testing.assert_array_equal(order, reference)
    np.testing.assert_allclose(scores, reference_scores[reference], atol=1e-5)
    assert (np.diff(scores) <= 0).all()
    assert scores[0] <= 1.0 + 1e-6 and scores[-1] >= -1.0 - 1e-6


def test_a_stored_vector_finds_itself_first() -> None:
    vectors = unit_rows(50, 16, seed=1)
    order, scores = top_k_cosine(vectors, vectors[17], 3)
    assert order[0] == 17 and scores[0] == pytest.approx(1.0, abs=1e-5)


def test_k_larger_than_the_corpus_returns_every_row_ranked() -> None:
    vectors = unit_rows(6, 8, seed=2)
    query = unit_rows(1, 8, seed=3)[0]
    order, scores = top_k_cosine(vectors, query, 100)
    assert sorted(order.tolist()) == list(range(6))
    np.testing.assert_array_equal(order, np.argsort(-(vectors @ query), kind="stable"))
    assert scores.shape == (6,)


@pytest.mark.parametrize("k", [0, -1])
def test_k_below_one_is_refused(k: int) -> None:
    with pytest.raises(ValueError, match=f"k must be at least 1, got {k}"):
        top_k_cosine(unit_rows(5, 4, seed=0), np.ones(4), k)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, default_encoder):
    """conftest's twelve tiny_csv texts, embedded once for the module (the tests only read it)."""
    folder = tmp_path_factory.mktemp("search")
    csv = folder / "tiny.csv"
    csv.write_text("text,topic\n" + "\n".join(f'"{t}",{label}' for t, label in TINY) + "\n")
    db = Store(folder / "search.duckdb")
    corpus, _ = ingest(db, [read_path(csv, Limits())], IngestOptions(name="tiny"))
    embed_corpus(db, "tiny")
    yield db, corpus, corpus_models(db, corpus)[0]
    db.close()


def test_semantic_search_finds_the_topic_asked_for(tiny) -> None:
    store, corpus, record = tiny
    hits = semantic_search(store, corpus, record, "a pet animal", k=3)
    assert all(isinstance(hit, SearchHit) for hit in hits) and len(hits) == 3
    assert hits[0].doc_id in ANIMALS
    texts = load_documents(store, corpus)["text"]
    assert texts[hits[0].doc_id] == TINY[hits[0].doc_id][0]
    assert TINY[hits[0].doc_id][1] == "animals"
    money = semantic_search(store, corpus, record, "money and banking", k=3)
    assert money[0].doc_id not in ANIMALS
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_semantic_search_scores_are_cosines_of_the_query(tiny, default_encoder) -> None:
    store, corpus, record = tiny
    vectors = load_vectors(store, corpus, record.model_key, record.dim)
    hits = semantic_search(store, corpus, record, "interest rates", k=20)
    assert len(hits) == 12 and sorted(h.doc_id for h in hits) == list(range(12))
    query = default_encoder.encode(["interest rates"])[0]
    expected = vectors @ (query / np.linalg.norm(query))
    for hit in hits:
        assert hit.score == pytest.approx(float(expected[hit.doc_id]), abs=1e-4)
    # Passing the vectors in gives the same answer as loading them.
    passed = semantic_search(store, corpus, record, "interest rates", k=20, vectors=vectors)
    assert [h.doc_id for h in passed] == [h.doc_id for h in hits]


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_an_empty_query_is_a_user_error(tiny, query: str) -> None:
    store, corpus, record = tiny
    with pytest.raises(UserError, match="Type a query to search for"):
        semantic_search(store, corpus, record, query)


@pytest.mark.parametrize("k", [0, 1001])
def test_k_out_of_range_is_a_user_error(tiny, k: int) -> None:
    store, corpus, record = tiny
    with pytest.raises(UserError, match=f"k must be between 1 and 1000, got {k}"):
        semantic_search(store, corpus, record, "cats", k=k)


def test_imported_vectors_cannot_embed_a_query(store, tmp_path: Path) -> None:
    csv = tmp_path / "ext.csv"
    csv.write_text("text\none\ntwo\nthree\n")
    np.save(tmp_path / "ext.npy", unit_rows(3, 4, seed=0))
    table = read_path(csv, Limits(), npy_path=tmp_path / "ext.npy")
    corpus, _ = ingest(store, [table], IngestOptions(name="ext", vector_model="synthetic"))
    record = corpus_models(store, corpus)[0]
    with pytest.raises(UserError, match="cannot embed new text"):
        semantic_search(store, corpus, record, "one")
