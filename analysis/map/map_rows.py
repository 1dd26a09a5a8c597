"""Targeted reads of a corpus for the Map page: one column, or the rows of given documents.

A map of a million documents must not load a million texts to colour its points or to show
twenty of them, so the page asks DuckDB for exactly what it draws: the colour column (from the
per-corpus metadata table, or ``n_tokens``), and texts and fields only for the doc ids on screen.
The wanted ids travel to DuckDB as a registered Arrow table and come back in the order asked.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.core.arrow_vectors import query_arrow
from analysis.core.store import Store, quote_identifier
from analysis.corpus.corpora import Corpus, metadata_table
from analysis.map.colours import BUILT_IN_MARK, COLOR_TOKENS

DOCUMENT_COLUMNS = ("doc_id", "text", "n_tokens")
WANTED = "map_wanted_ids"  # the registered Arrow table of doc ids (one per cursor, so per thread)


def colour_frame(store: Store, corpus: Corpus, choice: str) -> pd.DataFrame:
    """The one column ``colours.color_values`` needs for ``choice``, in doc_id order (a frame with
    no columns when the choice needs none: a single colour, or the clusters)."""
    if choice in corpus.metadata_names:
        sql = (
            f"SELECT {quote_identifier(choice)} FROM {metadata_table(corpus.corpus_id)} "
            "ORDER BY doc_id"
        )
        params: list[object] = []
    elif choice.removesuffix(BUILT_IN_MARK) == COLOR_TOKENS:
        sql = "SELECT n_tokens FROM documents WHERE corpus_id = ? ORDER BY doc_id"
        params = [corpus.corpus_id]
    else:
        return pd.DataFrame(index=pd.RangeIndex(corpus.n_rows))
    with store.connection() as cur:
        return query_arrow(cur, sql, params).to_pandas()


def document_rows(
    store: Store, corpus: Corpus, doc_ids: Sequence[int] | np.ndarray, columns: Sequence[str]
) -> pd.DataFrame:
    """``columns`` (document columns and metadata names) of these documents, in the order of
    ``doc_ids``, with a RangeIndex."""
    with wanted_ids(store, doc_ids) as cur:
        table = query_arrow(
            cur, documents_sql(corpus, columns) + " ORDER BY w.pos", [corpus.corpus_id]
        )
    return table.to_pandas()


def documents_sql(corpus: Corpus, columns: Sequence[str], where: str = "") -> str:
    """SELECT of ``columns`` for the registered wanted ids (``w``), joined with the documents
    (``d``) and, when a metadata column is asked for, the corpus's metadata table (``m``)."""
    meta = [c for c in columns if c in corpus.metadata_names and c not in DOCUMENT_COLUMNS]
    unknown = [c for c in columns if c not in DOCUMENT_COLUMNS and c not in meta]
    if unknown:
        raise KeyError(f"unknown document columns {unknown}")
    select = ", ".join(f"{'m' if c in meta else 'd'}.{quote_identifier(c)}" for c in columns)
    join = f" LEFT JOIN {metadata_table(corpus.corpus_id)} m ON m.doc_id = w.doc_id" if meta else ""
    return (
        f"SELECT {select} FROM {WANTED} w JOIN documents d "
        f"ON d.corpus_id = ? AND d.doc_id = w.doc_id{join}{where}"
    )


@contextmanager
def wanted_ids(
    store: Store, doc_ids: Sequence[int] | np.ndarray
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on which ``WANTED`` (pos, doc_id) holds these ids, for the block's length."""
    ids = np.asarray(doc_ids, dtype=np.int64)
    wanted = pa.table({"pos": np.arange(ids.size, dtype=np.int64), "doc_id": ids})
    with store.connection() as cur:
        cur.register(WANTED, wanted)
        try:
            yield cur
        finally:
            cur.unregister(WANTED)
