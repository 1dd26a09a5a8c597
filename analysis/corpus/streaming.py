"""Files read in batches of rows, so that a million-row CSV or Parquet file never sits in memory.

A :class:`TableStream` is one file: what the whole file decides up front (its cleaned columns,
their final types, its row count, the reader's notices) and a way to walk its rows in batches.
Every batch is a :class:`ParsedTable` cleaned by the same rules as a whole-file read, so a file
gives the same corpus however it was read. CSV/TSV is read twice: a first pass checks the bytes,
the encoding, every line and which columns are numeric (a column is numeric only if all its values
are), a second pass yields the rows. Parquet's footer gives the row count and types, so it is read
once. Other formats (JSON, JSON Lines, plain text) are read whole, as one batch.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.corpus import readers
from analysis.corpus.readers import ParsedTable

#: Rows per batch: the texts, tokens and vectors held in memory at once (20,000 x 384 float32
#: vectors are 29 MB; 20,000 texts of a few hundred characters a few MB).
BATCH_ROWS = 20_000
_SCAN_BYTES = 4 * 1024 * 1024
_STREAMED = frozenset({".csv", ".tsv", ".parquet"})


@dataclass
class TableStream:
    """One input file as batches of rows, with what the whole file decides known up front."""

    source: str
    n_rows: int
    dtypes: dict[str, object]  # cleaned column name -> pandas dtype of the whole column
    notices: list[str]
    batches: Callable[[], Iterator[ParsedTable]]
    vector_source: str | None = None
    vector_dim: int | None = field(default=None)


def stream_of(table: ParsedTable) -> TableStream:
    """A table already in memory as a stream of one batch."""
    return TableStream(
        source=table.source,
        n_rows=len(table.frame),
        dtypes=dict(table.frame.dtypes),
        notices=table.notices,
        batches=lambda: iter([table]),
        vector_source=table.vector_source,
        vector_dim=None if table.vectors is None else int(table.vectors.shape[1]),
    )


def stream_path(
    path: Path,
    limits: Limits,
    *,
    vector_column: str | None = None,
    npy_path: Path | None = None,
    batch_rows: int | None = None,
    progress: ProgressFn | None = None,
) -> TableStream:
    """CSV, TSV and Parquet in batches; other formats whole (they need the whole file to parse).

    The file-size limit guards memory, so it does not apply to the streamed formats: their memory
    is bounded by ``batch_rows`` whatever the file's size. The row limit still applies.
    ``batch_rows`` defaults to BATCH_ROWS; ``progress(bytes_done, bytes_total)`` reports the CSV
    checking pass.
    """
    path = Path(path)
    batch_rows = batch_rows or BATCH_ROWS
    suffix = readers._suffix_of(path.name)
    if suffix not in _STREAMED:
        return stream_of(
            readers.read_path(path, limits, vector_column=vector_column, npy_path=npy_path)
        )
    _check_readable(path)
    if npy_path is not None:
        _check_readable(Path(npy_path))
    if suffix == ".parquet":
        stream = _parquet_stream(path, limits, vector_column, batch_rows)
    else:
        if vector_column is not None:
            raise UserError(
                f"{path.name}: a vector column can only be read from Parquet, JSON Lines or JSON "
                f"files; for {readers._KINDS[suffix]}, supply the vectors as a .npy file."
            )
        stream = _delimited_stream(path, suffix, limits, batch_rows, progress)
    return _with_npy(stream, Path(npy_path), batch_rows) if npy_path is not None else stream


def _check_readable(path: Path) -> None:
    """The same messages as a whole-file read for a missing, folder or unreadable path."""
    try:
        with path.open("rb"):
            pass
    except OSError:
        readers._read_file(path, None)


# --- CSV and TSV ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Decoding:
    encoding: str
    errors: str
    head: str  # the first characters, NULs removed, for sniffing the delimiter


class _CleanText:
    """The file decoded as the checking pass decided, NUL bytes removed, read in pieces."""

    def __init__(self, path: Path, decoding: _Decoding) -> None:
        self._file: TextIO = path.open(
            encoding=decoding.encoding, errors=decoding.errors, newline=""
        )

    def read(self, size: int = -1) -> str:
        if self._file.closed:
            return ""
        text = self._file.read(size)
        if not text:
            self._file.close()
        return text.replace("\x00", "")

    def __iter__(self) -> Iterator[str]:
        with self._file:
            yield from (line.replace("\x00", "") for line in self._file)


def _decoding(path: Path, source: str, kind: str, notices: list[str]) -> _Decoding:
    """Decide the encoding from the whole file and check it is text, as readers._decode does."""
    with path.open("rb") as file:
        head = file.read(readers._SNIFF_CHARS)
    readers._reject_known_binary(head, source, kind, whole=path)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        notices.append("decoded as UTF-16 (the file starts with a UTF-16 byte-order mark).")
        return _checked(path, "utf-16", "replace", source, kind, notices)
    error = _first_utf8_error(path)
    if error is None:
        return _checked(path, "utf-8-sig", "strict", source, kind, notices)
    try:
        decoding = _checked(path, "cp1252", "strict", source, kind, [])
        label = "Latin-1/Windows-1252"
    except UnicodeDecodeError:
        decoding, label = _checked(path, "latin-1", "strict", source, kind, []), "Latin-1"
    notices.append(
        f"decoded as {label} (not valid UTF-8 at {error}); "
        "check accented characters, or re-save the file as UTF-8."
    )
    return _checked(path, decoding.encoding, "strict", source, kind, notices)


def _first_utf8_error(path: Path) -> str | None:
    """Where strict UTF-8 decoding first fails ("byte B, line L", BOM excluded), or None."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset, lines = 0, 0
    with path.open("rb") as file:
        chunk = file.read(_SCAN_BYTES)
        if chunk.startswith(codecs.BOM_UTF8):
            chunk = chunk[len(codecs.BOM_UTF8) :]
        while chunk:
            pending = decoder.getstate()[0]
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                start = exc.start - len(pending)
                line = lines + chunk.count(b"\n", 0, max(start, 0)) + 1
                return f"byte {offset + start + 1}, line {line}"
            offset, lines = offset + len(chunk), lines + chunk.count(b"\n")
            chunk = file.read(_SCAN_BYTES)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return f"byte {offset + 1}, line {lines + 1}"
    return None


def _checked(
    path: Path, encoding: str, errors: str, source: str, kind: str, notices: list[str]
) -> _Decoding:
    """Decode the whole file once: it must be text (not binary); count its NUL bytes."""
    nul_count, n_chars, head, blank = 0, 0, "", True
    with path.open(encoding=encoding, errors=errors, newline="") as file:
        for piece in iter(lambda: file.read(_SCAN_BYTES), ""):
            nul_count += piece.count("\x00")
            n_chars += len(piece)
            blank = blank and not piece.strip()
            if len(head) < 2 * readers._SNIFF_CHARS:
                head += piece[: 2 * readers._SNIFF_CHARS]
    if blank:
        raise UserError(f"{source} is empty; pick a file that contains data.")
    readers.check_not_binary(nul_count, n_chars, head[: readers._SNIFF_CHARS], source, kind)
    readers.note_nuls(nul_count, notices)
    return _Decoding(encoding, errors, head.replace("\x00", "")[: readers._SNIFF_CHARS + 1])


def _delimited_stream(
    path: Path, suffix: str, limits: Limits, batch_rows: int, progress: ProgressFn | None
) -> TableStream:
    source, kind = path.name, readers._KINDS[suffix]
    notices: list[str] = []
    decoding = _decoding(path, source, kind, notices)
    with readers.parse_errors_explained(source, kind):
        delimiter = readers.pick_delimiter(decoding.head, suffix, notices)

        def chunks() -> Iterator[pd.DataFrame]:
            return readers.csv_chunks(
                lambda: _CleanText(path, decoding), source, delimiter, limits, batch_rows
            )

        header, evidence, n_rows = _check_delimited(chunks(), path, progress)
        kinds = [readers.numeric_kind(pieces) for pieces in evidence]
        raw_headers = ["" if name is None else str(name) for name in header]
        names = readers._clean_headers(list(header), notices)
    text_dtype = pd.Series(dtype="str").dtype
    dtypes = {
        name: np.dtype(kind) if kind is not None else text_dtype
        for name, kind in zip(names, kinds, strict=True)
    }

    def batches() -> Iterator[ParsedTable]:
        for position, chunk in enumerate(chunks()):
            body = chunk.iloc[1:] if position == 0 else chunk
            with readers.parse_errors_explained(source, kind):
                frame = pd.DataFrame(
                    {
                        name: readers.as_kind(body.iloc[:, column], kinds[column])
                        for column, name in enumerate(names)
                    }
                ).reset_index(drop=True)
            if len(frame):
                yield ParsedTable(frame, source, notices, raw_headers=raw_headers)

    return TableStream(source, n_rows, dtypes, notices, batches)


def _check_delimited(
    chunks: Iterator[pd.DataFrame], path: Path, progress: ProgressFn | None
) -> tuple[list[object], list[list[readers.NumericEvidence]], int]:
    """The first pass: every line parses, and what each column's values say about its type."""
    header: list[object] = []
    evidence: list[list[readers.NumericEvidence]] = []
    n_rows = 0
    total = path.stat().st_size
    for position, chunk in enumerate(chunks):
        if position == 0:
            header = chunk.iloc[0].tolist()
            evidence = [[] for _ in header]
            chunk = chunk.iloc[1:]
        n_rows += len(chunk)
        for column, pieces in enumerate(evidence):
            pieces.append(readers.column_evidence(chunk.iloc[:, column]))
        if progress is not None:
            progress(min(total, int(total * (position + 1) / (position + 2))), total)
    if progress is not None:
        progress(total, total)
    return header, evidence, n_rows


# --- Parquet --------------------------------------------------------------------------------------


def _parquet_stream(
    path: Path, limits: Limits, vector_column: str | None, batch_rows: int
) -> TableStream:
    source, kind = path.name, readers._KINDS[".parquet"]
    notices: list[str] = []
    parquet = readers.open_parquet(str(path), source, limits, streamed=True)
    schema = parquet.schema_arrow
    with readers.parse_errors_explained(source, kind):
        empty = readers.parquet_frame(schema.empty_table())
        raw_headers = ["" if name is None else str(name) for name in empty.columns]
        names = readers._clean_headers(list(empty.columns), notices)
        with_nulls = _columns_with_nulls(parquet, schema, batch_rows)
        dtypes = {
            name: _nullable(dtype) if raw in with_nulls else dtype
            for raw, name, dtype in zip(raw_headers, names, empty.dtypes, strict=True)
        }
        if vector_column is not None:
            vector_name = readers._find_column(pd.DataFrame(columns=names), vector_column, source)
            others: list[str] = []
        else:
            found = [
                name
                for raw, name in zip(raw_headers, names, strict=True)
                if _holds_vectors(parquet, schema, raw, batch_rows)
            ]
            vector_name, others = (found[0], found[1:]) if found else (None, [])
    vector_raw = None if vector_name is None else raw_headers[names.index(vector_name)]
    if vector_name is not None:
        dtypes.pop(vector_name)
    stream = TableStream(
        source,
        parquet.metadata.num_rows,
        dtypes,
        notices,
        lambda: iter(()),
        vector_source=None if vector_name is None else f"column '{vector_name}'",
    )

    def batches() -> Iterator[ParsedTable]:
        first_row = 1
        for batch in parquet.iter_batches(batch_size=batch_rows):
            table = pa.Table.from_batches([batch], schema=schema)
            with readers.parse_errors_explained(source, kind):
                frame = readers.parquet_frame(table)
                frame.columns = names
                vectors = None
                if vector_raw is not None:
                    where = f"{source}, column '{vector_name}'"
                    vectors = _arrow_vectors(
                        table.column(vector_raw),
                        frame[vector_name],
                        where,
                        first_row,
                        stream.vector_dim,
                    )
                    frame = frame.drop(columns=[vector_name])
                frame = frame.astype({n: d for n, d in dtypes.items() if frame[n].dtype != d})
            yield ParsedTable(frame, source, notices, vectors, stream.vector_source, raw_headers)
            first_row += len(frame)

    if vector_name is None:
        stream.batches = batches
        return stream
    # The first batch sets the dimension every later batch (and file) must have.
    first = next(batches())
    stream.vector_dim = int(first.vectors.shape[1])  # type: ignore[union-attr]
    stream.batches = batches
    if vector_column is None:
        kept = f" Columns {', '.join(repr(c) for c in others)} look similar and were kept."
        notices.append(
            f"column '{vector_name}' holds lists of {stream.vector_dim} numbers, so it was "
            f"taken as precomputed embeddings and removed from the table.{kept if others else ''}"
        )
    return stream


def _columns_with_nulls(parquet: object, schema: pa.Schema, batch_rows: int) -> set[str]:
    """Integer and boolean columns with a null anywhere: pandas gives them another dtype."""
    wanted = [f.name for f in schema if pa.types.is_integer(f.type) or pa.types.is_boolean(f.type)]
    found: set[str] = set()
    if wanted:
        batches = parquet.iter_batches(batch_size=batch_rows, columns=wanted)  # type: ignore[attr-defined]
        for batch in batches:
            columns = zip(batch.schema.names, batch.columns, strict=True)
            found.update(name for name, column in columns if column.null_count)
    return found


def _nullable(dtype: object) -> object:
    """The dtype pandas gives a column of this dtype once it holds a null."""
    kind = getattr(dtype, "kind", "")
    if kind in "iu" and kind:
        return np.dtype("float64")
    return np.dtype(object) if kind == "b" else dtype


def _holds_vectors(parquet: object, schema: pa.Schema, raw: str, batch_rows: int) -> bool:
    """A list column of numbers whose first value looks like a vector (readers' own rule)."""
    if raw not in schema.names:
        return False
    if not _is_list(schema.field(raw).type):
        return False
    for batch in parquet.iter_batches(batch_size=batch_rows, columns=[raw]):  # type: ignore[attr-defined]
        values = batch.column(0).drop_null()
        if len(values):
            return readers._looks_like_vectors(values.slice(0, 1).to_pandas())
    return False


def _is_list(kind: pa.DataType) -> bool:
    return (
        pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
    )


def _arrow_vectors(
    column: pa.ChunkedArray, cells: pd.Series, where: str, first_row: int, dim: int | None
) -> np.ndarray:
    """Numbers straight from Arrow when every row has a complete vector; otherwise the row by row
    checks of readers, which name the first bad row."""
    array = column.combine_chunks()
    numeric = _is_list(array.type) and (
        pa.types.is_integer(array.type.value_type) or pa.types.is_floating(array.type.value_type)
    )
    if array.null_count == 0 and numeric:
        lengths = pc.list_value_length(array).to_numpy(zero_copy_only=False)
        flat = pc.list_flatten(array)
        width = dim if dim is not None else int(lengths[0]) if len(lengths) else 0
        if flat.null_count == 0 and width >= 2 and bool((lengths == width).all()):
            with np.errstate(over="ignore"):
                vectors = np.ascontiguousarray(
                    flat.to_numpy(zero_copy_only=False).reshape(-1, width), dtype=np.float32
                )
            readers.check_finite(vectors, where, first_row)
            return vectors
    return readers._vectors_from_cells(cells, where, first_row, dim)


# --- a .npy matrix beside the file ---------------------------------------------------------------


def _with_npy(stream: TableStream, npy_path: Path, batch_rows: int) -> TableStream:
    """Row-aligned vectors from a .npy file, memory-mapped so only a batch of them is in memory."""
    name = npy_path.name
    if stream.vector_source is not None:
        raise UserError(
            f"{stream.source} already carries vectors in its {stream.vector_source}; "
            f"remove that column or do not supply {name}."
        )
    with npy_path.open("rb") as file:
        readers.check_npy_magic(file.read(8), name)
    try:
        matrix = np.load(npy_path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise readers.npy_unreadable(name, exc) from exc
    readers.check_npy_shape(matrix, name, stream.source, stream.n_rows)
    rows = stream.batches

    def batches() -> Iterator[ParsedTable]:
        start = 0
        for batch in rows():
            stop = start + len(batch.frame)
            with np.errstate(over="ignore"):
                vectors = np.ascontiguousarray(matrix[start:stop], dtype=np.float32)
            readers.check_finite(vectors, name, start + 1)
            yield ParsedTable(batch.frame, batch.source, batch.notices, vectors, name)
            start = stop

    stream.batches = batches
    stream.vector_source, stream.vector_dim = name, int(matrix.shape[1])
    return stream
