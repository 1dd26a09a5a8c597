"""A corpus's distinct texts, named by their hashes and read from the store a chunk at a time.

The cache is keyed by text hash, so embedding needs the hashes of every document but the texts
only of those it encodes, and only a chunk at a time: a million documents of a few hundred
characters are about a gigabyte as Python strings, their hashes a tenth of that.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from analysis.core.store import Store
from analysis.corpus.corpora import Corpus


def corpus_text_hashes(store: Store, corpus: Corpus) -> list[str]:
    """Each distinct text's hash once, in the order of its first document (LSA fits in this
    order, so it must not change)."""
    rows = store.fetch_all(
        "SELECT text_sha256 FROM documents WHERE corpus_id = ? "
        "GROUP BY text_sha256 ORDER BY min(doc_id)",
        [corpus.corpus_id],
    )
    return [row[0] for row in rows]


def texts_of(store: Store, corpus: Corpus, hashes: Sequence[str]) -> list[str]:
    """The texts with these hashes, in the order given (each hash must be the corpus's)."""
    wanted = pa.table(
        {"position": pa.array(range(len(hashes)), pa.int64()), "h": pa.array(hashes, pa.string())}
    )
    with store.connection() as cur:
        cur.register("wanted_text_hashes", wanted)
        try:
            rows = cur.execute(
                """
                SELECT any_value(d.text) FROM wanted_text_hashes w
                JOIN documents d ON d.text_sha256 = w.h AND d.corpus_id = ?
                GROUP BY w.position ORDER BY w.position
                """,
                [corpus.corpus_id],
            ).fetchall()
        finally:
            cur.unregister("wanted_text_hashes")
    if len(rows) != len(hashes):
        raise ValueError(f"{len(hashes) - len(rows)} of these hashes are not in the corpus")
    return [row[0] for row in rows]


def unique_corpus_texts(store: Store, corpus: Corpus) -> list[str]:
    """Every distinct text of the corpus, in the order of its first document."""
    return texts_of(store, corpus, corpus_text_hashes(store, corpus))
