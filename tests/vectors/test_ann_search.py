"""Search through an IVF index against exact search, on clustered synthetic vectors stored as a
corpus's imported vectors; the exact-size threshold is passed in (``exact_below``) so a small
corpus takes the index path."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis.core.errors import UserError
from analysis.core.progress import JobCancelled
from analysis.core.store import Store
from analysis.corpus.corpora import IngestOptions, delete_corpus
from analysis.corpus.readers import ParsedTable
from analysis.vectors.ann_build import ExactNeighbours, IvfParams, build_index
from analysis.vectors.ann_index import IndexKey, index_folder, index_paths, search_index
from analysis.vectors.catalogue import corpus_models
from analysis.vectors.ingest import ingest
from analysis.vectors.search import (
    EXACT_SEARCH_MAX,
    build_search_index,
    neighbours_of_doc,
    search_method,
    top_k_cosine,
)

N, DIM, CENTRES = 3000, 32, 30


def clustered(n: int, dim: int, centres: int, seed: int) -> np.ndarray:
    """Unit vectors from a Gaussian mixture on the sphere (points near one of ``centres``)."""
    rng = np.random.default_rng(seed)
    middles = rng.standard_normal((centres, dim)).astype(np.float32)
    points = middles[rng.integers(0, centres, n)] + 0.35 * rng.standard_normal((n, dim))
    points = points.astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def vector_corpus(store: Store, name: str, vectors: np.ndarray):
    frame = pd.DataFrame({"text": [f"document {name} {i}" for i in range(len(vectors))]})
    table = ParsedTable(frame, f"{name}.parquet", [], vectors, "column 'embedding'")
    corpus, _ = ingest(store, [table], IngestOptions(name=name, vector_model="synthetic"))
    return corpus, corpus_models(store, corpus)[0]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """A 3,000-vector corpus with its index built once for the module (tests only read it)."""
    store = Store(tmp_path_factory.mktemp("ann") / "ann.duckdb")
    vectors = clustered(N, DIM, CENTRES, seed=0)
    corpus, record = vector_corpus(store, "blobs", vectors)
    built = build_search_index(store, corpus, record)
    yield store, corpus, record, vectors, built
    store.close()


def test_the_build_measures_recall_against_exact_and_the_index_agrees(indexed) -> None:
    store, corpus, record, vectors, built = indexed
    assert built.approximate and built.info is not None
    assert built.info.recall >= 0.95 and built.info.recall_queries == 1000
    assert built.info.recall_k == 10 and 0 <= built.info.recall_stderr < 0.02
    method = search_method(store, corpus, record, exact_below=0)
    assert method.approximate and method.info == built.info
    # On other queries (corpus vectors moved a little, so none is in the index) it agrees too.
    rng = np.random.default_rng(7)
    queries = vectors[rng.choice(N, 200, replace=False)] + 0.05 * rng.standard_normal((200, DIM))
    overlap = []
    for query in queries.astype(np.float32):
        exact, _ = top_k_cosine(vectors, query, 10)
        found, scores = search_index(method.index, query, 10)
        overlap.append(len(set(found.tolist()) & set(exact.tolist())) / 10)
        cosines = vectors[found] @ (query / np.linalg.norm(query))
        np.testing.assert_allclose(scores, cosines, atol=1e-5)
    assert np.mean(overlap) >= 0.95
    assert "recall@10" in method.describe() and "IVF index" in method.describe()


def test_neighbours_of_a_document_leave_it_out_on_both_paths(indexed) -> None:
    store, corpus, record, vectors, _ = indexed
    approximate = search_method(store, corpus, record, exact_below=0)
    exact = search_method(store, corpus, record)
    assert approximate.approximate and not exact.approximate
    for doc_id in (0, 1234, N - 1):
        by_index = neighbours_of_doc(store, corpus, record, doc_id, 10, method=approximate)
        by_scan = neighbours_of_doc(store, corpus, record, doc_id, 10, method=exact)
        assert len(by_index) == len(by_scan) == 10
        assert doc_id not in {hit.doc_id for hit in by_index}
        assert doc_id not in {hit.doc_id for hit in by_scan}
        expected = vectors @ vectors[doc_id]
        for hit in by_index + by_scan:
            assert hit.score == pytest.approx(float(expected[hit.doc_id]), abs=1e-5)
        assert len({h.doc_id for h in by_index} & {h.doc_id for h in by_scan}) >= 8


def test_below_the_threshold_search_is_exact_and_needs_no_index(indexed) -> None:
    store, corpus, record, _, _ = indexed
    assert N <= EXACT_SEARCH_MAX
    method = search_method(store, corpus, record)
    assert not method.approximate and not method.index_missing and method.index is None
    assert method.describe() == f"exact cosine search over {N:,} vectors"


def test_the_threshold_is_the_largest_size_searched_exactly(indexed) -> None:
    store, corpus, record, _, _ = indexed
    assert 100_000 <= EXACT_SEARCH_MAX <= 1_000_000  # measured: see the comment at its definition
    assert not search_method(store, corpus, record, exact_below=N).approximate
    assert search_method(store, corpus, record, exact_below=N - 1).approximate


@pytest.mark.parametrize(("doc_id", "k"), [(-1, 5), (N, 5), (0, 0), (0, 1001)])
def test_neighbours_of_a_missing_document_or_a_bad_k_are_refused(indexed, doc_id, k) -> None:
    store, corpus, record, _, _ = indexed
    with pytest.raises(UserError, match=r"no document|k must be between"):
        neighbours_of_doc(store, corpus, record, doc_id, k)


def test_above_the_threshold_without_an_index_search_is_exact_and_says_one_is_missing(
    store: Store,
) -> None:
    corpus, record = vector_corpus(store, "plain", clustered(50, DIM, 3, seed=1))
    method = search_method(store, corpus, record, exact_below=10)
    assert not method.approximate and method.index_missing and method.notice is None
    assert "no search index built yet" in method.describe()
    hits = neighbours_of_doc(store, corpus, record, 3, 5, method=method)
    assert len(hits) == 5 and 3 not in {h.doc_id for h in hits}


def test_an_index_of_earlier_vectors_is_ignored_with_a_notice(store: Store) -> None:
    corpus, record = vector_corpus(store, "again", clustered(400, DIM, 4, seed=2))
    build_index(store, corpus, replace(record, created_at="2000-01-01 00:00:00"))
    method = search_method(store, corpus, record, exact_below=0)
    assert not method.approximate and method.index_missing
    assert "built from other vectors" in method.notice and "rebuild" in method.describe()
    assert build_search_index(store, corpus, record).approximate
    assert len(list(index_folder(store).glob("*.faiss"))) == 1  # the stale one was removed


def test_a_deleted_and_reingested_corpus_never_gets_the_old_index(store: Store) -> None:
    vectors = clustered(400, DIM, 4, seed=2)
    corpus, record = vector_corpus(store, "again", vectors)
    build_search_index(store, corpus, record)
    delete_corpus(store, "again")
    # The same name, the same vectors in another order: the old file must not answer.
    flipped = vectors[::-1].copy()
    corpus, record = vector_corpus(store, "again", flipped)
    method = search_method(store, corpus, record, exact_below=0)
    assert not method.approximate and method.index_missing
    hits = neighbours_of_doc(store, corpus, record, 0, 3, method=method)
    assert [h.doc_id for h in hits] == top_k_cosine(flipped, flipped[0], 4)[0][1:].tolist()
    other, other_record = vector_corpus(store, "other", vectors[:50].copy())
    build_search_index(store, other, other_record)  # a build prunes what no corpus can use
    assert len(list(index_folder(store).glob("*.faiss"))) == 1


@pytest.mark.parametrize("damage", ["truncate", "json"])
def test_a_damaged_index_is_ignored_with_a_notice(store: Store, damage: str) -> None:
    corpus, record = vector_corpus(store, "hurt", clustered(300, DIM, 3, seed=3))
    build_search_index(store, corpus, record)
    index_path, info_path = index_paths(store, IndexKey.of(corpus, record))
    if damage == "truncate":
        index_path.write_bytes(index_path.read_bytes()[:1000])
    else:
        info_path.write_text("{not json", encoding="utf-8")
    method = search_method(store, corpus, record, exact_below=0)
    assert not method.approximate and method.index_missing
    assert "cannot be used" in method.notice


def test_a_cancelled_build_leaves_no_index(store: Store) -> None:
    corpus, record = vector_corpus(store, "stop", clustered(300, DIM, 3, seed=4))

    def cancel(done: int, total: int, stage: str | None = None) -> None:
        if done > 0:
            raise JobCancelled

    with pytest.raises(JobCancelled):
        build_search_index(store, corpus, record, progress=cancel)
    folder = index_folder(store)
    assert not folder.exists() or not list(folder.iterdir())
    assert search_method(store, corpus, record, exact_below=0).index_missing


def test_the_build_reads_vectors_in_batches_and_reports_progress(store: Store) -> None:
    vectors = clustered(500, DIM, 5, seed=5)
    corpus, record = vector_corpus(store, "steps", vectors)
    reports: list[tuple[int, int]] = []
    info = build_index(store, corpus, record, lambda d, t: reports.append((d, t)), batch_rows=64)
    # reading, k-means, then every filed batch
    assert [done for done, _ in reports] == [0, 0, *range(64, 500, 64), 499, 500]
    assert all(total == 500 for _, total in reports)
    saved = json.loads(index_paths(store, IndexKey.of(corpus, record))[1].read_text())
    assert saved["key"]["n"] == 500 and saved["recall"] == info.recall >= 0.95
    method = search_method(store, corpus, record, exact_below=0)
    hits = neighbours_of_doc(store, corpus, record, 42, 5, method=method)
    exact = top_k_cosine(vectors, vectors[42], 6)[0][1:]
    assert len({h.doc_id for h in hits} & set(exact.tolist())) >= 4


def test_exact_neighbours_over_batches_match_one_full_scan() -> None:
    vectors = clustered(700, DIM, 7, seed=6)
    query_ids = np.array([0, 5, 123, 699])
    running = ExactNeighbours(vectors[query_ids], 11)
    shuffled = np.random.default_rng(8).permutation(700)  # batches come in no particular order
    for start in range(0, 700, 97):
        rows = shuffled[start : start + 97]
        running.update(rows, vectors[rows])
    for own, found in zip(query_ids, running.without(query_ids, 10), strict=True):
        assert found == set(top_k_cosine(vectors, vectors[own], 11)[0][1:].tolist())


def test_the_lists_asked_for_are_built_and_recorded(store: Store) -> None:
    corpus, record = vector_corpus(store, "rich", clustered(300, DIM, 3, seed=9))
    info = build_index(store, corpus, record, ivf=IvfParams(lists=5))
    assert info.lists == 5 and 1 <= info.probes <= 5 and info.recall >= 0.95
    method = search_method(store, corpus, record, exact_below=0)
    assert f"{info.probes} of 5 lists scanned per query" in method.describe()
    assert IvfParams().lists_for(1_000_000) == 2000 and IvfParams().lists_for(300) == 7
    with pytest.raises(UserError, match="lists must be 1-1,000,000, got 0"):
        IvfParams(lists=0)
