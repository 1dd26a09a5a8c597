"""Exact nearest neighbours by cosine over stored unit vectors.

Exact, not approximate: at up to a few hundred thousand 384-d vectors one matrix-vector product
takes milliseconds, and an exact answer needs no index to build or trust.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus
from analysis.vectors.catalogue import CorpusModel, encoder_for, load_vectors


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


def semantic_search(
    store: Store,
    corpus: Corpus,
    record: CorpusModel,
    query: str,
    k: int = 10,
    vectors: np.ndarray | None = None,
) -> list[SearchHit]:
    """The k documents closest to a query embedded with the corpus's own model."""
    if not query.strip():
        raise UserError("Type a query to search for.")
    if not 1 <= k <= 1000:
        raise UserError(f"k must be between 1 and 1000, got {k}.")
    encoder = encoder_for(store, corpus, record)
    query_vector = encoder.encode([query])[0]
    if vectors is None:
        vectors = load_vectors(store, corpus, record.model_key, record.dim)
    order, scores = top_k_cosine(vectors, query_vector, k)
    return [SearchHit(int(i), float(s)) for i, s in zip(order, scores, strict=True)]
