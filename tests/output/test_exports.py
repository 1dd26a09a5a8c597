"""Exports: CSV no spreadsheet can run as a formula, Parquet that keeps every value exactly."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from analysis.output.data_files import FORMULA_PREFIXES, csv_bytes, formula_safe, parquet_bytes


def read_back(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://x","y")',
        "=1+1",
        "+1+1",
        "-2+3",
        "@SUM(A1:A2)",
        "\tcmd",
        "\r=1",
        "-",
    ],
)
def test_formula_cells_get_a_leading_apostrophe(cell: str) -> None:
    frame = pd.DataFrame({"doc_id": [0, 1], "text": [cell, "plain"]})
    rows = read_back(csv_bytes(frame))
    assert rows == [["doc_id", "text"], ["0", "'" + cell], ["1", "plain"]]


def test_safe_cells_numbers_and_missing_values_are_untouched() -> None:
    frame = pd.DataFrame(
        {
            "text": ["a=b", " =1", "x-y", "café", "", None],
            "n": [-1, 2, -3, 4, 5, 6],
            "score": [-0.5, 1.25, np.nan, 3.0, -1e-3, 0.0],
            "flag": [True, False, True, False, True, False],
        }
    )
    rows = read_back(csv_bytes(frame))
    assert rows[0] == ["text", "n", "score", "flag"]
    assert [r[0] for r in rows[1:]] == ["a=b", " =1", "x-y", "café", "", ""]
    assert [r[1] for r in rows[1:]] == ["-1", "2", "-3", "4", "5", "6"]
    assert [r[2] for r in rows[1:]] == ["-0.5", "1.25", "", "3.0", "-0.001", "0.0"]
    assert [r[3] for r in rows[1:]] == ["True", "False", "True", "False", "True", "False"]


def test_headers_are_made_safe_too() -> None:
    frame = pd.DataFrame({"=cmd": ["a"], "-x": ["b"], "@h": ["c"], "ok": ["=d"], 3: ["e"]})
    rows = read_back(csv_bytes(frame))
    assert rows == [["'=cmd", "'-x", "'@h", "ok", "3"], ["a", "b", "c", "'=d", "e"]]


@pytest.mark.parametrize("dtype", ["object", "string", "category"])
def test_every_text_dtype_is_made_safe(dtype: str) -> None:
    frame = pd.DataFrame({"label": pd.Series(["=evil()", "good", "+also"], dtype=dtype)})
    rows = read_back(csv_bytes(frame))
    assert [r[0] for r in rows] == ["label", "'=evil()", "good", "'+also"]


def test_mixed_object_column_only_changes_dangerous_strings() -> None:
    frame = pd.DataFrame({"mixed": ["=x", 5, -2.5, None, "y"]}, dtype=object)
    safe = formula_safe(frame)
    assert safe["mixed"].tolist()[:3] == ["'=x", 5, -2.5]
    assert safe["mixed"].iloc[3] is None and safe["mixed"].iloc[4] == "y"


def test_formula_safe_leaves_the_original_frame_alone() -> None:
    frame = pd.DataFrame({"=h": ["=v", "w"]})
    formula_safe(frame)
    csv_bytes(frame)
    assert list(frame.columns) == ["=h"] and frame["=h"].tolist() == ["=v", "w"]


def test_every_prefix_is_covered() -> None:
    assert set(FORMULA_PREFIXES) == {"=", "+", "-", "@", "\t", "\r"}
    frame = pd.DataFrame({"t": [p + "1" for p in FORMULA_PREFIXES]})
    assert all(v.startswith("'") for v in formula_safe(frame)["t"])


def test_csv_is_utf8_without_an_index_column() -> None:
    frame = pd.DataFrame({"text": ["naïve — ünïcode ✓"]}, index=[7])
    data = csv_bytes(frame)
    assert data.decode("utf-8").splitlines() == ["text", "naïve — ünïcode ✓"]


def test_line_breaks_inside_cells_cannot_start_a_new_row() -> None:
    """A bare CR ends a row for spreadsheets: unquoted, "x\r=1" would put =1 in a new row."""
    frame = pd.DataFrame({"a": ["x\r=cmd()", "y\n@z", "w\r\n-1"], "b": [1, 2, 3]})
    data = csv_bytes(frame)
    rows = read_back(data)
    assert rows == [["a", "b"], ["x\r=cmd()", "1"], ["y\n@z", "2"], ["w\r\n-1", "3"]]


def test_parquet_round_trips_exactly() -> None:
    frame = pd.DataFrame(
        {
            "doc_id": np.arange(5, dtype=np.int32),
            "text": ["=1+1", "plain", "@x", "ünïcode ✓", "tab\tinside"],
            "score": np.array([0.1, -2.5, np.nan, 1e-30, 3.0], dtype=np.float64),
            "x": np.array([0.1, 0.2, 0.3, -0.4, 1 / 3], dtype=np.float32),
            "count": np.array([-1, 0, 2**40, 5, 6], dtype=np.int64),
            "flag": [True, False, True, True, False],
            "label": [None, "a", "b", None, "c"],
        }
    )
    back = pd.read_parquet(io.BytesIO(parquet_bytes(frame)))
    pd.testing.assert_frame_equal(back, frame)
    assert back["x"].dtype == np.float32 and back["doc_id"].dtype == np.int32
    assert back["text"].tolist()[0] == "=1+1"  # Parquet is not escaped: values stay exact
