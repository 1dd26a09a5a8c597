"""Ingesting files as a corpus, with the vectors that came with them committed in the same step.

Preparing and writing a corpus belong to the corpus package; vectors imported with it belong to
the embedding cache one layer up, so the whole ingest is composed here: the corpus and its
imported vectors are written in one transaction, complete or absent.
"""

from __future__ import annotations

from collections.abc import Sequence

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
from analysis.vectors.embedding import register_imported_vectors


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
