"""Nearest documents by cosine: exact below a size, through an IVF index above it.

Exact search (one matrix-vector product) needs no index to build or trust, and is fast enough up
to a few hundred thousand 384-d vectors. Above ``EXACT_SEARCH_MAX`` a corpus is searched through
its IVF index (``ann_index``, ``ann_build``) when one was built, without loading every vector;
when none was built, or the one on disk is stale or unreadable, search stays exact and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, list_corpora
from analysis.vectors.ann_build import DEFAULT_IVF, TARGET_RECALL, IvfParams, build_index
from analysis.vectors.ann_index import (
    IndexInfo,
    IndexKey,
    find_index,
    prune_indexes,
    search_index,
    stored_vector,
)
from analysis.vectors.catalogue import (
    CorpusModel,
    corpus_models,
    encoder_for,
    load_vectors,
)

# Exact search up to this many vectors. `top_k_cosine` (`vectors @ q` + argpartition) on this
# 2-core machine, clustered 384-d unit vectors, median of 50 queries, twice with other jobs on the
# cores: load ~3: 100k 22 ms, 200k 24 ms, 300k 44 ms, 400k 65 ms, 1M 169 ms; load ~7
# (bench/million_search.py): 100k 30 ms, 200k 52 ms, 300k 75 ms, 500k 123 ms, 1M 245 ms.
# ~50 ms is crossed between 200k and 400k depending on load; 200k keeps it near 50 ms when busy.
EXACT_SEARCH_MAX = 200_000
MAX_K = 1000


def top_k_cosine(vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosine scores of the k rows most similar to ``query``, best first.

    ``vectors`` rows must be L2-normalised (as stored); the query is normalised here.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    q = np.asarray(query, dtype=np.float32).ravel()
    q = q / max(float(np.linalg.norm(q)), 1e-12)
    scores = vectors @ q
    k = min(k, scores.shape[0])
    top = np.argpartition(-scores, k - 1)[:k]
    order = top[np.argsort(-scores[top], kind="stable")]
    return order, scores[order]


@dataclass(frozen=True)
class SearchHit:
    doc_id: int
    score: float


@dataclass(frozen=True)
class SearchMethod:
    """How a corpus is searched right now, and what the user should be told about it."""

    n: int
    approximate: bool
    index_missing: bool = False  # above the exact size with no usable index: build one
    info: IndexInfo | None = None
    notice: str | None = None  # why an index on disk is not used
    index: object | None = field(default=None, repr=False, compare=False)

    def describe(self) -> str:
        if self.info is None:
            text = f"exact cosine search over {self.n:,} vectors"
            if self.index_missing and self.notice is None:
                text += " (no search index built yet)"
        else:
            info = self.info
            text = (
                f"IVF index ({info.engine.split()[0]}, {info.probes} of {info.lists:,} lists "
                f"scanned per query, exact within them) over {self.n:,} vectors, "
                f"recall@{info.recall_k} {info.recall:.3f} ± {info.recall_stderr:.3f} against "
                f"exact search on the neighbours of {info.recall_queries:,} corpus documents "
                f"(seed {info.recall_seed}, each left out of its own answer); "
                f"built in {info.build_seconds:,.0f} s"
            )
            if info.recall < TARGET_RECALL:
                text += (
                    f"; below the {TARGET_RECALL} target even at the widest search tried, so "
                    "expect some true neighbours to be missed (exact search stays available)"
                )
        return f"{text}. {self.notice}" if self.notice else text


def search_method(
    store: Store, corpus: Corpus, record: CorpusModel, exact_below: int = EXACT_SEARCH_MAX
) -> SearchMethod:
    """Exact up to ``exact_below`` vectors; above it the corpus's index when a usable one exists."""
    n = corpus.n_rows
    if n <= exact_below:
        return SearchMethod(n=n, approximate=False)
    found = find_index(store, IndexKey.of(corpus, record))
    if found.index is None:
        return SearchMethod(n=n, approximate=False, index_missing=True, notice=found.problem)
    return SearchMethod(n=n, approximate=True, info=found.info, index=found.index)


def build_search_index(
    store: Store,
    corpus: Corpus,
    record: CorpusModel,
    progress: ProgressFn | None = None,
    ivf: IvfParams = DEFAULT_IVF,
) -> SearchMethod:
    """Build and save the corpus's index (a background job's work: ``progress`` may cancel it),
    delete index files no corpus can use any more, and return the method the index provides."""
    build_index(store, corpus, record, progress, ivf=ivf)
    live = {
        IndexKey.of(stored, model)
        for stored in list_corpora(store)
        for model in corpus_models(store, stored)
    }
    prune_indexes(store, live)
    return search_method(store, corpus, record, exact_below=0)


def index_job_key(corpus: Corpus, record: CorpusModel) -> str:
    """One background index build per corpus and model."""
    return f"search-index:{corpus.corpus_id}:{record.model_key}"


def semantic_search(
    store: Store,
    corpus: Corpus,
    record: CorpusModel,
    query: str,
    k: int = 10,
    vectors: np.ndarray | None = None,
    method: SearchMethod | None = None,
) -> list[SearchHit]:
    """The k documents closest to a query embedded with the corpus's own model.

    ``method`` defaults to ``search_method`` for the corpus; ``vectors`` (all of them, doc_id
    order) spare the exact path a read and are not needed by the index.
    """
    if not query.strip():
        raise UserError("Type a query to search for.")
    _check_k(k)
    encoder = encoder_for(store, corpus, record)
    query_vector = encoder.encode([query])[0]
    method = method or search_method(store, corpus, record)
    return _nearest(store, corpus, record, method, query_vector, k, vectors)


def neighbours_of_doc(
    store: Store,
    corpus: Corpus,
    record: CorpusModel,
    doc_id: int,
    k: int,
    vectors: np.ndarray | None = None,
    method: SearchMethod | None = None,
) -> list[SearchHit]:
    """The k documents closest to a stored document, the document itself left out.

    Through the index no vector is loaded: the index holds the same float32 vectors (its
    fingerprint guarantees it), so the document's own comes from there in microseconds, where a
    DuckDB read of one vector scans the cache's hashes (tens of ms at 1M).
    """
    _check_k(k)
    if not 0 <= doc_id < corpus.n_rows:
        raise UserError(f"Corpus '{corpus.name}' has no document {doc_id}.")
    method = method or search_method(store, corpus, record)
    if method.approximate:
        own = stored_vector(method.index, doc_id)
    else:
        if vectors is None:
            vectors = load_vectors(store, corpus, record.model_key, record.dim)
        own = vectors[doc_id]
    hits = _nearest(store, corpus, record, method, own, k + 1, vectors)
    return [hit for hit in hits if hit.doc_id != doc_id][:k]


def _nearest(
    store: Store,
    corpus: Corpus,
    record: CorpusModel,
    method: SearchMethod,
    query_vector: np.ndarray,
    k: int,
    vectors: np.ndarray | None,
) -> list[SearchHit]:
    if method.approximate:
        order, scores = search_index(method.index, query_vector, min(k, corpus.n_rows))
    else:
        if vectors is None:
            vectors = load_vectors(store, corpus, record.model_key, record.dim)
        order, scores = top_k_cosine(vectors, query_vector, k)
    return [SearchHit(int(i), float(s)) for i, s in zip(order, scores, strict=True)]


def _check_k(k: int) -> None:
    if not 1 <= k <= MAX_K:
        raise UserError(f"k must be between 1 and {MAX_K}, got {k}.")
