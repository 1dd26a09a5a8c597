"""The DuckDB store: schema versioning, transactions, quoting and bulk vector transfer."""

from __future__ import annotations

import threading

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from analysis.core.arrow_vectors import arrow_to_matrix, matrix_to_arrow, query_arrow
from analysis.core.errors import UserError
from analysis.core.store import SCHEMA_VERSION, Store, open_store, quote_identifier


def test_new_store_is_at_the_current_schema(store: Store) -> None:
    assert store.schema_version() == SCHEMA_VERSION
    tables = {r[0] for r in store.fetch_all("SHOW TABLES")}
    assert {"meta", "corpora", "documents", "models", "corpus_embeddings"} <= tables


def test_reopening_keeps_data_and_does_not_migrate_twice(tmp_path) -> None:
    path = tmp_path / "s.duckdb"
    first = Store(path)
    with first.transaction() as cur:
        cur.execute("INSERT INTO meta VALUES ('probe', 'kept')")
    first.close()
    second = Store(path)
    assert second.fetch_all("SELECT value FROM meta WHERE key='probe'") == [("kept",)]
    assert second.schema_version() == SCHEMA_VERSION
    second.close()


def test_store_from_a_newer_version_is_refused(tmp_path) -> None:
    path = tmp_path / "s.duckdb"
    db = Store(path)
    with db.transaction() as cur:
        cur.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    db.close()
    with pytest.raises(UserError, match="newer EmbedLens"):
        Store(path)


def test_a_file_that_is_not_duckdb_is_a_user_error(tmp_path) -> None:
    path = tmp_path / "not.duckdb"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(UserError, match=r"not a usable DuckDB store|Cannot open"):
        Store(path)


def test_transaction_rolls_back_everything_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as cur:
        cur.execute("INSERT INTO meta VALUES ('a', '1')")
        cur.execute("CREATE TABLE scratch (x INTEGER)")
        raise RuntimeError("boom")
    assert store.fetch_all("SELECT count(*) FROM meta WHERE key='a'") == [(0,)]
    tables = {r[0] for r in store.fetch_all("SHOW TABLES")}
    assert "scratch" not in tables


def test_quote_identifier_neutralises_sql() -> None:
    hostile = 'x"; DROP TABLE corpora; --'
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t ({quote_identifier(hostile)} INTEGER)")
    assert con.execute("SELECT column_name FROM duckdb_columns()").fetchone()[0] == hostile


def test_vectors_round_trip_through_arrow_bit_exactly(store: Store) -> None:
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((500, 16)).astype(np.float32)
    with store.connection() as cur:
        table = store.ensure_cache_table(cur, 16)
        cur.register(
            "incoming",
            pa.table({"h": pa.array([str(i) for i in range(500)]), "v": matrix_to_arrow(matrix)}),
        )
        cur.execute(f"INSERT INTO {table} SELECT 'm', -1, 'model', 0, 1.0, h, v FROM incoming")
        back = query_arrow(cur, f"SELECT vector FROM {table} ORDER BY CAST(text_sha256 AS INT)")
        np.testing.assert_array_equal(arrow_to_matrix(back.column("vector"), 16), matrix)
        column_type = cur.execute(
            f"SELECT data_type FROM duckdb_columns() WHERE table_name='{table}' "
            "AND column_name='vector'"
        ).fetchone()[0]
        assert column_type == "FLOAT[16]"


def test_cursors_per_thread_see_committed_data(tmp_path) -> None:
    db = open_store(tmp_path / "shared.duckdb")
    assert open_store(tmp_path / "shared.duckdb") is db
    errors: list[Exception] = []

    def write(i: int) -> None:
        try:
            with db.transaction() as cur:
                cur.execute("INSERT INTO meta VALUES (?, ?)", [f"k{i}", str(i)])
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    count = db.fetch_all("SELECT count(*) FROM meta WHERE key LIKE 'k%'")[0][0]
    assert count == 8
