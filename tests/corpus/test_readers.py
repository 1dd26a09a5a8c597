"""Tests for analysis.corpus.readers: every accepted input shape, and every rejection message."""

from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.corpus.columns import detect_label_columns, detect_text_column
from analysis.corpus.readers import (
    SUPPORTED_SUFFIXES,
    ParsedTable,
    read_bytes,
    read_pasted,
    read_path,
)

LIMITS = Limits()


def read(data: bytes | str, filename: str, **kwargs: object) -> ParsedTable:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return read_bytes(data, filename, kwargs.pop("limits", LIMITS), **kwargs)  # type: ignore[arg-type]


def rejection(data: bytes | str, filename: str, **kwargs: object) -> str:
    with pytest.raises(UserError) as caught:
        read(data, filename, **kwargs)
    return caught.value.message


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def jsonl(*records: object) -> str:
    return "\n".join(json.dumps(record) for record in records) + "\n"


# --- delimited text ---------------------------------------------------------------------------


def test_csv_basic_types_and_index() -> None:
    table = read("id,text,score,code\n1,hello world,0.5,007\n2,NA,,012\n", "reviews.csv")
    frame = table.frame
    assert table.source == "reviews.csv"
    assert list(frame.columns) == ["id", "text", "score", "code"]
    assert isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0
    assert frame["id"].tolist() == [1, 2]
    assert pd.api.types.is_integer_dtype(frame["id"])
    assert frame["text"].tolist() == ["hello world", "NA"]
    assert frame["score"].iloc[0] == 0.5 and np.isnan(frame["score"].iloc[1])
    assert frame["code"].tolist() == ["007", "012"]
    assert table.vectors is None and table.vector_source is None
    assert table.notices == []


def test_integers_beyond_int64_stay_text() -> None:
    frame = read("id,text\n12345678901234567890123,a\n", "t.csv").frame
    assert frame["id"].tolist() == ["12345678901234567890123"]


def test_null_like_texts_stay_text() -> None:
    frame = read("text\nnull\nNA\nNaN\nN/A\n", "t.csv").frame
    assert frame["text"].tolist() == ["null", "NA", "NaN", "N/A"]


def test_tsv() -> None:
    frame = read("id\ttext\n1\ta, b; c\n", "data.TSV").frame
    assert frame.to_dict("records") == [{"id": 1, "text": "a, b; c"}]


def test_semicolon_csv_is_sniffed() -> None:
    table = read("id;text;score\n1;hello, world;0,5\n2;bye;1,5\n", "eu.csv")
    assert list(table.frame.columns) == ["id", "text", "score"]
    assert table.frame["text"].tolist() == ["hello, world", "bye"]
    assert table.frame["score"].tolist() == ["0,5", "1,5"]
    assert any("';'" in notice and "delimiter" in notice for notice in table.notices)


@pytest.mark.parametrize(("delimiter", "shown"), [("\t", "tab"), ("|", "'|'")])
def test_other_delimiters_in_csv(delimiter: str, shown: str) -> None:
    table = read(f"a{delimiter}b\n1{delimiter}x,y\n", "x.csv")
    assert table.frame.to_dict("records") == [{"a": 1, "b": "x,y"}]
    assert any(shown in notice for notice in table.notices)


def test_utf8_bom_is_stripped() -> None:
    table = read(b"\xef\xbb\xbfid,text\n1,caf\xc3\xa9\n", "bom.csv")
    assert list(table.frame.columns) == ["id", "text"]
    assert table.frame["text"].iloc[0] == "café"
    assert table.notices == []


def test_latin1_fallback() -> None:
    table = read("id,text\n1,café crème\n".encode("latin-1"), "old.csv")
    assert table.frame["text"].iloc[0] == "café crème"
    (notice,) = table.notices
    # Notices leave out the file name: callers show them as f"{table.source}: {notice}".
    assert notice.startswith("decoded as Latin-1") and "byte 14" in notice
    assert "line 2" in notice and "accented" in notice


def test_windows_1252_quotes() -> None:
    table = read(b"text\n\x93quoted\x94 \x80 5\n", "win.csv")
    assert table.frame["text"].iloc[0] == "\u201cquoted\u201d \u20ac 5"


def test_utf16_with_bom() -> None:
    table = read("id,text\n1,héllo\n".encode("utf-16"), "u16.csv")
    assert table.frame["text"].iloc[0] == "héllo"
    assert any("UTF-16" in notice for notice in table.notices)


@pytest.mark.parametrize("data", [b"", b"  \n\t\r\n  "])
@pytest.mark.parametrize("filename", ["x.csv", "x.jsonl", "x.json", "x.txt", "x.parquet"])
def test_empty_files(data: bytes, filename: str) -> None:
    assert rejection(data, filename).startswith(f"{filename} is empty")


def test_header_only() -> None:
    message = rejection("id,text\n", "x.csv")
    assert message.startswith("x.csv has a header but no rows")


def test_random_binary_named_csv() -> None:
    data = random.Random(7).randbytes(4000)
    message = rejection(b"x" + data, "x.csv")
    assert "x.csv looks like binary data" in message and "right file" in message


def test_zip_named_csv() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("reviews.csv", "id,text\n1,hi\n")
    message = rejection(buffer.getvalue(), "x.csv")
    assert message == "x.csv is a ZIP archive, not CSV text; unzip it first."


def test_xlsx_named_csv() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    message = rejection(buffer.getvalue(), "sheet.csv")
    assert "sheet.csv is an Excel workbook (.xlsx), not CSV text" in message
    assert "CSV UTF-8" in message


@pytest.mark.parametrize(
    ("magic", "what"),
    [(b"%PDF-1.7\n", "a PDF document"), (b"\x1f\x8b\x08\x00", "a gzip archive")],
)
def test_other_magic_numbers(magic: bytes, what: str) -> None:
    assert f"x.json is {what}, not JSON text" in rejection(magic + b"rest", "x.json")
    assert f"x.txt is {what}, not plain text" in rejection(magic + b"rest", "x.txt")


def test_unterminated_quote_names_line_and_row() -> None:
    message = rejection('id,text\n1,fine\n2,"never closed\n3,more\n', "q.csv")
    assert message.startswith("q.csv:")
    assert "line 3 (data row 2)" in message
    assert "close the quote" in message and "delimiter" in message


def test_unterminated_quote_after_multiline_value_and_blank_lines() -> None:
    text = 'id,text\n1,"two\nlines"\n\n2,"open\n' + "x\n" * 100_000  # beyond csv field limit
    message = rejection(text, "q.csv")
    assert "line 5 (data row 2)" in message


def test_ragged_row() -> None:
    message = rejection("a,b\n1,2\n3,4,5\n6,7\n", "r.csv")
    assert message.startswith("r.csv line 3 (data row 2) has 3 fields but the header has 2")
    assert "quote values" in message


def test_short_rows_are_padded() -> None:
    frame = read("a,b,c\n1,x\n", "s.csv").frame
    assert frame.to_dict("records") == [{"a": 1, "b": "x", "c": ""}]


# --- JSON Lines and JSON ----------------------------------------------------------------------


def test_jsonl_records() -> None:
    text = jsonl({"text": "a", "n": 1}, {"text": "b", "extra": True}) + "\n\n"
    frame = read(text, "r.ndjson").frame
    assert list(frame.columns) == ["text", "n", "extra"]
    assert frame["text"].tolist() == ["a", "b"]


def test_jsonl_broken_line() -> None:
    text = '{"text": "a"}\n\n{"text": "b" "x": 1}\n'
    message = rejection(text, "reviews.jsonl")
    assert message.startswith("reviews.jsonl line 3: not valid JSON (Expecting ',' delimiter")
    assert "column 14" in message and "fix or remove that line" in message


def test_jsonl_non_object_line() -> None:
    message = rejection('{"text": "a"}\n[1, 2]\n', "r.jsonl")
    assert message.startswith("r.jsonl line 2: expected a JSON object")
    assert "found an array" in message


def test_json_array() -> None:
    table = read(json.dumps([{"text": "a", "label": "x"}, {"text": "b"}]), "r.json")
    assert table.frame["text"].tolist() == ["a", "b"]


def test_json_wrapped_records() -> None:
    table = read(json.dumps({"meta": 1, "records": [{"text": "a"}]}), "r.json")
    assert table.frame["text"].tolist() == ["a"]
    assert any('"records"' in notice for notice in table.notices)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"text": "a"}, "r.json holds a single JSON object"),
        ("just a string", "r.json holds a string, not an array of records"),
        ([], "r.json has no records"),
        ([{"text": "a"}, "b"], "r.json: row 2 (array item 2) is a string, not a JSON object"),
        ([{}], "the records have no fields"),
    ],
)
def test_json_wrong_shapes(value: object, expected: str) -> None:
    assert expected in rejection(json.dumps(value), "r.json")


def test_json_syntax_error_and_jsonl_hint() -> None:
    message = rejection('{"text": "a"}\n{"text": "b"}\n', "r.json")
    assert "r.json is not valid JSON (Extra data at line 2, column 1)" in message
    assert ".jsonl" in message


# --- Parquet ----------------------------------------------------------------------------------


def test_parquet_roundtrip() -> None:
    source = pd.DataFrame({"text": ["a b", "c d"], "n": [1, 2]}, index=[10, 11])
    frame = read(parquet_bytes(source), "p.parquet").frame
    assert isinstance(frame.index, pd.RangeIndex)
    assert frame["text"].tolist() == ["a b", "c d"]
    assert frame["n"].tolist() == [1, 2]


def test_parquet_with_damaged_pandas_metadata() -> None:
    table = pa.table({"text": ["a", "b"]}).replace_schema_metadata(
        {b"pandas": b'{"columns": [{}], "index_columns": [{"kind": "range"}]}'}
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    assert read(buffer.getvalue(), "p.parquet").frame["text"].tolist() == ["a", "b"]


def test_corrupt_parquet() -> None:
    message = rejection(random.Random(1).randbytes(500), "x.parquet")
    assert message.startswith("x.parquet is not a readable Parquet file (")


def test_truncated_parquet() -> None:
    data = parquet_bytes(pd.DataFrame({"text": ["a"] * 100}))
    assert "is not a readable Parquet file" in rejection(data[: len(data) // 2], "x.parquet")


def test_parquet_without_rows() -> None:
    data = parquet_bytes(pd.DataFrame({"text": pd.Series([], dtype=str)}))
    assert rejection(data, "x.parquet").startswith("x.parquet has a header but no rows")


# --- plain text -------------------------------------------------------------------------------


def test_txt_line_mode() -> None:
    table = read("first doc\n\n  second doc  \r\n\r\nthird\n", "notes.txt")
    assert table.frame["text"].tolist() == ["first doc", "second doc", "third"]
    assert list(table.frame.columns) == ["text"]
    assert any("one per non-empty line" in notice for notice in table.notices)


def test_txt_paragraph_mode() -> None:
    text = "para one\nstill one\n\n   \npara two\n\n\npara three\nline b\n"
    table = read(text, "notes.txt")
    assert table.frame["text"].tolist() == ["para one\nstill one", "para two", "para three\nline b"]
    assert any("one per paragraph" in notice for notice in table.notices)


def test_pasted_text() -> None:
    table = read_pasted("alpha\nbeta\n", LIMITS)
    assert table.source == "pasted text"
    assert table.frame["text"].tolist() == ["alpha", "beta"]
    assert table.notices


def test_pasted_text_empty_and_too_large() -> None:
    with pytest.raises(UserError, match="pasted text is empty"):
        read_pasted("  \n ", LIMITS)
    with pytest.raises(UserError, match="EMBEDLENS_MAX_FILE_MB"):
        read_pasted("x" * 200, Limits(max_file_bytes=100))


def test_pasted_text_row_limit() -> None:
    with pytest.raises(UserError, match="EMBEDLENS_MAX_ROWS"):
        read_pasted("a\nb\nc\nd\n", Limits(max_rows=3))


# --- NUL bytes --------------------------------------------------------------------------------


def test_few_nul_bytes_are_removed() -> None:
    rows = "".join(f"{i},some ordinary review text number {i}\n" for i in range(20))
    data = ("id,text\n" + rows).encode().replace(b"number 3", b"num\x00ber 3", 1)
    data = data.replace(b"id,text", b"id,te\x00xt")
    table = read(data, "n.csv")
    assert list(table.frame.columns) == ["id", "text"]
    assert table.frame["text"].iloc[3] == "some ordinary review text number 3"
    assert any("removed 2 NUL bytes" in notice for notice in table.notices)


def test_many_nul_bytes_are_rejected() -> None:
    message = rejection("id,text\n1,hi\n".encode("utf-16-le"), "u.csv")
    assert "u.csv looks like binary data" in message and "UTF-16" in message


# --- headers and cells ------------------------------------------------------------------------


def test_empty_and_duplicate_headers() -> None:
    table = read("text,,Text,a,a,a_2\n1,2,3,4,5,6\n", "h.csv")
    assert list(table.frame.columns) == ["text", "column_2", "Text_2", "a", "a_3", "a_2"]
    notices = " ".join(table.notices)
    assert "column_2" in notices and "'a' -> 'a_3'" in notices and "duplicate" in notices


def test_sql_looking_and_control_headers_are_cleaned() -> None:
    header = '"name""; DROP TABLE corpora; --",`x`,tab\x01bed,  spaced  ,ok (%)/#.-_'
    table = read(f"{header}\n1,2,3,4,5\n", "h.csv")
    assert list(table.frame.columns) == [
        "name_ DROP TABLE corpora_ --",
        "_x_",
        "tabbed",
        "spaced",
        "ok (%)/#.-_",
    ]
    (notice,) = table.notices
    assert "renamed 3 header(s)" in notice
    assert "'name\"; DROP TABLE corpora; --' -> 'name_ DROP TABLE corpora_ --'" in notice


def test_long_header_is_cut() -> None:
    table = read("x" * 100 + "\n1\n", "h.csv")
    assert table.frame.columns[0] == "x" * 64
    assert any("longer than 64" in notice for notice in table.notices)


def test_cells_are_kept_verbatim() -> None:
    cells = [
        "=SUM(A1:A9)",
        "<script>alert(1)</script>",
        "1'; DROP TABLE x; --",
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)",
    ]
    body = "".join(f'{i},"{cell}"\n' for i, cell in enumerate(cells))
    assert read("id,text\n" + body, "c.csv").frame["text"].tolist() == cells
    assert read(jsonl(*({"text": c} for c in cells)), "c.jsonl").frame["text"].tolist() == cells


# --- vectors ----------------------------------------------------------------------------------


def vector_frame(vectors: list[object]) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"t{i}" for i in range(len(vectors))], "embedding": vectors})


def test_parquet_vectors_auto_detected() -> None:
    data = parquet_bytes(vector_frame([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]))
    table = read(data, "p.parquet")
    assert table.vectors is not None and table.vectors.dtype == np.float32
    assert table.vectors.shape == (2, 3)
    np.testing.assert_allclose(table.vectors[1], [0.4, 0.5, 0.6], rtol=1e-6)
    assert list(table.frame.columns) == ["text"]
    assert table.vector_source == "column 'embedding'"
    assert any("embedding" in notice and "3 numbers" in notice for notice in table.notices)


def test_parquet_vectors_explicit() -> None:
    frame = vector_frame([[1, 2], [3, 4]])
    frame["pair"] = [[5.0, 6.0], [7.0, 8.0]]
    table = read(parquet_bytes(frame), "p.parquet", vector_column="pair")
    assert table.vector_source == "column 'pair'"
    assert table.vectors.tolist() == [[5.0, 6.0], [7.0, 8.0]]  # type: ignore[union-attr]
    assert list(table.frame.columns) == ["text", "embedding"]
    assert table.notices == []


@pytest.mark.parametrize("vector_column", [None, "embedding"])
def test_jsonl_vectors(vector_column: str | None) -> None:
    text = jsonl({"text": "a", "embedding": [1, 2.5]}, {"text": "b", "embedding": [3, 4]})
    table = read(text, "v.jsonl", vector_column=vector_column)
    assert table.vectors.tolist() == [[1.0, 2.5], [3.0, 4.0]]  # type: ignore[union-attr]
    assert list(table.frame.columns) == ["text"]
    assert (table.notices != []) == (vector_column is None)


def test_number_lists_of_one_number_are_not_vectors() -> None:
    table = read(jsonl({"text": "a", "ids": [1]}, {"text": "b", "ids": [2]}), "v.jsonl")
    assert table.vectors is None and "ids" in table.frame.columns


@pytest.mark.parametrize(
    ("vectors", "expected"),
    [
        ([[1, 2, 3], [1, 2, 3], [1, 2], [1, 2, 3]], "row 3 has 2 numbers, the others 3"),
        ([[1, 2], [float("nan"), 2]], "row 2 has NaN/inf values; vectors must be finite"),
        ([[1, 2], [1, float("inf")]], "row 2 has NaN/inf values"),
        ([[1, 2], None], "row 2 has no vector"),
        ([[1, 2], [1, "x"]], "row 2 has a non-numeric entry ('x')"),
        ([[1, 2], "[1, 2]"], "row 2 holds '[1, 2]', not a list of numbers"),
    ],
)
def test_bad_vectors_in_jsonl(vectors: list[object], expected: str) -> None:
    records = [{"text": "t", "vec": vector} for vector in vectors]
    message = rejection(jsonl(*records), "v.jsonl", vector_column="vec")
    assert message.startswith("v.jsonl, column 'vec': ")
    assert expected in message


def test_ragged_vectors_auto_detected_in_parquet() -> None:
    data = parquet_bytes(vector_frame([[0.1, 0.2], [0.3, 0.4], [0.5]]))
    assert "row 3 has 1 numbers, the others 2" in rejection(data, "p.parquet")


def test_missing_vector_column() -> None:
    message = rejection(jsonl({"text": "a"}), "v.jsonl", vector_column="emb")
    assert "v.jsonl has no column 'emb'" in message and "text" in message


def test_vector_column_with_csv_is_rejected() -> None:
    message = rejection("text\na\n", "v.csv", vector_column="emb")
    assert ".npy" in message


def test_npy_sidecar_matches(tmp_path: Path) -> None:
    csv_path = tmp_path / "reviews.csv"
    csv_path.write_text("text\na\nb\nc\n")
    npy_path = tmp_path / "vectors.npy"
    np.save(npy_path, np.arange(6, dtype=np.float64).reshape(3, 2))
    table = read_path(csv_path, LIMITS, npy_path=npy_path)
    assert table.vectors is not None and table.vectors.dtype == np.float32
    assert table.vectors.shape == (3, 2)
    assert table.vector_source == "vectors.npy"


def test_npy_beside_csv_is_not_auto_loaded(tmp_path: Path) -> None:
    csv_path = tmp_path / "reviews.csv"
    csv_path.write_text("text\na\n")
    np.save(tmp_path / "reviews.npy", np.zeros((1, 4)))
    assert read_path(csv_path, LIMITS).vectors is None


def test_npy_row_mismatch() -> None:
    csv_text = "text\n" + "".join(f"doc {i}\n" for i in range(1000))
    message = rejection(csv_text, "reviews.csv", npy_bytes=npy_bytes(np.zeros((999, 4))))
    assert message.startswith(
        "reviews.npy has 999 rows but reviews.csv has 1000 data rows; they must be row-aligned"
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"\x93NUMPY garbage", "reviews.npy is not a readable .npy file"),
        (b"not numpy at all", "reviews.npy is not a .npy file"),
        (npy_bytes(np.zeros(3)), "must be a 2-D matrix"),
        (npy_bytes(np.array([["a", "b"]])), "must be a 2-D matrix of numbers"),
        (npy_bytes(np.array([[1.0, np.nan]])), "reviews.npy: row 1 has NaN/inf values"),
    ],
)
def test_bad_npy(payload: bytes, expected: str) -> None:
    assert expected in rejection("text\na\n", "reviews.csv", npy_bytes=payload)


def test_npy_truncated() -> None:
    payload = npy_bytes(np.zeros((100, 8)))[:-50]
    assert "not a readable .npy file" in rejection("text\na\n", "reviews.csv", npy_bytes=payload)


# --- limits, suffixes, paths ------------------------------------------------------------------


def test_file_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("text\n" + "x" * 200 + "\n")
    with pytest.raises(UserError) as caught:
        read_path(path, Limits(max_file_bytes=100))
    message = caught.value.message
    assert message.startswith("big.csv is 206 bytes, over the 100 bytes file-size limit")
    assert "EMBEDLENS_MAX_FILE_MB" in message


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        ("text\na\nb\nc\nd\n", "x.csv"),
        (jsonl(*({"text": str(i)} for i in range(4))), "x.jsonl"),
        (json.dumps([{"text": str(i)} for i in range(4)]), "x.json"),
        ("a\nb\nc\nd\n", "x.txt"),
    ],
)
def test_row_limit(data: str, filename: str) -> None:
    message = rejection(data, filename, limits=Limits(max_rows=3))
    assert message.startswith(f"{filename} has more than 3 rows")
    assert "EMBEDLENS_MAX_ROWS" in message


def test_row_limit_parquet_and_exact_fit() -> None:
    data = parquet_bytes(pd.DataFrame({"text": list("abcd")}))
    assert "more than 3 rows" in rejection(data, "x.parquet", limits=Limits(max_rows=3))
    assert len(read("text\na\nb\nc\n", "x.csv", limits=Limits(max_rows=3)).frame) == 3


def test_unknown_suffix() -> None:
    message = rejection("a,b\n", "data.xlsx")
    assert "data.xlsx: unsupported file type ('.xlsx')" in message
    assert all(suffix in message for suffix in SUPPORTED_SUFFIXES)
    assert "no extension" in rejection("a", "README")


def test_read_path_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        read_path(tmp_path / "missing.csv", LIMITS)
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(UserError, match="is a folder"):
        read_path(tmp_path / "folder.csv", LIMITS)


def test_read_path_matches_read_bytes(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text(jsonl({"text": "a"}, {"text": "b"}))
    by_path = read_path(path, LIMITS)
    by_bytes = read_bytes(path.read_bytes(), "data.jsonl", LIMITS)
    pd.testing.assert_frame_equal(by_path.frame, by_bytes.frame)
    assert by_path.source == by_bytes.source == "data.jsonl"


@pytest.mark.parametrize("filename", ["f.csv", "f.tsv", "f.jsonl", "f.json", "f.txt", "f.parquet"])
@pytest.mark.parametrize(
    "data",
    [b'"', b"{", b"[1,", b'a,"b\n', b"\xff\xfe\x00", b"PAR1PAR1", b"1\n2,3,4\n", b'{"a":1}x'],
)
def test_malformed_input_only_raises_user_error(filename: str, data: bytes) -> None:
    try:
        read_bytes(data, filename, LIMITS)
    except UserError as error:
        assert filename in error.message


# --- column detection -------------------------------------------------------------------------


def test_detect_text_column() -> None:
    frame = pd.DataFrame(
        {
            "id": ["a1", "a2", "a3", "a4"],
            "label": ["pos", "neg", "pos", "neg"],
            "body": [
                "I loved this product, it works well",
                "Terrible, broke after a day",
                "Fine for the price I guess",
                "Would buy again without a doubt",
            ],
            "n": [1, 2, 3, 4],
        }
    )
    assert detect_text_column(frame) == "body"
    assert detect_text_column(pd.DataFrame({"n": [1, 2]})) is None


def test_detect_label_columns() -> None:
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "split": ["a", "b", "a", "b", "a", "b"],
            "text": ["long text number one", "two", "three", "four", "five", "six"],
            "sentiment": ["pos", "neg", "pos", "neu", "pos", "neg"],
            "true_label": [0, 1, 0, 1, 1, 0],
            "constant": ["x"] * 6,
            "vec": [[1, 2]] * 6,
        }
    )
    assert detect_label_columns(frame, "text") == ["true_label", "sentiment", "split"]
