"""Tests for analysis.tables.store: uploaded tables kept in the DuckDB store (schema 5), typed,
refused when a name would silently change meaning, and still there after the store is reopened."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.core.errors import UserError
from analysis.core.store import SCHEMA_VERSION, Store
from analysis.tables.data import Table, demo_tables, read_table_bytes
from analysis.tables.store import (
    available_tables,
    delete_stored_table,
    load_stored_table,
    save_table,
    stored_tables,
)
from tests.shared import old_store

PEOPLE_CSV = (
    b"name,age,score,code,joined\n"
    b"Ada,36,1.5,007,2020-01-02\n"
    b"Alan,41,2.0,012,2021-03-04\n"
    b"Grace,85,,100,2019-05-06\n"
)


def people() -> Table:
    return read_table_bytes(PEOPLE_CSV, "people.csv")


def test_save_list_load_round_trip_keeps_typed_values(store):
    table = people()
    assert save_table(store, table) is True
    (info,) = stored_tables(store)
    assert (info.name, info.source, info.sha, info.n_rows, info.n_cols) == (
        "people",
        "people.csv",
        table.sha,
        3,
        5,
    )
    assert info.created_at
    loaded = load_stored_table(store, "people")
    pd.testing.assert_frame_equal(loaded.frame, table.frame)
    assert loaded.frame["age"].tolist() == [36, 41, 85]
    assert loaded.frame["code"].tolist() == ["007", "012", "100"]  # codes keep their zeros
    assert pd.isna(loaded.frame["score"].iloc[2])
    assert loaded.texts.equals(table.texts)
    assert (loaded.name, loaded.source, loaded.sha) == ("people", "people.csv", table.sha)


def test_nullable_types_round_trip_with_the_same_content_hash(store):
    frame = pd.DataFrame(
        {
            "id": pd.array([1, None, 3], dtype="Int64"),
            "name": pd.array(["Ada", None, "Grace"], dtype="string"),
        }
    )
    table = Table("nullable", frame, "nullable.parquet")
    save_table(store, table)
    loaded = load_stored_table(store, "nullable")
    assert loaded.frame["id"].dtype == "Int64"
    assert loaded.sha == table.sha
    assert loaded.texts.iloc[1].tolist() == ["", ""]


def test_reader_notices_are_kept(store):
    table = read_table_bytes(b"city;country\nParis;France\nRome;Italy\n", "places.csv")
    assert table.notices
    save_table(store, table)
    assert load_stored_table(store, "places").notices == table.notices


def test_saving_the_same_content_twice_is_a_no_op(store):
    assert save_table(store, people()) is True
    assert save_table(store, people()) is False
    assert len(stored_tables(store)) == 1


def test_a_different_table_under_a_taken_name_is_refused(store):
    save_table(store, people())
    other = read_table_bytes(b"name,age\nLinus,54\nKen,81\n", "people.csv")
    with pytest.raises(UserError) as caught:
        save_table(store, other)
    assert "A different table named 'people' is stored already" in str(caught.value)
    pd.testing.assert_frame_equal(load_stored_table(store, "people").frame, people().frame)


def test_the_same_content_under_another_name_is_stored_again(store):
    save_table(store, people())
    assert save_table(store, read_table_bytes(PEOPLE_CSV, "staff.csv")) is True
    assert [t.name for t in stored_tables(store)] == ["people", "staff"]


def test_a_demo_table_name_is_refused(store):
    employees = next(t for t in demo_tables() if t.name == "employees")
    upload = read_table_bytes(b"name,age\nLinus,54\nKen,81\n", "employees.csv")
    for table in (employees, upload):
        with pytest.raises(UserError) as caught:
            save_table(store, table)
        assert "'employees' is the name of a demo table" in str(caught.value)
        assert "my_employees" in str(caught.value)
    assert stored_tables(store) == []


def test_loading_a_missing_table_names_it(store):
    with pytest.raises(UserError, match="No stored table named 'ghost'"):
        load_stored_table(store, "ghost")


def test_delete_then_save_a_different_table_under_the_name(store):
    save_table(store, people())
    delete_stored_table(store, "people")
    assert stored_tables(store) == []
    other = read_table_bytes(b"name,age\nLinus,54\nKen,81\n", "people.csv")
    assert save_table(store, other) is True
    assert load_stored_table(store, "people").columns == ["name", "age"]


def test_available_tables_are_the_demos_then_the_uploads(store):
    save_table(store, people())
    tables = available_tables(store)
    names = list(tables)
    assert names[:6] == [t.name for t in demo_tables()]
    assert names[6:] == ["people"]
    assert tables["people"].sha == people().sha
    assert tables["employees"].declared_fds


def test_stored_tables_persist_across_reopening_the_store(tmp_path):
    path = tmp_path / "tables.duckdb"
    first = Store(path)
    try:
        save_table(first, people())
    finally:
        first.close()
    second = Store(path)
    try:
        assert [t.name for t in stored_tables(second)] == ["people"]
        loaded = load_stored_table(second, "people")
        pd.testing.assert_frame_equal(loaded.frame, people().frame)
        assert save_table(second, people()) is False
    finally:
        second.close()


def test_a_version_4_store_is_migrated_to_hold_tables(tmp_path):
    path = tmp_path / "old.duckdb"
    con = old_store(path, 4)
    con.close()
    upgraded = Store(path)
    try:
        assert upgraded.schema_version() == SCHEMA_VERSION >= 5
        assert save_table(upgraded, people()) is True
        assert [t.name for t in stored_tables(upgraded)] == ["people"]
    finally:
        upgraded.close()
