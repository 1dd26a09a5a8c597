"""The content-addressed embedding cache: one vector per (model, layer, pooling, max length,
temperature, text hash).

The same text embedded twice with the same settings never runs the model twice, across corpora and
restarts. Writes take the caller's cursor so they join the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from analysis.core.arrow_vectors import arrow_to_matrix, matrix_to_arrow, query_arrow
from analysis.core.store import Store, cache_table, first_row
from analysis.models.encoders import (
    ModelInfo,
)

OUTPUT_LAYER = -1  # the model's own sentence embedding, as opposed to a hidden layer


OUTPUT_POOLING = "model"


@dataclass(frozen=True)
class Representation:
    """Which vectors of a model: its output, or one pooled hidden layer."""

    layer: int = OUTPUT_LAYER
    pooling: str = OUTPUT_POOLING
    max_length: int = 0  # 0 = the model's own maximum
    temperature: float = 1.0

    def params(self) -> list[object]:
        return [self.layer, self.pooling, self.max_length, self.temperature]


def upsert_model(cur: duckdb.DuckDBPyConnection, info: ModelInfo) -> None:
    cur.execute(
        """
        INSERT OR REPLACE INTO models
            (model_key, name, kind, source, revision, dim, n_layers, pooling, max_length)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            info.model_key,
            info.name,
            info.kind,
            info.source,
            info.revision,
            info.dim,
            info.n_layers,
            info.pooling,
            info.max_length,
        ],
    )


def cached_hashes(
    store: Store, model_key: str, dim: int, rep: Representation, hashes: Sequence[str]
) -> set[str]:
    """Which of these text hashes already have a vector for this model and representation."""
    wanted = pa.table({"h": pa.array(list(set(hashes)), pa.string())})
    with store.connection() as cur:
        table = store.ensure_cache_table(cur, dim)
        cur.register("wanted_hashes", wanted)
        try:
            rows = cur.execute(
                f"""
                SELECT DISTINCT c.text_sha256 FROM {table} c
                JOIN wanted_hashes w ON c.text_sha256 = w.h
                WHERE c.model_key = ? AND c.layer = ? AND c.pooling = ? AND c.max_length = ?
                  AND c.temperature = ?
                """,
                [model_key, *rep.params()],
            ).fetchall()
        finally:
            cur.unregister("wanted_hashes")
    return {row[0] for row in rows}


def cached_vectors(
    store: Store, model_key: str, dim: int, rep: Representation, hashes: list[str]
) -> np.ndarray:
    """Cached vectors of these hashes, in the given order (hashes may repeat)."""
    unique = list(dict.fromkeys(hashes))
    with store.connection() as cur:
        cur.register("wanted_cached_hashes", pa.table({"h": pa.array(unique, pa.string())}))
        try:
            table = query_arrow(
                cur,
                f"""
                SELECT c.text_sha256, c.vector FROM {cache_table(dim)} c
                JOIN wanted_cached_hashes w ON c.text_sha256 = w.h
                WHERE c.model_key = ? AND c.layer = ? AND c.pooling = ? AND c.max_length = ?
                  AND c.temperature = ?
                """,
                [model_key, *rep.params()],
            )
        finally:
            cur.unregister("wanted_cached_hashes")
    position = {h: i for i, h in enumerate(table.column("text_sha256").to_pylist())}
    matrix = arrow_to_matrix(table.column("vector"), dim)
    return matrix[[position[h] for h in hashes]]


def write_cache(
    cur: duckdb.DuckDBPyConnection,
    store: Store,
    model_key: str,
    rep: Representation,
    hashes: Sequence[str],
    vectors: np.ndarray,
) -> None:
    """Insert vectors for hashes not cached yet (inside the caller's transaction)."""
    if len(hashes) == 0:
        return
    table = store.ensure_cache_table(cur, int(vectors.shape[1]))
    # The key travels as columns of the batch, read through a relation rather than register():
    # DuckDB keeps registered objects until the transaction ends, so an ingest writing batch
    # after batch in one transaction would hold every batch in memory.
    layer, pooling, max_length, temperature = rep.params()
    n = len(hashes)
    batch = pa.table(
        {
            "model_key": pa.repeat(model_key, n),
            "layer": pa.repeat(pa.scalar(layer, pa.int32()), n),
            "pooling": pa.repeat(pooling, n),
            "max_length": pa.repeat(pa.scalar(max_length, pa.int32()), n),
            "temperature": pa.repeat(pa.scalar(temperature, pa.float64()), n),
            "text_sha256": pa.array(list(hashes), pa.string()),
            "vector": matrix_to_arrow(vectors),
        }
    )
    cur.from_arrow(batch).query(
        "incoming_vectors",
        f"""
        INSERT INTO {table}
        SELECT * FROM incoming_vectors i
        WHERE NOT EXISTS (
            SELECT 1 FROM {table} c
            WHERE c.text_sha256 = i.text_sha256 AND c.model_key = i.model_key
              AND c.layer = i.layer AND c.pooling = i.pooling
              AND c.max_length = i.max_length AND c.temperature = i.temperature)
        """,
    )


def record_corpus_embedding(
    cur: duckdb.DuckDBPyConnection,
    corpus_id: int,
    model_key: str,
    rep: Representation,
    dim: int,
    seconds: float,
) -> None:
    cur.execute(
        "INSERT OR REPLACE INTO corpus_embeddings "
        "(corpus_id, model_key, layer, pooling, max_length, temperature, dim, seconds) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [corpus_id, model_key, *rep.params(), dim, seconds],
    )


def stored_model(store: Store, key: str | None) -> ModelInfo | None:
    if key is None:
        return None
    row = first_row(
        store.fetch_all(
            "SELECT model_key, name, kind, source, revision, dim, n_layers, pooling, max_length "
            "FROM models WHERE model_key = ?",
            [key],
        )
    )
    return ModelInfo(*row) if row else None
