"""Tests for analysis.tables.data (and the request checks of analysis.tables.context): what a table
is, which uploads are refused and with which message, and how cells become text.

Every upload goes through read_table_bytes with real file bytes, so the reader's header cleaning
cannot hide an empty or duplicate header from the validation.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from analysis.core.errors import UserError
from analysis.tables.context import TablesRequest
from analysis.tables.data import (
    Table,
    cell_text,
    demo_tables,
    read_table_bytes,
    read_table_path,
    unique_names,
)


def refusal(data: bytes, filename: str = "people.csv") -> str:
    with pytest.raises(UserError) as caught:
        read_table_bytes(data, filename)
    return str(caught.value)


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


# --- refusals ----------------------------------------------------------------------------------


def test_header_only_table_is_refused_as_having_no_rows():
    message = refusal(b"name,city\n")
    assert "people.csv" in message
    assert "no rows" in message


def test_one_column_table_is_refused():
    message = refusal(b"name\nAda\nAlan\nGrace\n")
    assert "'people'" in message
    assert "only one column" in message
    assert "at least two columns" in message


def test_one_row_table_is_refused():
    message = refusal(b"name,city\nAda,London\n")
    assert "'people'" in message
    assert "only one row" in message
    assert "at least two rows" in message


def test_duplicate_header_is_refused_naming_the_header_and_both_columns():
    message = refusal(b"a,b,a\n1,2,3\n4,5,6\n")
    assert "'a' twice" in message
    assert "columns 1 and 3" in message


def test_duplicate_header_differing_only_in_case_is_refused():
    message = refusal(b"City,name,city\nParis,Ada,Lyon\nRome,Alan,Pisa\n")
    assert "twice" in message
    assert "columns 1 and 3" in message


def test_headers_are_kept_as_written_not_as_the_corpus_reader_cleans_them():
    body = "a?b,<b>x</b>,a_b,  spaced   out ,🙂\n1,2,3,4,5\n6,7,8,9,10\n".encode()
    table = read_table_bytes(body, "people.csv")
    assert table.columns == ["a?b", "<b>x</b>", "a_b", "spaced out", "🙂"]
    assert not any("header" in notice for notice in table.notices)


def test_a_header_of_invisible_characters_only_is_refused_as_empty():
    message = refusal("a,\u200b,c\n1,2,3\n4,5,6\n".encode())
    assert "empty header" in message and "column(s) 2" in message


def test_empty_header_is_refused_naming_the_column():
    message = refusal(b"a,,c\n1,2,3\n4,5,6\n")
    assert "empty header" in message
    assert "column(s) 2" in message
    # The reader would have invented 'column_2'; the refusal must not pretend that name exists.
    assert "column_2" not in message


def test_several_empty_headers_are_all_named():
    message = refusal(b"a,,c,\n1,2,3,4\n5,6,7,8\n")
    assert "column(s) 2, 4" in message


def test_empty_header_in_jsonl_is_refused():
    data = b'{"": 1, "b": "x"}\n{"": 2, "b": "y"}\n'
    assert "empty header in column(s) 1" in refusal(data, "t.jsonl")


def test_a_file_with_a_vector_column_is_refused():
    frame = pd.DataFrame(
        {"name": ["a", "b", "c"], "embedding": [[0.1, 0.2, 0.3], [0.3, 0.2, 0.1], [0.0, 1.0, 0.5]]}
    )
    message = refusal(parquet_bytes(frame), "vectors.parquet")
    assert "vector column" in message
    assert "without vectors" in message


def test_unsupported_suffix_is_refused_with_the_accepted_ones():
    message = refusal(b"a,b\n1,2\n3,4\n", "table.txt")
    assert ".csv" in message
    assert ".parquet" in message


# --- accepted formats --------------------------------------------------------------------------


def test_csv_is_read_with_typed_columns_and_named_after_the_file():
    table = read_table_bytes(b"name,age,score\nAda,36,1.5\nAlan,41,2.0\n", "people.csv")
    assert table.name == "people"
    assert table.columns == ["name", "age", "score"]
    assert table.n_rows == 2
    assert table.frame["age"].tolist() == [36, 41]
    assert table.texts["score"].tolist() == ["1.5", "2"]


def test_jsonl_is_read_and_nulls_become_empty_texts():
    data = b'{"name": "Ada", "age": 36}\n{"name": "Alan", "age": null}\n{"name": "Grace"}\n'
    table = read_table_bytes(data, "people.jsonl")
    assert table.columns == ["name", "age"]
    assert table.texts.to_numpy().tolist() == [["Ada", "36"], ["Alan", ""], ["Grace", ""]]


def test_parquet_is_read_with_its_types():
    frame = pd.DataFrame(
        {"name": ["Ada", "Alan", "Grace"], "age": [36, 41, 85], "score": [1.5, 2.0, np.nan]}
    )
    table = read_table_bytes(parquet_bytes(frame), "people.parquet")
    pd.testing.assert_frame_equal(table.frame, frame)
    assert table.texts["score"].tolist() == ["1.5", "2", ""]


def test_parquet_missing_values_of_nullable_types_become_empty_texts():
    """pandas' nullable dtypes (Int64, string, datetime) come back with pd.NA / NaT, which
    must read as missing cells, not as the words '<NA>' or 'NaT'."""
    frame = pd.DataFrame(
        {
            "id": pd.array([1, None, 3], dtype="Int64"),
            "name": pd.array(["Ada", None, "Grace"], dtype="string"),
            "born": pd.to_datetime(["1815-12-10", None, "1906-12-09"]),
        }
    )
    table = read_table_bytes(parquet_bytes(frame), "people.parquet")
    assert table.texts.iloc[1].tolist() == ["", "", ""]
    assert table.texts.iloc[0, :2].tolist() == ["1", "Ada"]


def test_read_table_path_reads_a_file(tmp_path):
    path = tmp_path / "cities.tsv"
    path.write_text("city\tcountry\nParis\tFrance\nRome\tItaly\n", encoding="utf-8")
    table = read_table_path(path)
    assert (table.name, table.columns, table.n_rows) == ("cities", ["city", "country"], 2)


# --- cell text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (float("nan"), ""),
        (np.float32("nan"), ""),
        (None, ""),
        (pd.NA, ""),
        (pd.NaT, ""),
        (12.0, "12"),
        (np.float64(-3.0), "-3"),
        (12.5, "12.5"),
        (7, "7"),
        (np.int64(7), "7"),
        ("  New   York\t City \n", "New York City"),
        ("007", "007"),
        (True, "True"),
    ],
)
def test_cell_text_canonicalises_values(value, text):
    assert cell_text(value) == text


def test_integer_valued_and_text_cells_serialise_the_same_way():
    # 12 read as int and 12.0 read as float are one value to FD discovery and join overlaps.
    a = Table("a", pd.DataFrame({"x": [12, 13], "y": ["p", "q"]}), "test")
    b = Table("b", pd.DataFrame({"x": [12.0, 13.0], "y": ["p", "q"]}), "test")
    assert a.texts.equals(b.texts)


# --- the Table object --------------------------------------------------------------------------


def test_sha_is_content_based_and_name_independent():
    frame = pd.DataFrame({"city": ["Paris", "Rome"], "country": ["France", "Italy"]})
    first = Table("one", frame, "a.csv")
    assert first.sha == Table("two", frame.copy(), "b.csv").sha
    assert first.sha == first.sha
    changed = frame.copy()
    changed.loc[1, "country"] = "Spain"
    assert Table("one", changed, "a.csv").sha != first.sha
    renamed = frame.rename(columns={"city": "town"})
    assert Table("one", renamed, "a.csv").sha != first.sha
    reordered = frame.iloc[::-1].reset_index(drop=True)
    assert Table("one", reordered, "a.csv").sha != first.sha


def test_sha_of_the_same_upload_is_stable_across_reads():
    data = b"city,country\nParis,France\nRome,Italy\n"
    assert read_table_bytes(data, "a.csv").sha == read_table_bytes(data, "b.csv").sha


def test_with_columns_restricts_and_reorders_and_keeps_only_relevant_metadata():
    table = Table(
        "t",
        pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [3.5, 4.5]}),
        "test",
        key_columns=("a",),
        declared_fds=(("a", "b"), ("a", "c")),
        subject_column="b",
        semantic_types={"a": "id", "b": "name", "c": "amount"},
    )
    picked = table.with_columns(["c", "a"])
    assert picked.columns == ["c", "a"]
    assert picked.frame["c"].tolist() == [3.5, 4.5]
    assert picked.key_columns == ("a",)
    assert picked.declared_fds == (("a", "c"),)
    assert picked.subject_column is None
    assert picked.semantic_types == {"a": "id", "c": "amount"}
    assert table.columns == ["a", "b", "c"]  # the original is untouched


def test_with_columns_names_a_missing_column():
    table = Table("t", pd.DataFrame({"a": [1, 2], "b": [3, 4]}), "test")
    with pytest.raises(UserError, match="no column\\(s\\) 'zz'"):
        table.with_columns(["a", "zz"])


def test_subject_prefers_the_declared_then_a_unique_text_column():
    frame = pd.DataFrame({"id": [1, 2, 3], "name": ["Ada", "Alan", "Grace"], "x": ["a", "a", "b"]})
    assert Table("t", frame, "test").subject() == "name"
    assert Table("t", frame, "test", subject_column="x").subject() == "x"


def test_unique_names_refuses_two_tables_with_one_name():
    frame = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    unique_names([Table("t", frame, "x"), Table("u", frame, "y")])
    with pytest.raises(UserError, match="Two tables are named 't'"):
        unique_names([Table("t", frame, "x"), Table("t", frame, "y")])


# --- demo tables -------------------------------------------------------------------------------


def test_demo_tables_are_the_six_documented_tables_with_their_fds():
    tables = demo_tables()
    assert [t.name for t in tables] == [
        "countries",
        "cities",
        "employees",
        "customers",
        "products",
        "orders",
    ]
    for table in tables:
        assert table.n_rows >= 2 and len(table.columns) >= 2
        assert table.declared_fds, table.name
        for lhs, rhs in table.declared_fds:
            assert {lhs, rhs} <= set(table.columns)
            # A declared FD holds in the data: every lhs value has exactly one rhs value.
            assert (table.texts.groupby(lhs)[rhs].nunique() == 1).all(), (table.name, lhs, rhs)
    employees = next(t for t in tables if t.name == "employees")
    assert ("department_id", "department_name") in employees.declared_fds
    assert employees.n_rows == 200


def test_demo_tables_match_the_manifest():
    from analysis.core.config import DEMO_DIR

    manifest = json.loads((DEMO_DIR / "manifest.json").read_text(encoding="utf-8"))
    declared = {e["name"]: e for e in manifest if e["kind"] == "table"}
    for table in demo_tables():
        entry = declared[table.name]
        assert list(table.declared_fds) == [tuple(fd) for fd in entry["functional_dependencies"]]
        assert table.source == f"demo: {entry['file']}"


# --- request checks ----------------------------------------------------------------------------


def test_default_request_is_valid():
    assert TablesRequest(property="row-order").params()["permutations"] == 5
    assert TablesRequest(property="sample-fidelity").params()["ratios"] == [0.25, 0.5, 0.75]


def test_an_unknown_property_is_refused_with_the_known_ones():
    with pytest.raises(UserError) as caught:
        TablesRequest(property="row_order")
    assert "Unknown table property 'row_order'; choose one of row-order," in str(caught.value)


def test_a_run_is_keyed_only_by_the_parameters_its_property_reads():
    join = TablesRequest(property="join", permutations=7).params()
    assert "permutations" not in join and "ratios" not in join
    assert join == TablesRequest(property="join", permutations=5).params()
    order = TablesRequest(property="row-order", permutations=7).params()
    assert order["permutations"] == 7 and "ratios" not in order
    sampling = TablesRequest(property="sample-fidelity", samples=4).params()
    assert sampling["samples"] == 4 and "permutations" not in sampling


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"permutations": 0}, "Permutations must be between 1 and 1000; got 0"),
        ({"permutations": 1001}, "Permutations must be between 1 and 1000; got 1001"),
        ({"ratios": (0.0, 0.5)}, "strictly between 0 and 1"),
        ({"ratios": (0.5, 1.0)}, "strictly between 0 and 1"),
        ({"ratios": (1.5,)}, "strictly between 0 and 1"),
        ({"ratios": ()}, "strictly between 0 and 1"),
        ({"ratios": (float("nan"),)}, "strictly between 0 and 1"),
        ({"max_length": 200}, "Maximum length must be 128 (default) or 256 (thorough); got 200"),
        ({"samples": 0}, "Samples per ratio"),
        ({"entity_k": 0}, "Neighbours K"),
        ({"max_columns": 1}, "Columns per table must be between 2 and 64"),
    ],
)
def test_invalid_requests_are_refused_with_a_clear_message(kwargs, words):
    with pytest.raises(UserError) as caught:
        TablesRequest(property="row-order", **kwargs)
    assert words in str(caught.value)


@pytest.mark.parametrize("max_length", [128, 256])
def test_both_allowed_maximum_lengths_are_accepted(max_length):
    assert TablesRequest(property="row-order", max_length=max_length).max_length == max_length
