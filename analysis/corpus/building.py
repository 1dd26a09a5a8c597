"""Writing files into a new corpus batch by batch, in one transaction: complete or absent.

Every input, a file read whole or a million-row file read in batches, goes through this one
writer. Choices that need the whole corpus are made where they can be: the text column from the
first 1,000 rows (as column detection always did), column types from what the reader knows of the
whole file, and duplicates, label columns and label sizes with SQL over the rows written so far,
before the commit. A bad row anywhere, or an interruption, rolls the whole corpus back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.core.dtypes.cast import find_common_type

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.store import Store, quote_identifier
from analysis.corpus.columns import label_like, rank_label_columns
from analysis.corpus.corpora import (
    MAX_LABEL_CLASSES,
    RESERVED_COLUMNS,
    Corpus,
    IngestOptions,
    duckdb_type,
    get_corpus,
    metadata_arrow,
    metadata_columns,
    metadata_table,
    pick_text_column,
    sha256_texts,
    texts_of,
    validate_name,
)
from analysis.corpus.readers import ParsedTable
from analysis.corpus.streaming import TableStream
from analysis.models.tokens import count_tokens

_DETECT_ROWS = 1000
#: DuckDB keeps a transaction's uncommitted rows in memory up to its memory limit and spills the
#: rest to the store's temporary directory; without a limit (its default is 80% of RAM) a million
#: rows with 384-d vectors held 1.8 GB until the commit.
_DUCKDB_MEMORY = "512MB"
#: ``write_vectors(cursor, corpus_id, text hashes, vectors)`` for each batch's kept rows.
VectorWriter = Callable[[duckdb.DuckDBPyConnection, int, list[str], np.ndarray], None]


@dataclass(frozen=True)
class _Plan:
    """What is decided before the first row is written."""

    name: str
    sources: list[str]
    dtypes: dict[str, object]  # every input column, unified across the files
    text_column: str
    kept: list[str]  # metadata columns as in the files
    renamed: dict[str, str]  # reserved names -> stored names
    types: dict[str, str]  # stored metadata column -> DuckDB type
    vector_source: str | None
    vector_dim: int | None


@dataclass
class _TooLong:
    source: str
    row: int
    chars: int
    count: int


def build_corpus(
    store: Store,
    streams: Sequence[TableStream],
    options: IngestOptions,
    limits: Limits | None = None,
    progress: ProgressFn | None = None,
    write_vectors: VectorWriter | None = None,
) -> Corpus:
    """Write the streams as corpus ``options.name`` in one transaction; raises UserError."""
    limits = limits or Limits.from_env()
    name = validate_name(options.name)
    if not streams:
        raise UserError("No files were given; upload or name at least one file.")
    _check_vectors(streams)
    rows = _rows(streams)
    head = _head(rows)
    plan = _plan(name, streams, head, options)
    total = sum(stream.n_rows for stream in streams)
    with _duckdb_memory(store, _DUCKDB_MEMORY), store.transaction() as cur:
        corpus_id = _start(cur, plan)
        written, dropped, too_long, done = 0, 0, None, 0
        for batch in _chain(head, rows):
            frame = _conform(batch.frame, plan.dtypes)
            texts = texts_of(frame, plan.text_column)
            too_long = _over_limit(texts, batch, limits, too_long)
            done += len(frame)
            if too_long is None:
                kept = _write_batch(cur, corpus_id, plan, frame, texts, batch, written)
                if write_vectors is not None and batch.vectors is not None and kept[0]:
                    write_vectors(cur, corpus_id, kept[1], kept[2])
                written += kept[0]
                dropped += len(frame) - kept[0]
            if progress is not None:
                progress(done, total)
        if too_long is not None:
            raise UserError(
                f"{too_long.source} row {too_long.row}, column '{plan.text_column}': "
                f"{too_long.chars:,} characters, over the limit of {limits.max_chars_per_text:,} "
                f"per text ({too_long.count} text(s) over it). Split long texts, or raise the "
                "limit with EMBEDLENS_MAX_CHARS."
            )
        if not written:
            raise UserError(
                f"Every text in column '{plan.text_column}' of {', '.join(plan.sources)} is empty."
            )
        _finish(cur, corpus_id, plan, streams, options, written, dropped)
    return get_corpus(store, name)


@contextmanager
def _duckdb_memory(store: Store, limit: str) -> Iterator[None]:
    """DuckDB's memory limit lowered for the ingest, reset to DuckDB's default (EmbedLens sets
    none of its own) once the transaction is over: the setting is per database, and an aborted
    transaction accepts no statement."""
    with store.connection() as cur:
        cur.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:
        with store.connection() as cur:
            cur.execute("RESET memory_limit")


# --- before the first row ------------------------------------------------------------------------


def _check_vectors(streams: Sequence[TableStream]) -> None:
    with_vectors = [stream.vector_source is not None for stream in streams]
    if any(with_vectors) and not all(with_vectors):
        missing = [s.source for s, has in zip(streams, with_vectors, strict=True) if not has]
        raise UserError(
            f"Some files carry precomputed vectors and some do not ({', '.join(missing)} have "
            "none); ingest them as separate corpora."
        )
    dims = {stream.vector_dim for stream in streams if stream.vector_dim is not None}
    if len(dims) > 1:
        raise UserError(
            f"The files carry vectors of different dimensions ({sorted(dims)}); they cannot "
            "form one corpus."
        )


def _rows(streams: Sequence[TableStream]) -> Iterator[ParsedTable]:
    """Every batch of every file, each frame with its file name and 1-based data rows."""
    for stream in streams:
        first_row = 1
        for batch in stream.batches():
            frame = batch.frame.copy()
            frame["__source"] = batch.source
            frame["__source_row"] = np.arange(first_row, first_row + len(frame))
            first_row += len(frame)
            yield ParsedTable(frame, batch.source, batch.notices, batch.vectors)


def _head(rows: Iterator[ParsedTable]) -> list[ParsedTable]:
    """The first batches, up to the rows the text column is detected from."""
    head: list[ParsedTable] = []
    for batch in rows:
        head.append(batch)
        if sum(len(b.frame) for b in head) >= _DETECT_ROWS:
            break
    return head


def _chain(head: list[ParsedTable], rows: Iterator[ParsedTable]) -> Iterator[ParsedTable]:
    while head:
        yield head.pop(0)
    yield from rows


def _unified_dtypes(streams: Sequence[TableStream]) -> dict[str, object]:
    """Each column's dtype as pandas gives it when the files are stacked (missing means null)."""
    names = list(dict.fromkeys(name for stream in streams for name in stream.dtypes))
    dtypes: dict[str, object] = {}
    for name in names:
        found = [stream.dtypes[name] for stream in streams if name in stream.dtypes]
        dtype = find_common_type(found) if len(found) > 1 else found[0]
        if len(found) < len(streams):
            kind = getattr(dtype, "kind", "")
            dtype = np.dtype("float64") if kind and kind in "iu" else dtype
            dtype = np.dtype(object) if kind == "b" else dtype
        dtypes[name] = dtype
    return dtypes


def _conform(frame: pd.DataFrame, dtypes: dict[str, object]) -> pd.DataFrame:
    """A batch with every column of the corpus, each in the corpus's dtype."""
    missing = {name: np.nan for name in dtypes if name not in frame.columns}
    if missing:
        frame = frame.assign(**missing)
    changed = {n: d for n, d in dtypes.items() if frame[n].dtype != d}
    frame = frame.astype(changed) if changed else frame
    return frame[[*dtypes, "__source", "__source_row"]]


def _plan(
    name: str, streams: Sequence[TableStream], head: list[ParsedTable], options: IngestOptions
) -> _Plan:
    sources = [stream.source for stream in streams]
    shown = ", ".join(sources)
    dtypes = _unified_dtypes(streams)
    if head:
        sample = pd.concat([_conform(b.frame, dtypes) for b in head], ignore_index=True)
    else:
        sample = pd.DataFrame({n: pd.Series(dtype=d) for n, d in dtypes.items()})
    text_column = pick_text_column(sample.head(_DETECT_ROWS), options.text_column, shown)
    kept = metadata_columns(sample, text_column, options.metadata_columns, shown)
    renamed = {column: f"{column}_original" for column in RESERVED_COLUMNS if column in kept}
    stored = [renamed.get(column, column) for column in kept]
    if options.label_columns is not None:
        for label in dict.fromkeys(options.label_columns):
            if renamed.get(label, label) not in stored:
                raise UserError(
                    f"Label column '{label}' is not among the kept columns "
                    f"({', '.join(map(str, stored)) or 'none'})."
                )
    types = {
        renamed.get(c, c): duckdb_type(pd.Series(dtype=dtypes[c]))
        for c in kept  # type: ignore[call-overload]
    }
    return _Plan(
        name,
        sources,
        dtypes,
        text_column,
        kept,
        renamed,
        types,
        next((s.vector_source for s in streams if s.vector_source), None),
        next((s.vector_dim for s in streams if s.vector_dim), None),
    )


# --- in the transaction --------------------------------------------------------------------------


def _start(cur: duckdb.DuckDBPyConnection, plan: _Plan) -> int:
    """The corpus row (its counts are filled in at the end) and its empty metadata table."""
    if cur.execute("SELECT 1 FROM corpora WHERE name = ?", [plan.name]).fetchall():
        raise UserError(
            f"A corpus named '{plan.name}' already exists; delete it first or choose another name."
        )
    corpus_id = cur.execute(
        """
        INSERT INTO corpora (name, sources, text_column, label_columns, metadata_columns,
                             n_rows, dropped_empty, duplicates, notices)
        VALUES (?, ?, ?, '[]', ?, 0, 0, 0, '[]') RETURNING corpus_id
        """,
        [
            plan.name,
            json.dumps(plan.sources),
            plan.text_column,
            json.dumps([{"name": n, "type": t} for n, t in plan.types.items()]),
        ],
    ).fetchall()[0][0]
    column_sql = ", ".join(f"{quote_identifier(n)} {t}" for n, t in plan.types.items())
    cur.execute(
        f"CREATE TABLE {metadata_table(corpus_id)} (doc_id INTEGER PRIMARY KEY"
        f"{', ' if column_sql else ''}{column_sql})"
    )
    return int(corpus_id)


def _over_limit(
    texts: pd.Series, batch: ParsedTable, limits: Limits, found: _TooLong | None
) -> _TooLong | None:
    """The first text over the length limit, and how many there are in all."""
    lengths = texts.str.len().to_numpy()
    over = np.flatnonzero(lengths > limits.max_chars_per_text)
    if not over.size:
        return found
    if found is not None:
        found.count += int(over.size)
        return found
    first = int(over[0])
    frame = batch.frame
    return _TooLong(
        str(frame["__source"].iat[first]),
        int(frame["__source_row"].iat[first]),
        int(lengths[first]),
        int(over.size),
    )


def _write_batch(
    cur: duckdb.DuckDBPyConnection,
    corpus_id: int,
    plan: _Plan,
    frame: pd.DataFrame,
    texts: pd.Series,
    batch: ParsedTable,
    first_doc: int,
) -> tuple[int, list[str], np.ndarray | None]:
    """Insert the batch's non-empty texts and their metadata; returns (count, hashes, vectors)."""
    keep = (texts.str.strip() != "").to_numpy()
    n_kept = int(keep.sum())
    if not n_kept:
        return 0, [], None
    text_list = texts[keep].tolist()
    hashes = sha256_texts(text_list)
    doc_ids = np.arange(first_doc, first_doc + n_kept, dtype=np.int32)
    documents = pa.table(
        {
            "corpus_id": pa.repeat(pa.scalar(corpus_id, pa.int32()), n_kept),
            "doc_id": doc_ids,
            "text": pa.array(text_list, pa.string()),
            "text_sha256": pa.array(hashes, pa.string()),
            "n_chars": texts[keep].str.len().astype("int32").to_numpy(),
            "n_tokens": count_tokens(text_list),
            "source": frame["__source"].to_numpy()[keep].astype(str),
            "source_row": frame["__source_row"].to_numpy()[keep].astype(np.int32),
        }
    )
    # Relations rather than register(): DuckDB keeps registered objects until the transaction
    # ends, which would hold every batch of the ingest in memory.
    cur.from_arrow(documents).query(
        "incoming_documents",
        "INSERT INTO documents SELECT corpus_id, doc_id, text, text_sha256, n_chars, n_tokens, "
        "source, source_row FROM incoming_documents",
    )
    metadata = frame.loc[keep, plan.kept].rename(columns=plan.renamed)
    cur.from_arrow(metadata_arrow(metadata, plan.types, doc_ids)).query(
        "incoming_metadata",
        f"INSERT INTO {metadata_table(corpus_id)} SELECT * FROM incoming_metadata",
    )
    vectors = None if batch.vectors is None else batch.vectors[keep]
    return n_kept, hashes, vectors


def _finish(
    cur: duckdb.DuckDBPyConnection,
    corpus_id: int,
    plan: _Plan,
    streams: Sequence[TableStream],
    options: IngestOptions,
    written: int,
    dropped: int,
) -> None:
    """Counts, labels and notices that need every row, written into the corpus row."""
    notices = [f"{s.source}: {notice}" for s in streams for notice in s.notices]
    if dropped:
        notices.append(f"Dropped {dropped:,} row(s) with an empty text.")
    distinct = cur.execute(
        "SELECT count(DISTINCT text_sha256) FROM documents WHERE corpus_id = ?", [corpus_id]
    ).fetchall()[0][0]
    duplicates = written - int(distinct)
    if duplicates:
        notices.append(f"{duplicates:,} text(s) repeat an earlier text exactly; they are kept.")
    notices.extend(
        f"Column '{old}' is reserved; it is kept as '{new}'." for old, new in plan.renamed.items()
    )
    labels = _label_columns(cur, corpus_id, plan, options)
    if plan.vector_source is not None:
        model = (options.vector_model or "imported").strip() or "imported"
        notices.append(
            f"Imported {plan.vector_dim}-dimensional vectors from {plan.vector_source} as model "
            f"'{model}'."
        )
    cur.execute(
        "UPDATE corpora SET n_rows = ?, dropped_empty = ?, duplicates = ?, label_columns = ?, "
        "notices = ? WHERE corpus_id = ?",
        [written, dropped, duplicates, json.dumps(labels), json.dumps(notices), corpus_id],
    )


def _label_columns(
    cur: duckdb.DuckDBPyConnection, corpus_id: int, plan: _Plan, options: IngestOptions
) -> list[str]:
    """The chosen label columns, or the detected ones; each with at most 200 classes."""
    table = metadata_table(corpus_id)
    stored = {plan.renamed.get(c, c): c for c in plan.kept}
    if options.label_columns is None:
        candidates = [n for n, t in plan.types.items() if t != "TIMESTAMP"]
    else:
        candidates = [plan.renamed.get(c, c) for c in dict.fromkeys(options.label_columns)]
    counts: dict[str, tuple[int, int]] = {}
    for name in candidates:
        column = quote_identifier(name)
        n_values, n_unique = cur.execute(
            f"SELECT count({column}), count(DISTINCT {column}) FROM {table}"
        ).fetchall()[0]
        counts[name] = (int(n_values), int(n_unique))
    if options.label_columns is None:
        found = [
            stored[name]
            for name in candidates
            if label_like(
                *counts[name],
                plan.types[name] in ("BIGINT", "DOUBLE", "BOOLEAN"),
                lambda name=name: _mean_chars(cur, table, name),
            )
        ]
        return [plan.renamed.get(c, c) for c in rank_label_columns(found)]
    for name in candidates:
        classes = counts[name][1]
        if classes > MAX_LABEL_CLASSES:
            raise UserError(
                f"Label column '{name}' has {classes:,} distinct values; a label needs at most "
                f"{MAX_LABEL_CLASSES}. Keep it as a metadata column instead."
            )
    return candidates


def _mean_chars(cur: duckdb.DuckDBPyConnection, table: str, name: str) -> float:
    column = quote_identifier(name)
    row = cur.execute(f"SELECT avg(length(CAST({column} AS VARCHAR))) FROM {table}").fetchall()
    return float(row[0][0] or 0.0)
