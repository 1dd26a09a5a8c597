"""Turn a user's file, upload or pasted text into a table, or reject it with an actionable message.

Every problem a user can fix becomes a :class:`UserError` that names the file, says what is wrong
and where (1-based data row, or file line for line-oriented formats), and what to do about it.
Parser exceptions are translated here so that no traceback ever reaches the user. Cell values are
kept verbatim (formulas, HTML and SQL are data); only NUL bytes are removed. Headers are cleaned
because other modules use them as identifiers.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
import unicodedata
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.core.config import Limits
from analysis.core.errors import UserError


@dataclass
class ParsedTable:
    """A parsed file plus what the reader had to assume, so the UI can tell the user."""

    frame: pd.DataFrame
    source: str
    notices: list[str]
    vectors: np.ndarray | None = None
    vector_source: str | None = None
    raw_headers: list[str] | None = None  # as in the file, before cleaning (tables reject fixes)


SUPPORTED_SUFFIXES: tuple[str, ...] = (
    ".csv",
    ".tsv",
    ".jsonl",
    ".ndjson",
    ".json",
    ".parquet",
    ".txt",
)

PASTED_SOURCE = "pasted text"

_KINDS = {
    ".csv": "CSV text",
    ".tsv": "TSV text",
    ".jsonl": "JSON Lines text",
    ".ndjson": "JSON Lines text",
    ".json": "JSON text",
    ".parquet": "Parquet data",
    ".txt": "plain text",
}
_VECTOR_SUFFIXES = frozenset({".parquet", ".jsonl", ".ndjson", ".json"})
_SUFFIX_HINTS = {
    ".xlsx": "save the sheet as CSV UTF-8 first",
    ".xls": "save the sheet as CSV UTF-8 first",
    ".ods": "save the sheet as CSV UTF-8 first",
    ".zip": "unzip it first",
    ".gz": "decompress it first",
    ".npy": "load it as the vector file together with a CSV of the texts",
}

# Files that users commonly pick by mistake; the leading bytes identify them reliably.
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive", "unzip it first"),
    (b"PK\x05\x06", "a ZIP archive", "unzip it first"),
    (b"\x1f\x8b", "a gzip archive", "decompress it first (gunzip)"),
    (b"%PDF-", "a PDF document", "export its text or table first"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", "pick the data file instead"),
    (b"\xff\xd8\xff", "a JPEG image", "pick the data file instead"),
    (b"GIF87a", "a GIF image", "pick the data file instead"),
    (b"GIF89a", "a GIF image", "pick the data file instead"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "a legacy Office file (.xls/.doc)",
        "save it as CSV UTF-8",
    ),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract it first"),
    (b"PAR1", "a Parquet file", "rename it to .parquet"),
    (
        b"\x93NUMPY",
        "a NumPy array (.npy)",
        "load it as the vector file together with a CSV",
    ),
)
# Office documents are ZIP archives; their member names tell which application made them.
_ZIP_KINDS: tuple[tuple[str, str, str], ...] = (
    ("xl/", "an Excel workbook (.xlsx)", "save the sheet as CSV UTF-8 first"),
    ("word/", "a Word document (.docx)", "save it as plain text first"),
    ("ppt/", "a PowerPoint file (.pptx)", "export its text first"),
)

_NUL_SHARE = 0.01
# Text may hold the odd stray control character; binary data decoded as Latin-1 is full of them.
_CONTROL_SHARE = 0.05
_CONTROL_MIN = 8
_SNIFF_CHARS = 64 * 1024
_SNIFF_ROWS = 100
_DELIMITERS = (",", ";", "\t", "|")
# Control characters that never occur in real text (tab, newlines and form feed are allowed).
_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1f\x7f-\x9f]")
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_LEADING_ZERO = r"[+-]?0\d"
_EOF_IN_QUOTE = "EOF inside string"
_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")

_MAX_HEADER_CHARS = 64
_HEADER_PUNCTUATION = frozenset(" _-.()/#%")
_SHOWN_RENAMES = 5

_PARSE_ERRORS = (
    ValueError,
    TypeError,
    csv.Error,
    OSError,
    EOFError,
    RecursionError,
    pa.ArrowException,
)


# --- public API -------------------------------------------------------------------------------


def read_path(
    path: Path,
    limits: Limits,
    *,
    vector_column: str | None = None,
    npy_path: Path | None = None,
) -> ParsedTable:
    """Read a file from disk; the size is checked before reading so huge files never load."""
    path = Path(path)
    _suffix_of(path.name)
    data = _read_file(path, limits)
    npy_bytes = _read_file(Path(npy_path), None) if npy_path is not None else None
    return _read(
        data,
        path.name,
        limits,
        vector_column=vector_column,
        npy_bytes=npy_bytes,
        npy_name=Path(npy_path).name if npy_path is not None else None,
    )


def read_bytes(
    data: bytes,
    filename: str,
    limits: Limits,
    *,
    vector_column: str | None = None,
    npy_bytes: bytes | None = None,
) -> ParsedTable:
    """Read an upload; ``filename`` only supplies the display name and the format."""
    return _read(data, filename, limits, vector_column=vector_column, npy_bytes=npy_bytes)


def read_pasted(text: str, limits: Limits) -> ParsedTable:
    """Read text typed or pasted into the app, split like a .txt file."""
    source = PASTED_SOURCE
    _check_size(len(text.encode("utf-8", errors="replace")), source, limits)
    if not text.strip():
        raise UserError(
            "The pasted text is empty; paste one document per line, "
            "or paragraphs separated by blank lines."
        )
    notices: list[str] = []
    text = _sanitize_text(text, source, "plain text", notices)
    frame = _parse_plain(text, source, limits, notices)
    return ParsedTable(frame=frame, source=source, notices=notices)


# --- reading -----------------------------------------------------------------------------------


def _read(
    data: bytes,
    filename: str,
    limits: Limits,
    *,
    vector_column: str | None,
    npy_bytes: bytes | None,
    npy_name: str | None = None,
) -> ParsedTable:
    """The one code path behind read_path and read_bytes."""
    source = Path(filename).name or "uploaded file"
    suffix = _suffix_of(source)
    kind = _KINDS[suffix]
    _check_size(len(data), source, limits)
    if not data.strip():
        raise UserError(f"{source} is empty; pick a file that contains data.")
    notices: list[str] = []
    with parse_errors_explained(source, kind):
        frame = _parse(data, source, suffix, limits, notices)
        raw_headers = ["" if name is None else str(name) for name in frame.columns]
        frame.columns = _clean_headers(list(frame.columns), notices)
        vectors, vector_source = None, None
        if suffix in _VECTOR_SUFFIXES:
            frame, vectors, vector_source = _take_vectors(frame, source, vector_column, notices)
        elif vector_column is not None:
            raise UserError(
                f"{source}: a vector column can only be read from Parquet, JSON Lines or JSON "
                f"files; for {kind}, supply the vectors as a .npy file."
            )
    if npy_bytes is not None:
        npy_name = npy_name or f"{Path(source).stem}.npy"
        if vectors is not None:
            raise UserError(
                f"{source} already carries vectors in its {vector_source}; "
                f"remove that column or do not supply {npy_name}."
            )
        vectors, vector_source = (
            _load_npy(npy_bytes, npy_name, source, len(frame)),
            npy_name,
        )
    return ParsedTable(
        frame=frame.reset_index(drop=True),
        source=source,
        notices=notices,
        vectors=vectors,
        vector_source=vector_source,
        raw_headers=raw_headers,
    )


@contextmanager
def parse_errors_explained(source: str, kind: str) -> Iterator[None]:
    """Parser exceptions that slipped past the specific checks, as a message about the file."""
    try:
        yield
    except _PARSE_ERRORS as exc:
        raise UserError(
            f"{source} could not be read as {kind} ({type(exc).__name__}: {exc}); "
            "check that the file is complete and in the format its name says."
        ) from exc


def _parse(
    data: bytes, source: str, suffix: str, limits: Limits, notices: list[str]
) -> pd.DataFrame:
    """Dispatch on format; text formats share the binary checks and decoding."""
    if suffix == ".parquet":
        return _parse_parquet(data, source, limits)
    kind = _KINDS[suffix]
    _reject_known_binary(data, source, kind)
    text = _sanitize_text(_decode(data, notices), source, kind, notices)
    if suffix in (".csv", ".tsv"):
        return _parse_delimited(text, source, suffix, limits, notices)
    if suffix == ".json":
        return _parse_json(text, source, limits, notices)
    if suffix == ".txt":
        return _parse_plain(text, source, limits, notices)
    return _parse_jsonl(text, source, limits)


def _suffix_of(source: str) -> str:
    suffix = Path(source).suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return suffix
    shown = f"'{suffix}'" if suffix else "no extension"
    hint = f" ({_SUFFIX_HINTS[suffix]})" if suffix in _SUFFIX_HINTS else ""
    raise UserError(
        f"{source}: unsupported file type ({shown}){hint}; "
        f"use one of {', '.join(SUPPORTED_SUFFIXES)}."
    )


def _read_file(path: Path, limits: Limits | None) -> bytes:
    """Read a file, turning OS errors into messages; ``limits`` None means no size check."""
    try:
        if limits is not None:
            _check_size(path.stat().st_size, path.name, limits)
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise UserError(f"{path} does not exist; check the path.") from exc
    except IsADirectoryError as exc:
        raise UserError(f"{path} is a folder; pick a file inside it.") from exc
    except PermissionError as exc:
        raise UserError(
            f"{path} cannot be read (permission denied); check its permissions."
        ) from exc
    except OSError as exc:
        raise UserError(f"{path} cannot be read ({exc.strerror or exc}).") from exc


# --- limits --------------------------------------------------------------------------------------


def _check_size(n_bytes: int, source: str, limits: Limits) -> None:
    if n_bytes > limits.max_file_bytes:
        raise UserError(
            f"{source} is {_human_size(n_bytes)}, over the "
            f"{_human_size(limits.max_file_bytes)} file-size limit; load a smaller sample, or "
            "raise the limit with the environment variable EMBEDLENS_MAX_FILE_MB (in megabytes)."
        )


def _check_row_count(n_rows: int, source: str, limits: Limits) -> None:
    if n_rows > limits.max_rows:
        raise UserError(
            f"{source} has more than {limits.max_rows:,} rows, the row limit; load a smaller "
            "sample, or raise the limit with the environment variable EMBEDLENS_MAX_ROWS."
        )


def _human_size(n_bytes: float) -> str:
    if n_bytes < 1024:
        return f"{int(n_bytes)} bytes"
    size, unit = n_bytes / 1024, "KB"
    for bigger in ("MB", "GB"):
        if size < 1024:
            break
        size, unit = size / 1024, bigger
    return f"{size:.1f} {unit}"


# --- bytes to text -------------------------------------------------------------------------------


def _reject_known_binary(data: bytes, source: str, kind: str, whole: Path | None = None) -> None:
    """``data`` is the file or its head; ``whole`` is the file on disk when data is its head."""
    for magic, what, advice in _MAGIC:
        if data.startswith(magic):
            if what == "a ZIP archive":
                what, advice = _zip_kind(whole or data, what, advice)
            raise UserError(f"{source} is {what}, not {kind}; {advice}.")


def _zip_kind(data: bytes | Path, what: str, advice: str) -> tuple[str, str]:
    try:
        names = zipfile.ZipFile(data if isinstance(data, Path) else io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return what, advice
    for prefix, office_what, office_advice in _ZIP_KINDS:
        if any(name.startswith(prefix) for name in names):
            return office_what, office_advice
    return what, advice


def _decode(data: bytes, notices: list[str]) -> str:
    """UTF-8 (BOM stripped) first; Windows-1252/Latin-1 as the fallback that always succeeds."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        notices.append("decoded as UTF-16 (the file starts with a UTF-16 byte-order mark).")
        return data.decode("utf-16", errors="replace")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        position = f"byte {exc.start + 1}, line {line}"
    try:
        text, label = data.decode("cp1252"), "Latin-1/Windows-1252"
    except UnicodeDecodeError:
        text, label = data.decode("latin-1"), "Latin-1"
    notices.append(
        f"decoded as {label} (not valid UTF-8 at {position}); "
        "check accented characters, or re-save the file as UTF-8."
    )
    return text


def _sanitize_text(text: str, source: str, kind: str, notices: list[str]) -> str:
    """Reject binary data; remove stray NUL bytes, which no database or widget accepts."""
    nul_count = text.count("\x00")
    check_not_binary(nul_count, len(text), text[:_SNIFF_CHARS], source, kind)
    note_nuls(nul_count, notices)
    return text.replace("\x00", "") if nul_count else text


def check_not_binary(nul_count: int, n_chars: int, sample: str, source: str, kind: str) -> None:
    """Binary data decoded as text is full of NULs (anywhere) or control characters (at the start).

    Takes counts rather than the text so that a file read in pieces is judged like a whole one.
    """
    controls = len(_CONTROL.findall(sample))
    too_many_nuls = nul_count > _NUL_SHARE * n_chars
    if too_many_nuls or controls > max(_CONTROL_MIN, _CONTROL_SHARE * len(sample)):
        share = max(nul_count / n_chars, controls / len(sample))
        hint = (
            " (a UTF-16 file without a byte-order mark looks like this; re-save it as UTF-8)"
            if too_many_nuls
            else ""
        )
        raise UserError(
            f"{source} looks like binary data, not {kind}: {share:.0%} of its characters are "
            f"NUL bytes or control characters{hint}; check that you picked the right file."
        )


def note_nuls(nul_count: int, notices: list[str]) -> None:
    if nul_count:
        notices.append(
            f"removed {nul_count} NUL byte{'s' if nul_count > 1 else ''} (\\0), "
            "which text cannot contain."
        )


# --- delimited text ----------------------------------------------------------------------------


def _delimiter_name(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else f"'{delimiter}'"


def _sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the header into most fields consistently across rows."""
    sample = text[:_SNIFF_CHARS]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rfind("\n") + 1]
    best, best_score = ",", (0.0, 0)
    for delimiter in _DELIMITERS:
        counts = [
            len(fields)
            for _, fields in itertools.islice(
                _csv_records(io.StringIO(sample), delimiter), _SNIFF_ROWS
            )
            if fields is not None
        ]
        if not counts or counts[0] < 2:
            continue
        body = counts[1:] or counts
        score = (sum(count == counts[0] for count in body) / len(body), counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_records(lines: Iterable[str], delimiter: str) -> Iterator[tuple[int, list[str] | None]]:
    """Yield (first file line, fields) per non-blank record; fields is None where csv gives up."""
    reader = csv.reader(lines, delimiter=delimiter)
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield start, None
            return
        if fields:
            yield start, fields
        start = reader.line_num + 1


def pick_delimiter(head: str, suffix: str, notices: list[str]) -> str:
    """Tab for .tsv; otherwise sniffed from the head of the text (the first _SNIFF_CHARS + 1)."""
    if suffix == ".tsv":
        return "\t"
    delimiter = _sniff_delimiter(head)
    if delimiter != ",":
        notices.append(f"detected {_delimiter_name(delimiter)} as the delimiter.")
    return delimiter


def csv_chunks(
    open_text: Callable[[], TextIO],
    source: str,
    delimiter: str,
    limits: Limits,
    chunk_rows: int | None,
) -> Iterator[pd.DataFrame]:
    """Every cell as text (so "NA" stays "NA"), in chunks of rows; the header is the first row.

    Reading the header as a data row lets duplicate names reach header cleaning unmangled.
    ``chunk_rows`` None reads everything as one chunk. Raises UserError for a malformed file and
    for more rows than the limit allows, found while reading.
    """
    rows = 0
    try:
        reader = pd.read_csv(
            open_text(),
            sep=delimiter,
            header=None,
            dtype=str,
            na_filter=False,
            nrows=limits.max_rows + 2,
            engine="c",
            chunksize=chunk_rows,
        )
        for chunk in [reader] if chunk_rows is None else reader:
            rows += len(chunk)
            _check_row_count(rows - 1, source, limits)
            yield chunk
    except pd.errors.ParserError as exc:
        raise _explain_parser_error(str(exc), open_text, source, delimiter) from exc
    except pd.errors.EmptyDataError as exc:
        raise UserError(f"{source} is empty; pick a file that contains data.") from exc
    if rows < 2:
        raise UserError(f"{source} has a header but no rows; add data rows below the header line.")


def _parse_delimited(
    text: str, source: str, suffix: str, limits: Limits, notices: list[str]
) -> pd.DataFrame:
    """The whole text as one chunk; numeric columns as :func:`numeric_kind` decides."""
    delimiter = pick_delimiter(text[: _SNIFF_CHARS + 1], suffix, notices)
    (raw,) = csv_chunks(lambda: io.StringIO(text), source, delimiter, limits, None)
    frame = raw.iloc[1:].reset_index(drop=True)
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        frame.isetitem(position, as_kind(column, numeric_kind([column_evidence(column)])))
    frame.columns = raw.iloc[0].tolist()
    return frame


@dataclass(frozen=True)
class NumericEvidence:
    """What one piece of a text column says about it being numeric (see numeric_kind)."""

    text: bool  # a filled value that is not a plain number, or one with a leading zero
    kind: str | None  # dtype of the piece's numbers ("int64", "float64", ...); None if all empty
    has_empty: bool


def column_evidence(column: pd.Series) -> NumericEvidence:
    """Numbers only when every non-empty value is one; codes like "007" keep their zeros."""
    stripped = column.str.strip()
    filled = stripped != ""
    values = stripped[filled]
    has_empty = not bool(filled.all())
    if values.empty:
        return NumericEvidence(False, None, has_empty)
    if not values.str.fullmatch(_NUMBER).all() or values.str.match(_LEADING_ZERO).any():
        return NumericEvidence(True, None, has_empty)
    return NumericEvidence(False, str(pd.to_numeric(values).dtype), has_empty)


def numeric_kind(pieces: Sequence[NumericEvidence]) -> str | None:
    """The dtype of a whole column from its pieces' evidence, or None to keep it as text.

    Empty cells become NaN, which makes integers float. Integers beyond int64 come back as Python
    objects; such ids are safer kept as text, unless floats make the column float anyway.
    """
    kinds = {piece.kind for piece in pieces if piece.kind is not None}
    if not kinds or any(piece.text for piece in pieces):
        return None
    if "float64" in kinds or any(piece.has_empty for piece in pieces):
        return "float64"
    return kinds.pop() if len(kinds) == 1 and kinds != {"object"} else None


def as_kind(column: pd.Series, kind: str | None) -> pd.Series:
    """A text column converted to the dtype numeric_kind chose for the whole column."""
    if kind is None:
        return column
    stripped = column.str.strip()
    return pd.to_numeric(stripped.where(stripped != "")).astype(kind)


def _explain_parser_error(
    message: str, open_text: Callable[[], TextIO], source: str, delimiter: str
) -> UserError:
    """Re-locate pandas' error with the csv module, which reports real file lines."""
    separator = _delimiter_name(delimiter)
    if _EOF_IN_QUOTE in message:
        # An unclosed quote swallows the rest of the file, so it opens in the last record.
        row, (line, _) = deque(enumerate(_csv_records(open_text(), delimiter)), maxlen=1)[0]
        where = f"line {line} (data row {row})" if row else f"line {line} (the header)"
        return UserError(
            f"{source}: the quoted value that opens on {where} is never closed; close the quote, "
            f"or check the delimiter (the file was read with {separator})."
        )
    ragged = _RAGGED.search(message)
    if ragged:
        expected, saw = int(ragged.group(1)), int(ragged.group(3))
        where = f"line {ragged.group(2)}"
        for row, (line, fields) in enumerate(_csv_records(open_text(), delimiter)):
            if fields is not None and len(fields) > expected:
                where = f"line {line} (data row {row})"
                break
        return UserError(
            f"{source} {where} has {saw} fields but the header has {expected}; quote values that "
            f"contain {separator}, or fix that line."
        )
    detail = message.removeprefix("Error tokenizing data. C error: ").strip()
    return UserError(
        f"{source} could not be parsed ({detail}); check the delimiter ({separator}) and quoting."
    )


# --- JSON ---------------------------------------------------------------------------------------


def _parse_jsonl(text: str, source: str, limits: Limits) -> pd.DataFrame:
    records: list[dict[str, object]] = []
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            hint = "" if records else " (if the whole file is one JSON document, name it .json)"
            raise UserError(
                f"{source} line {line_number}: not valid JSON ({exc.msg} at column {exc.colno}); "
                f"fix or remove that line{hint}."
            ) from exc
        if not isinstance(value, dict):
            raise UserError(
                f"{source} line {line_number}: expected a JSON object such as "
                f'{{"text": "..."}}, found {_json_kind(value)}; put one object on each line.'
            )
        records.append(value)
        _check_row_count(len(records), source, limits)
    return _records_frame(records, source)


def _parse_json(text: str, source: str, limits: Limits, notices: list[str]) -> pd.DataFrame:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = (
            "; if it holds one JSON object per line, name it .jsonl"
            if exc.msg == "Extra data"
            else ""
        )
        raise UserError(
            f"{source} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            f"fix the file{hint}."
        ) from exc
    records = _json_records(value, source, notices)
    _check_row_count(len(records), source, limits)
    for row, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise UserError(
                f"{source}: row {row} (array item {row}) is {_json_kind(record)}, not a JSON "
                f'object; every item must be an object such as {{"text": "..."}}.'
            )
    return _records_frame(records, source)


def _json_records(value: object, source: str, notices: list[str]) -> list[object]:
    """Accept a bare array, or the common wrappers {"data"|"rows"|"records": [...]}."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key in ("data", "rows", "records"):
            if isinstance(value.get(key), list):
                notices.append(f'read the records from its "{key}" array.')
                return value[key]
        raise UserError(
            f"{source} holds a single JSON object; expected an array of records such as "
            '[{"text": "..."}], or an object with a "data", "rows" or "records" array.'
        )
    raise UserError(
        f"{source} holds {_json_kind(value)}, not an array of records; expected "
        '[{"text": "..."}, ...].'
    )


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return "a number"


def _records_frame(records: Sequence[object], source: str) -> pd.DataFrame:
    if not records:
        raise UserError(f"{source} has no records (an empty list); add at least one record.")
    frame = pd.DataFrame(list(records))
    if frame.shape[1] == 0:
        raise UserError(
            f'{source}: the records have no fields; each needs at least {{"text": ...}}.'
        )
    return frame


# --- Parquet and plain text ---------------------------------------------------------------------


def _parse_parquet(data: bytes, source: str, limits: Limits) -> pd.DataFrame:
    parquet = open_parquet(io.BytesIO(data), source, limits)
    try:
        table = parquet.read()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise parquet_unreadable(source, exc) from exc
    return parquet_frame(table)


def open_parquet(
    file: object, source: str, limits: Limits, streamed: bool = False
) -> pq.ParquetFile:
    """Open a Parquet file and check its row count from the footer, before reading any rows.

    ``streamed`` reads column chunks in 1 MB pieces as batches need them: by default pyarrow
    pre-buffers whole column chunks and keeps them while the file is open (a million rows of
    384-d vectors held 1.5 GB by the end of the file).
    """
    options = {"pre_buffer": False, "buffer_size": 1 << 20} if streamed else {}
    try:
        parquet = pq.ParquetFile(file, **options)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise parquet_unreadable(source, exc) from exc
    n_rows = parquet.metadata.num_rows
    _check_row_count(n_rows, source, limits)
    if n_rows == 0:
        raise UserError(f"{source} has a header but no rows; the Parquet file has columns only.")
    return parquet


def parquet_unreadable(source: str, exc: Exception) -> UserError:
    return UserError(
        f"{source} is not a readable Parquet file ({exc}); re-export it, and check that it "
        "was copied completely."
    )


def parquet_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow rows as pandas, a saved pandas index kept as data unless it is just positions."""
    try:
        frame = table.to_pandas()
    except (KeyError, TypeError, ValueError):
        # Damaged pandas metadata (index, dtypes) need not cost the user the columns themselves.
        frame = table.to_pandas(ignore_metadata=True)
    return frame.reset_index(drop=isinstance(frame.index, pd.RangeIndex))


def _parse_plain(text: str, source: str, limits: Limits, notices: list[str]) -> pd.DataFrame:
    """Paragraph mode only when some paragraph spans lines; otherwise each line is a document."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]
    if len(paragraphs) > 1 and any("\n" in paragraph for paragraph in paragraphs):
        documents = paragraphs
        mode = "one per paragraph (separated by blank lines; line breaks inside are kept)"
    else:
        documents = [line.strip() for line in text.split("\n") if line.strip()]
        mode = "one per non-empty line"
    _check_row_count(len(documents), source, limits)
    notices.append(f"read {len(documents)} documents, {mode}.")
    return pd.DataFrame({"text": documents})


# --- headers ------------------------------------------------------------------------------------


def _clean_headers(raw: Sequence[object], notices: list[str]) -> list[str]:
    """Make headers safe, unique identifiers (other modules use them in SQL and widgets)."""
    renamed: list[tuple[str, str]] = []
    shortened: list[tuple[str, str]] = []
    blank: list[str] = []
    names: list[str] = []
    for position, value in enumerate(raw, start=1):
        original = "" if value is None else str(value)
        name = safe_header(original)
        if len(name) > _MAX_HEADER_CHARS:
            shortened.append((original, name[:_MAX_HEADER_CHARS].rstrip()))
            name = shortened[-1][1]
        elif name != original.strip() and name.strip(" _"):
            renamed.append((original, name))
        if not name.strip(" _"):
            name = f"column_{position}"
            blank.append(name)
        names.append(name)
    names, duplicates = _deduplicate(names)
    _note(
        notices,
        "renamed",
        renamed,
        "header(s) with characters other than letters, digits, spaces and _-.()/#%",
    )
    _note(
        notices,
        "shortened",
        shortened,
        f"header(s) longer than {_MAX_HEADER_CHARS} characters",
    )
    _note(notices, "renamed", duplicates, "duplicate header(s)")
    if blank:
        notices.append(f"named {len(blank)} empty header(s) by position: {', '.join(blank)}.")
    return names


def safe_header(original: str) -> str:
    kept = "".join(ch for ch in original if unicodedata.category(ch) not in ("Cc", "Cf")).strip()
    replaced = "".join(ch if ch.isalnum() or ch in _HEADER_PUNCTUATION else "_" for ch in kept)
    if replaced != kept:
        replaced = re.sub(r"_{2,}", "_", replaced)
    return replaced.strip()


def _deduplicate(names: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Suffix repeats with _2, _3...; case-insensitive because SQL identifiers are."""
    taken = {name.casefold() for name in names}
    seen: set[str] = set()
    result: list[str] = []
    renames: list[tuple[str, str]] = []
    for name in names:
        unique, counter = name, 1
        # A suffixed name must not clash with a header that appears later in the file either.
        while unique.casefold() in seen or (counter > 1 and unique.casefold() in taken):
            counter += 1
            suffix = f"_{counter}"
            unique = name[: _MAX_HEADER_CHARS - len(suffix)] + suffix
        seen.add(unique.casefold())
        if unique != name:
            renames.append((name, unique))
        result.append(unique)
    return result, renames


def _note(notices: list[str], verb: str, pairs: list[tuple[str, str]], what: str) -> None:
    if not pairs:
        return
    shown = ", ".join(f"{old!r} -> {new!r}" for old, new in pairs[:_SHOWN_RENAMES])
    more = f" and {len(pairs) - _SHOWN_RENAMES} more" if len(pairs) > _SHOWN_RENAMES else ""
    notices.append(f"{verb} {len(pairs)} {what}: {shown}{more}.")


# --- vectors ------------------------------------------------------------------------------------


def _take_vectors(
    frame: pd.DataFrame, source: str, vector_column: str | None, notices: list[str]
) -> tuple[pd.DataFrame, np.ndarray | None, str | None]:
    """Use the named column, or else the first whose values are all lists of numbers."""
    if vector_column is not None:
        name = _find_column(frame, vector_column, source)
    else:
        candidates = [str(name) for name in frame.columns if _looks_like_vectors(frame[name])]
        if not candidates:
            return frame, None, None
        name = candidates[0]
    vectors = _vectors_from_cells(frame[name], f"{source}, column '{name}'")
    if vector_column is None:
        others = (
            f" Columns {', '.join(repr(c) for c in candidates[1:])} look similar and were kept."
            if len(candidates) > 1
            else ""
        )
        notices.append(
            f"column '{name}' holds lists of {vectors.shape[1]} numbers, so it was "
            f"taken as precomputed embeddings and removed from the table.{others}"
        )
    return frame.drop(columns=[name]), vectors, f"column '{name}'"


def _find_column(frame: pd.DataFrame, wanted: str, source: str) -> str:
    """Match the cleaned header, exactly or ignoring case, as the user may type either."""
    names = [str(name) for name in frame.columns]
    for candidate in (wanted, safe_header(wanted)):
        for name in names:
            if name == candidate or name.casefold() == candidate.casefold():
                return name
    raise UserError(
        f"{source} has no column '{wanted}' for the vectors; its columns are: {', '.join(names)}."
    )


def _looks_like_vectors(column: pd.Series) -> bool:
    if column.dtype != object:
        return False
    values = column.dropna()
    if values.empty:
        return False
    first = values.iloc[0]
    return (
        _is_sequence(first)
        and len(first) >= 2
        and all(_is_real_number(value) for value in first)
        and all(_is_sequence(value) for value in values)
    )


def _is_sequence(value: object) -> bool:
    return isinstance(value, list | tuple) or (isinstance(value, np.ndarray) and value.ndim == 1)


def _is_real_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _vectors_from_cells(
    column: pd.Series, where: str, first_row: int = 1, dim: int | None = None
) -> np.ndarray:
    """Validate row by row only where needed, so the common case stays vectorised.

    A piece of a longer file passes the data row of its first cell and the dimension the file's
    first piece set, so that messages name file rows and every piece has the same width.
    """
    cells = column.tolist()
    for row, cell in enumerate(cells, start=first_row):
        if not _is_sequence(cell):
            if pd.api.types.is_scalar(cell) and pd.isna(cell):
                raise UserError(
                    f"{where}: row {row} has no vector; every row needs one, so fill it in or "
                    "remove the row."
                )
            raise UserError(
                f"{where}: row {row} holds {_preview(cell)}, not a list of numbers; "
                "every row needs a list such as [0.1, -0.2, ...]."
            )
    lengths = np.fromiter((len(cell) for cell in cells), dtype=np.int64, count=len(cells))
    sizes, counts = np.unique(lengths, return_counts=True)
    expected = int(sizes[np.argmax(counts)]) if dim is None else dim
    mismatched = np.flatnonzero(lengths != expected)
    if mismatched.size:
        row = int(mismatched[0])
        raise UserError(
            f"{where}: row {row + first_row} has {lengths[row]} numbers, the others {expected}; "
            "every vector must have the same length, so fix or remove that row."
        )
    if expected < 2:
        raise UserError(
            f"{where}: the vectors have {expected} number(s); they need at least 2 dimensions."
        )
    vectors = _numeric_matrix(cells, where, first_row)
    check_finite(vectors, where, first_row)
    return vectors


def _numeric_matrix(cells: list[object], where: str, first_row: int) -> np.ndarray:
    try:
        matrix = np.array(cells)
    except (ValueError, TypeError):
        matrix = None
    if matrix is None or matrix.ndim != 2 or matrix.dtype.kind not in "iuf":
        for row, cell in enumerate(cells, start=first_row):
            for value in cell:  # type: ignore[attr-defined]
                if not _is_real_number(value):
                    raise UserError(
                        f"{where}: row {row} has a non-numeric entry ({_preview(value)}); "
                        "vectors must hold numbers only."
                    )
        raise UserError(f"{where}: the vectors could not be converted to a matrix of numbers.")
    with np.errstate(over="ignore"):
        return np.ascontiguousarray(matrix, dtype=np.float32)


def check_finite(vectors: np.ndarray, where: str, first_row: int = 1) -> None:
    finite = np.isfinite(vectors).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite)) + first_row
        raise UserError(f"{where}: row {row} has NaN/inf values; vectors must be finite.")


def _preview(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _load_npy(data: bytes, npy_name: str, source: str, n_rows: int) -> np.ndarray:
    """A sidecar matrix for formats that cannot hold vectors; never unpickles anything."""
    check_npy_magic(data, npy_name)
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise npy_unreadable(npy_name, exc) from exc
    check_npy_shape(array, npy_name, source, n_rows)
    with np.errstate(over="ignore"):
        vectors = np.ascontiguousarray(array, dtype=np.float32)
    check_finite(vectors, npy_name)
    return vectors


def check_npy_magic(head: bytes, npy_name: str) -> None:
    """The leading bytes tell an .npz archive or a non-NumPy file from a .npy matrix."""
    if head.startswith(b"PK"):
        raise UserError(
            f"{npy_name} is an .npz archive; save a single matrix with numpy.save(...) instead."
        )
    if not head.startswith(b"\x93NUMPY"):
        raise UserError(
            f"{npy_name} is not a .npy file (it lacks the NumPy header); save the vectors with "
            "numpy.save(...)."
        )


def npy_unreadable(npy_name: str, exc: Exception) -> UserError:
    return UserError(
        f"{npy_name} is not a readable .npy file ({exc}); save it again with numpy.save(...) "
        "and check that it was copied completely."
    )


def check_npy_shape(array: np.ndarray, npy_name: str, source: str, n_rows: int) -> None:
    """A 2-D matrix of numbers, one row per data row of the file it belongs to."""
    if array.ndim != 2 or array.shape[1] < 2 or array.dtype.kind not in "iuf":
        raise UserError(
            f"{npy_name} holds an array of shape {array.shape} and type {array.dtype}; it must "
            "be a 2-D matrix of numbers [rows, dimensions] with at least 2 dimensions."
        )
    if array.shape[0] != n_rows:
        raise UserError(
            f"{npy_name} has {array.shape[0]} rows but {source} has {n_rows} data rows; they must "
            f"be row-aligned (matrix row i is the vector of data row i)."
        )


# --- column detection ---------------------------------------------------------------------------
