"""The one DuckDB store: schema, migrations, connections and transactions.

Why the connection is leased, not held: DuckDB lets one process at a time open a file for
writing, and it locks the whole file. If the app kept its connection open, no command-line
``ingest`` or ``embed`` could touch the store while the app runs (and the reverse). So every use
of the store is a short ``with store.connection()`` block: the first block opens the file, the
connection stays open while blocks keep coming (a page rerun is dozens of them), and it is closed
once the store has been idle for ``idle_seconds``, releasing the lock. A process that finds the
file locked waits, retrying, for up to ``lock_wait_seconds``. Long computations (encoding,
projections) run outside any block, so another process waits at most for one write.

Taking turns: a process that uses the store without pause (a page polling, a loop of reads)
would never be idle. A process waiting for the file says so by creating ``<store>.waiting``
beside it; a connection open for ``MAX_HOLD_SECONDS`` that sees that flag is closed at its next
gap between blocks, and its process keeps off the file for ``TURN_SECONDS``, longer than the
waiting process's retry pause, so the waiter gets its turn. Nobody waiting, nobody pauses.

Within a process, a thread's nested blocks share one cursor (so a read inside a transaction sees
the transaction's own writes); cursors are independent connections to one database, safe across
threads (Streamlit runs every browser session in its own thread).
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from analysis.core.config import resolve_db_path
from analysis.core.errors import UserError

SCHEMA_VERSION = 6
IDLE_SECONDS = 0.1
LOCK_WAIT_SECONDS = 60.0
MAX_HOLD_SECONDS = 1.0
TURN_SECONDS = 0.2
RETRY_PAUSE_SECONDS = 0.1  # the longest pause between two attempts to open a locked file


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


def _migration_6(con: duckdb.DuckDBPyConnection) -> None:
    """Report: a note the user writes under each pinned chart, and the report's own settings
    (its title), so what the user wrote is exported with the charts and outlives restarts."""
    con.execute("ALTER TABLE pinned_charts ADD COLUMN note VARCHAR NOT NULL DEFAULT ''")
    con.execute(
        """
        CREATE TABLE report_settings (
            key VARCHAR PRIMARY KEY,          -- 'title'
            value VARCHAR NOT NULL
        )
        """
    )


MIGRATIONS: list[Callable[[duckdb.DuckDBPyConnection], None]] = [
    _migration_1,
    _migration_2,
    _migration_3,
    _migration_4,
    _migration_5,
    _migration_6,
]


def cache_table(dim: int) -> str:
    """Vectors are fixed-size arrays, so each dimension gets its own cache table."""
    if not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dimension must be a positive integer, got {dim!r}")
    return f"embedding_cache_d{dim}"


class Store:
    """A DuckDB file with EmbedLens's schema, opened only while someone is using it."""

    def __init__(
        self,
        path: str | Path | None = None,
        idle_seconds: float = IDLE_SECONDS,
        lock_wait_seconds: float = LOCK_WAIT_SECONDS,
    ) -> None:
        self.path = resolve_db_path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.idle_seconds = idle_seconds
        self.lock_wait_seconds = lock_wait_seconds
        self._con: duckdb.DuckDBPyConnection | None = None
        self._opened_at = 0.0
        self._turn_ends = 0.0  # after handing over, this process waits until then to reopen
        self._waiting_flag = self.path.with_name(self.path.name + ".waiting")
        self._users = 0
        self._lease_lock = threading.Lock()
        self._idle_timer: threading.Timer | None = None
        self._local = threading.local()
        self._write_lock = threading.RLock()
        _LIVE_STORES.add(self)
        self._migrate()

    @property
    def is_open(self) -> bool:
        """Whether this process holds the file right now (and so locks other processes out)."""
        return self._con is not None

    def close(self) -> None:
        """Release the file now, whatever the idle timer says."""
        with self._lease_lock:
            self._close_locked()

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """This thread's cursor, with the file held open until the block ends.

        Keep blocks short: the file stays locked for other processes while any block is open.
        """
        local = self._local
        if getattr(local, "depth", 0):
            local.depth += 1
            try:
                yield local.cursor
            finally:
                local.depth -= 1
            return
        con = self._acquire()
        try:
            local.cursor = con.cursor()
            local.depth = 1
            try:
                yield local.cursor
            finally:
                local.depth = 0
                local.cursor.close()
                local.cursor = None
        finally:
            self._release()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing writes: on any exception every change in the block is rolled back.

        Writers are serialised within the process so two sessions never conflict mid-transaction.
        """
        with self._write_lock, self.connection() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def fetch_all(self, sql: str, params: list[object] | None = None) -> list[tuple]:
        """One query's rows, in a connection block of its own."""
        with self.connection() as cur:
            return cur.execute(sql, params or []).fetchall()

    def _acquire(self) -> duckdb.DuckDBPyConnection:
        with self._lease_lock:
            if self._idle_timer is not None:
                self._idle_timer.cancel()
                self._idle_timer = None
            if self._con is None:
                time.sleep(max(0.0, self._turn_ends - time.monotonic()))
                self._con = self._open()
                self._opened_at = time.monotonic()
            self._users += 1
            return self._con

    def _release(self) -> None:
        with self._lease_lock:
            self._users -= 1
            if self._users:
                return
            if self._someone_waits():
                self._close_locked()
                self._say_waiting(False)  # a process still waiting sets it again
                self._turn_ends = time.monotonic() + TURN_SECONDS
                return
            if self.idle_seconds <= 0:
                self._close_locked()
                return
            self._idle_timer = threading.Timer(self.idle_seconds, self._close_if_idle)
            self._idle_timer.daemon = True
            self._idle_timer.start()

    def _someone_waits(self) -> bool:
        """Held long enough, and another process has said it waits for the file."""
        held = time.monotonic() - self._opened_at >= MAX_HOLD_SECONDS
        return held and self._waiting_flag.exists()

    def _say_waiting(self, waiting: bool) -> None:
        """Raise or lower the flag that asks the holder of the file for a turn (best effort: a
        read-only folder only loses the turn-taking)."""
        with contextlib.suppress(OSError):
            if waiting:
                self._waiting_flag.touch()
            else:
                self._waiting_flag.unlink(missing_ok=True)

    def _close_if_idle(self) -> None:
        with self._lease_lock:
            if self._users == 0:
                self._close_locked()

    def _close_locked(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._con is not None:
            self._con.close()
            self._con = None

    def _open(self) -> duckdb.DuckDBPyConnection:
        """Connect, waiting while another process holds the file (it holds it only briefly)."""
        deadline = time.monotonic() + self.lock_wait_seconds
        pause = 0.02
        while True:
            try:
                con = duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                locked = "lock" in str(exc).lower()
                self._say_waiting(locked and time.monotonic() < deadline)
                if not locked or time.monotonic() >= deadline:
                    raise UserError(
                        f"Cannot open the store {self.path}: {exc}. Another process kept it "
                        f"for more than {self.lock_wait_seconds:.0f} s; try again when it is "
                        "done, or pass a different --db."
                    ) from exc
            except duckdb.Error as exc:
                raise UserError(
                    f"{self.path} is not a usable DuckDB store ({exc}); pass a different --db."
                ) from exc
            else:
                self._say_waiting(False)
                return con
            time.sleep(pause)
            pause = min(pause * 2, RETRY_PAUSE_SECONDS)

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
        with self.connection() as cur:
            rows = cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        row = first_row(rows)
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        with self.connection() as cur:
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


_LIVE_STORES: weakref.WeakSet[Store] = weakref.WeakSet()


@atexit.register
def _close_live_stores() -> None:
    """Close every file before the interpreter exits: a DuckDB connection closed by an idle timer
    while Python shuts down aborts the process."""
    for store in list(_LIVE_STORES):
        store.close()


_STORES: dict[Path, Store] = {}
_STORES_LOCK = threading.Lock()


def open_store(path: str | Path | None = None) -> Store:
    """The process-wide Store for a path: one lease count and one write lock per file, so the
    sessions of one process share the file's open connection and never write over each other."""
    resolved = resolve_db_path(path).resolve()
    with _STORES_LOCK:
        store = _STORES.get(resolved)
        if store is None:
            store = Store(resolved)
            _STORES[resolved] = store
        return store
