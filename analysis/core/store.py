"""The one DuckDB store: schema, migrations, connections and transactions.

Why one process-wide connection with a cursor per thread: DuckDB allows a single read-write
connection per file and process, and its cursors are independent connections to the same database,
safe to use from different threads (Streamlit runs every browser session in its own thread).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from analysis.core.config import resolve_db_path
from analysis.core.errors import UserError

SCHEMA_VERSION = 5


def first_row(rows: list[tuple]) -> tuple | None:
    """The single row of a fetchall(), or None.

    DuckDB treats a result as finished only after a fetch returns nothing, and refuses the next
    relational query on that cursor until then; fetchone() on a one-row result leaves it open.
    """
    return rows[0] if rows else None


def quote_identifier(name: str) -> str:
    """Quote a user-supplied column or table name so it can never be read as SQL."""
    return '"' + name.replace('"', '""') + '"'


def _migration_1(con: duckdb.DuckDBPyConnection) -> None:
    """Corpora, documents, models, per-corpus embeddings and the content-addressed cache."""
    con.execute("CREATE SEQUENCE IF NOT EXISTS corpus_id_seq START 1")
    con.execute(
        """
        CREATE TABLE corpora (
            corpus_id INTEGER PRIMARY KEY DEFAULT nextval('corpus_id_seq'),
            name VARCHAR NOT NULL UNIQUE,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            sources VARCHAR NOT NULL,          -- JSON list of file names
            text_column VARCHAR NOT NULL,
            label_columns VARCHAR NOT NULL,    -- JSON list
            metadata_columns VARCHAR NOT NULL, -- JSON list of {name, type}
            n_rows INTEGER NOT NULL,
            dropped_empty INTEGER NOT NULL,
            duplicates INTEGER NOT NULL,
            notices VARCHAR NOT NULL           -- JSON list of sentences shown to the user
        )
        """
    )
    con.execute(
        """
        CREATE TABLE documents (
            corpus_id INTEGER NOT NULL,
            doc_id INTEGER NOT NULL,
            text VARCHAR NOT NULL,
            text_sha256 VARCHAR NOT NULL,
            n_chars INTEGER NOT NULL,
            n_tokens INTEGER NOT NULL,        -- word pieces of the default tokenizer, no specials
            source VARCHAR NOT NULL,
            source_row INTEGER NOT NULL,
            PRIMARY KEY (corpus_id, doc_id)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE models (
            model_key VARCHAR PRIMARY KEY,
            name VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,            -- sentence-transformers | lsa | random | external
            source VARCHAR NOT NULL,          -- local path, hub id, or description
            revision VARCHAR NOT NULL,        -- weights file hash, fit hash or seed
            dim INTEGER NOT NULL,
            n_layers INTEGER,                 -- transformer blocks; NULL when no layers exist
            pooling VARCHAR NOT NULL,
            max_length INTEGER,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )
    con.execute(
        """
        CREATE TABLE corpus_embeddings (
            corpus_id INTEGER NOT NULL,
            model_key VARCHAR NOT NULL,
            layer INTEGER NOT NULL,            -- -1 = the model's own output
            pooling VARCHAR NOT NULL,
            max_length INTEGER NOT NULL,
            temperature DOUBLE NOT NULL,
            dim INTEGER NOT NULL,
            seconds DOUBLE NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (corpus_id, model_key, layer, pooling, max_length, temperature)
        )
        """
    )


def _migration_2(con: duckdb.DuckDBPyConnection) -> None:
    """Maps: kNN graphs (reused across projections), projections and clusterings."""
    con.execute("CREATE SEQUENCE IF NOT EXISTS result_id_seq START 1")
    con.execute(
        """
        CREATE TABLE knn_graphs (
            graph_id INTEGER PRIMARY KEY DEFAULT nextval('result_id_seq'),
            corpus_id INTEGER NOT NULL,
            model_key VARCHAR NOT NULL,
            k INTEGER NOT NULL,
            method VARCHAR NOT NULL,          -- exact | nndescent
            seed INTEGER NOT NULL,
            seconds DOUBLE NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )
    con.execute(
        """
        CREATE TABLE knn_edges (
            graph_id INTEGER NOT NULL,
            doc_id INTEGER NOT NULL,
            neighbors INTEGER[] NOT NULL,     -- doc ids, nearest first, the point itself first
            distances FLOAT[] NOT NULL        -- cosine distances 1 - cos
        )
        """
    )
    con.execute(
        """
        CREATE TABLE projections (
            projection_id INTEGER PRIMARY KEY DEFAULT nextval('result_id_seq'),
            corpus_id INTEGER NOT NULL,
            model_key VARCHAR NOT NULL,
            method VARCHAR NOT NULL,
            dims INTEGER NOT NULL,
            params VARCHAR NOT NULL,          -- canonical JSON of every parameter, seed included
            n_points INTEGER NOT NULL,
            seconds DOUBLE NOT NULL,
            quality VARCHAR,                  -- JSON: trustworthiness, continuity, kNN recall
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )
    con.execute(
        """
        CREATE TABLE projection_coords (
            projection_id INTEGER NOT NULL,
            doc_id INTEGER NOT NULL,
            x FLOAT NOT NULL,
            y FLOAT NOT NULL,
            z FLOAT
        )
        """
    )
    con.execute(
        """
        CREATE TABLE clusterings (
            clustering_id INTEGER PRIMARY KEY DEFAULT nextval('result_id_seq'),
            corpus_id INTEGER NOT NULL,
            model_key VARCHAR NOT NULL,
            method VARCHAR NOT NULL,
            params VARCHAR NOT NULL,
            summary VARCHAR NOT NULL,         -- JSON: sizes, keywords, silhouette
            labels INTEGER[] NOT NULL,        -- cluster per doc_id, -1 = noise
            seconds DOUBLE NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )


def _migration_3(con: duckdb.DuckDBPyConnection) -> None:
    """Report: pinned charts as figure JSON with their provenance, so a report outlives restarts.

    Corpus and model are kept by name, not id: a pinned chart is a snapshot that stays in the
    report after its corpus is deleted.
    """
    con.execute("CREATE SEQUENCE IF NOT EXISTS chart_id_seq START 1")
    con.execute(
        """
        CREATE TABLE pinned_charts (
            chart_id INTEGER PRIMARY KEY DEFAULT nextval('chart_id_seq'),
            title VARCHAR NOT NULL,
            caption VARCHAR NOT NULL,          -- plain text, as shown under the chart
            analysis VARCHAR NOT NULL,
            corpus VARCHAR NOT NULL,
            model VARCHAR NOT NULL,            -- '' when the chart does not depend on a model
            figure_json VARCHAR NOT NULL,      -- plotly figure JSON
            data_json VARCHAR,                 -- the data behind the chart (pandas 'table' JSON)
            position INTEGER NOT NULL,         -- report order, ascending
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )


def _migration_4(con: duckdb.DuckDBPyConnection) -> None:
    """Results of the diagnostics (length, probes, comparisons, tables) keyed by parameters."""
    con.execute("CREATE SEQUENCE IF NOT EXISTS analysis_result_seq START 1")
    con.execute(
        """
        CREATE TABLE analysis_results (
            result_id INTEGER PRIMARY KEY DEFAULT nextval('analysis_result_seq'),
            corpus_id INTEGER,                -- NULL for results about tables, not corpora
            kind VARCHAR NOT NULL,            -- length | probe | compare | tables ...
            params VARCHAR NOT NULL,          -- canonical JSON of every parameter, seeds included
            result VARCHAR NOT NULL,          -- JSON
            seconds DOUBLE NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )


def _migration_5(con: duckdb.DuckDBPyConnection) -> None:
    """Relational tables uploaded to the Tables page, kept so their runs can be redone."""
    con.execute(
        """
        CREATE TABLE stored_tables (
            name VARCHAR PRIMARY KEY,
            source VARCHAR NOT NULL,
            sha VARCHAR NOT NULL,             -- content hash of headers and cell texts
            n_rows INTEGER NOT NULL,
            n_cols INTEGER NOT NULL,
            notices VARCHAR NOT NULL,         -- JSON list of what the reader assumed
            data BLOB NOT NULL,               -- the typed table as Parquet
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )


MIGRATIONS: list[Callable[[duckdb.DuckDBPyConnection], None]] = [
    _migration_1,
    _migration_2,
    _migration_3,
    _migration_4,
    _migration_5,
]


def cache_table(dim: int) -> str:
    """Vectors are fixed-size arrays, so each dimension gets its own cache table."""
    if not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dimension must be a positive integer, got {dim!r}")
    return f"embedding_cache_d{dim}"


class Store:
    """A DuckDB file with EmbedLens's schema; hands out one cursor per thread."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = resolve_db_path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            raise UserError(
                f"Cannot open the store {self.path}: {exc}. If another EmbedLens process (the app "
                "or a CLI command) is using it, stop that process or pass a different --db."
            ) from exc
        except duckdb.Error as exc:
            raise UserError(
                f"{self.path} is not a usable DuckDB store ({exc}); pass a different --db."
            ) from exc
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._migrate()

    def close(self) -> None:
        self._con.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor (created on first use)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cursor = cur
        return cur

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing writes: on any exception every change in the block is rolled back.

        Writers are serialised within the process so two sessions never conflict mid-transaction.
        """
        with self._write_lock:
            cur = self.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def ensure_cache_table(self, cur: duckdb.DuckDBPyConnection, dim: int) -> str:
        table = cache_table(dim)
        cur.execute(
            f"""
            CREATE TABLE IF NOT EXISTS {table} (
                model_key VARCHAR NOT NULL,
                layer INTEGER NOT NULL,
                pooling VARCHAR NOT NULL,
                max_length INTEGER NOT NULL,
                temperature DOUBLE NOT NULL,
                text_sha256 VARCHAR NOT NULL,
                vector FLOAT[{dim}] NOT NULL
            )
            """
        )
        return table

    def schema_version(self) -> int:
        row = first_row(
            self.cursor().execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        )
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        cur = self.cursor()
        cur.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise UserError(
                f"{self.path} was written by a newer EmbedLens (schema {current}, this one knows "
                f"{SCHEMA_VERSION}); upgrade EmbedLens or use another --db."
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            with self.transaction() as tx:
                MIGRATIONS[version - 1](tx)
                tx.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(version)]
                )


_STORES: dict[Path, Store] = {}
_STORES_LOCK = threading.Lock()


def open_store(path: str | Path | None = None) -> Store:
    """The process-wide Store for a path (DuckDB allows one read-write connection per file)."""
    resolved = resolve_db_path(path).resolve()
    with _STORES_LOCK:
        store = _STORES.get(resolved)
        if store is None:
            store = Store(resolved)
            _STORES[resolved] = store
        return store
