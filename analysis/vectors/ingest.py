"""Ingesting files as a corpus, with the vectors that came with them committed in the same step.

Preparing and writing a corpus belong to the corpus package; vectors imported with it belong to
the embedding cache one layer up, so the whole ingest is composed here: the corpus and its
imported vectors are written in one transaction, complete or absent.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from analysis.core.config import Limits
from analysis.core.store import Store
from analysis.corpus.corpora import (
    Corpus,
    IngestOptions,
    PreparedCorpus,
    prepare_corpus,
    write_corpus,
)
from analysis.corpus.readers import ParsedTable
from analysis.models.encoders import (
    ModelInfo,
)
from analysis.vectors.cache import (
    Representation,
    record_corpus_embedding,
    upsert_model,
    write_cache,
)


def ingest(
    store: Store,
    tables: Sequence[ParsedTable],
    options: IngestOptions,
    limits: Limits | None = None,
) -> tuple[Corpus, PreparedCorpus]:
    """Prepare then write; the corpus (with any imported vectors) is complete or absent."""
    prepared = prepare_corpus(tables, options, limits)
    if prepared.vectors is None:
        return write_corpus(store, prepared), prepared
    corpus = write_corpus(
        store,
        prepared,
        lambda cur, corpus_id: register_imported_vectors(cur, store, corpus_id, prepared),
    )
    return corpus, prepared


def register_imported_vectors(
    cur: duckdb.DuckDBPyConnection, store: Store, corpus_id: int, prepared: PreparedCorpus
) -> None:
    """Record vectors that came with the files as an 'external' model of this corpus.

    The key includes the corpus, since imported vectors say nothing about other corpora's texts.
    Where one text appears twice with different vectors, the first one is kept.
    """
    assert prepared.vectors is not None and prepared.vector_model is not None
    dim = int(prepared.vectors.shape[1])
    info = ModelInfo(
        model_key=f"external:{prepared.vector_model}@corpus{corpus_id}",
        name=prepared.vector_model,
        kind="external",
        source=", ".join(prepared.sources),
        revision=f"imported into corpus {corpus_id}",
        dim=dim,
        n_layers=None,
        pooling="external",
        max_length=None,
    )
    hashes = prepared.documents["text_sha256"]
    first = ~hashes.duplicated().to_numpy()
    upsert_model(cur, info)
    write_cache(
        cur,
        store,
        info.model_key,
        Representation(),
        hashes[first].tolist(),
        prepared.vectors[first],
    )
    record_corpus_embedding(cur, corpus_id, info.model_key, Representation(), dim, 0.0)
