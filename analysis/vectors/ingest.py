"""Ingesting files as a corpus, with the vectors that came with them committed in the same step.

Preparing and writing a corpus belong to the corpus package; vectors imported with it belong to
the embedding cache one layer up, so the whole ingest is composed here: the corpus and its
imported vectors are written in one transaction, complete or absent.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd

from analysis.core.config import Limits
from analysis.core.progress import ProgressFn
from analysis.core.store import Store
from analysis.corpus.building import build_corpus
from analysis.corpus.corpora import Corpus, IngestOptions
from analysis.corpus.readers import ParsedTable
from analysis.corpus.streaming import TableStream, stream_of
from analysis.models.encoders import ModelInfo
from analysis.vectors.cache import (
    Representation,
    record_corpus_embedding,
    upsert_model,
    write_cache,
)


def ingest(
    store: Store,
    tables: Sequence[ParsedTable | TableStream],
    options: IngestOptions,
    limits: Limits | None = None,
    progress: ProgressFn | None = None,
) -> tuple[Corpus, str | None]:
    """Write the files as a corpus, with any imported vectors; returns it and their model name.

    Tables read whole and files streamed in batches take the same path; ``progress(rows, total)``
    is called after each batch.
    """
    streams = [t if isinstance(t, TableStream) else stream_of(t) for t in tables]
    vectors = next((s for s in streams if s.vector_source is not None), None)
    if vectors is None:
        return build_corpus(store, streams, options, limits, progress), None
    model = (options.vector_model or "imported").strip() or "imported"
    writer = ImportedVectors(store, model, ", ".join(s.source for s in streams))
    return build_corpus(store, streams, options, limits, progress, writer), model


class ImportedVectors:
    """Records vectors that came with the files as an 'external' model of the new corpus.

    The key includes the corpus, since imported vectors say nothing about other corpora's texts.
    Where one text appears twice with different vectors, the first one is kept (within a batch
    here, across batches by the cache's own rule of never overwriting a vector).
    """

    def __init__(self, store: Store, model: str, sources: str) -> None:
        self.store, self.model, self.sources = store, model, sources
        self._recorded = False

    def __call__(
        self, cur: duckdb.DuckDBPyConnection, corpus_id: int, hashes: list[str], vectors: np.ndarray
    ) -> None:
        dim = int(vectors.shape[1])
        info = ModelInfo(
            model_key=f"external:{self.model}@corpus{corpus_id}",
            name=self.model,
            kind="external",
            source=self.sources,
            revision=f"imported into corpus {corpus_id}",
            dim=dim,
            n_layers=None,
            pooling="external",
            max_length=None,
        )
        if not self._recorded:
            upsert_model(cur, info)
            record_corpus_embedding(cur, corpus_id, info.model_key, Representation(), dim, 0.0)
            self._recorded = True
        first = ~pd.Series(hashes).duplicated().to_numpy()
        kept = [h for h, keep in zip(hashes, first, strict=True) if keep]
        write_cache(cur, self.store, info.model_key, Representation(), kept, vectors[first])
