"""Corpora: turning parsed files into a stored corpus, and finding, reading and deleting them.

Ingestion is split in two: ``prepare_corpus`` validates and cleans in memory (every user error is
raised there, before anything touches the store) and ``write_corpus`` writes everything in one
transaction, so a corpus is either complete or absent.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.core.analysis import Scope
from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.core.store import Store, first_row, quote_identifier
from analysis.corpus.columns import detect_label_columns, detect_text_column
from analysis.corpus.readers import ParsedTable
from analysis.models.tokens import count_tokens

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")
# Columns every document has; a user column of the same name is kept under another name.
RESERVED_COLUMNS = ("doc_id", "text", "text_sha256", "n_tokens", "n_chars", "source", "source_row")
# (owner table, per-document child table, id column) of results derived from a corpus
DERIVED_TABLES = (
    ("knn_graphs", "knn_edges", "graph_id"),
    ("projections", "projection_coords", "projection_id"),
)
MAX_LABEL_CLASSES = 200


@dataclass
class IngestOptions:
    """What the user chose; None means "detect it"."""

    name: str
    text_column: str | None = None
    label_columns: list[str] | None = None
    metadata_columns: list[str] | None = None
    vector_model: str | None = None


@dataclass
class PreparedCorpus:
    """A validated corpus in memory, ready to be written in one transaction."""

    name: str
    text_column: str
    label_columns: list[str]
    documents: pd.DataFrame  # text, text_sha256, n_chars, n_tokens, source, source_row
    metadata: pd.DataFrame  # the kept columns, row-aligned with documents
    sources: list[str]
    dropped_empty: int
    duplicates: int
    notices: list[str] = field(default_factory=list)
    vectors: np.ndarray | None = None
    vector_model: str | None = None


@dataclass(frozen=True)
class Corpus:
    """A stored corpus as the rest of the engine sees it."""

    corpus_id: int
    name: str
    text_column: str
    label_columns: list[str]
    metadata_columns: list[dict[str, str]]
    n_rows: int
    dropped_empty: int
    duplicates: int
    sources: list[str]
    notices: list[str]
    created_at: str

    @property
    def metadata_names(self) -> list[str]:
        return [column["name"] for column in self.metadata_columns]

    @property
    def scope(self) -> Scope:
        """What an analysis of this corpus is keyed and labelled by."""
        return Scope(self.corpus_id, self.name)


def validate_name(name: str) -> str:
    cleaned = (name or "").strip()
    if not NAME_PATTERN.match(cleaned):
        raise UserError(
            f"Corpus name {name!r} is not allowed: use 1-64 letters, digits, spaces, '_', '-' or "
            "'.', starting with a letter or digit."
        )
    return cleaned


def sha256_texts(texts: Sequence[str]) -> list[str]:
    return [hashlib.sha256(text.encode("utf-8")).hexdigest() for text in texts]


def _combine(tables: Sequence[ParsedTable]) -> tuple[pd.DataFrame, list[str], np.ndarray | None]:
    """Stack several files into one frame with their origin, checking vectors line up."""
    frames, notices = [], []
    with_vectors = [table.vectors is not None for table in tables]
    if any(with_vectors) and not all(with_vectors):
        missing = [t.source for t, has in zip(tables, with_vectors, strict=True) if not has]
        raise UserError(
            f"Some files carry precomputed vectors and some do not ({', '.join(missing)} have "
            "none); ingest them as separate corpora."
        )
    dims = {table.vectors.shape[1] for table in tables if table.vectors is not None}
    if len(dims) > 1:
        raise UserError(
            f"The files carry vectors of different dimensions ({sorted(dims)}); they cannot "
            "form one corpus."
        )
    for table in tables:
        frame = table.frame.copy()
        frame["__source"] = table.source
        frame["__source_row"] = np.arange(1, len(frame) + 1)
        frames.append(frame)
        notices.extend(f"{table.source}: {notice}" for notice in table.notices)
    combined = pd.concat(frames, ignore_index=True, sort=False)
    vectors = (
        np.concatenate([t.vectors for t in tables if t.vectors is not None]).astype(np.float32)
        if all(with_vectors)
        else None
    )
    return combined, notices, vectors


def _pick_text_column(frame: pd.DataFrame, requested: str | None, sources: str) -> str:
    columns = [c for c in frame.columns if not str(c).startswith("__")]
    if requested is not None:
        if requested not in columns:
            raise UserError(
                f"Text column '{requested}' is not in {sources}; the columns are: "
                f"{', '.join(map(str, columns))}."
            )
        return requested
    detected = detect_text_column(frame[columns])
    if detected is None:
        raise UserError(
            f"Found no column of text in {sources} (columns: {', '.join(map(str, columns))}); "
            "name one with --text-column."
        )
    return detected


def _texts(frame: pd.DataFrame, column: str) -> pd.Series:
    values = frame[column]
    return values.map(
        lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
    )


def _check_text_limit(texts: pd.Series, frame: pd.DataFrame, column: str, limits: Limits) -> None:
    lengths = texts.str.len()
    too_long = np.flatnonzero(lengths.to_numpy() > limits.max_chars_per_text)
    if too_long.size:
        first = int(too_long[0])
        raise UserError(
            f"{frame['__source'].iat[first]} row {int(frame['__source_row'].iat[first])}, column "
            f"'{column}': {int(lengths.iat[first]):,} characters, over the limit of "
            f"{limits.max_chars_per_text:,} per text ({too_long.size} text(s) over it). Split "
            "long texts, or raise the limit with EMBEDLENS_MAX_CHARS."
        )


def _metadata_columns(
    frame: pd.DataFrame, text_column: str, requested: list[str] | None, sources: str
) -> list[str]:
    available = [c for c in frame.columns if not str(c).startswith("__") and c != text_column]
    if requested is None:
        return available
    unknown = [c for c in requested if c not in available]
    if unknown:
        raise UserError(
            f"Column(s) {', '.join(unknown)} are not in {sources} (or are the text column); the "
            f"other columns are: {', '.join(map(str, available)) or 'none'}."
        )
    return list(dict.fromkeys(requested))


def _check_labels(metadata: pd.DataFrame, labels: list[str]) -> None:
    for label in labels:
        if label not in metadata.columns:
            raise UserError(
                f"Label column '{label}' is not among the kept columns "
                f"({', '.join(map(str, metadata.columns)) or 'none'})."
            )
        classes = metadata[label].nunique(dropna=True)
        if classes > MAX_LABEL_CLASSES:
            raise UserError(
                f"Label column '{label}' has {classes:,} distinct values; a label needs at most "
                f"{MAX_LABEL_CLASSES}. Keep it as a metadata column instead."
            )


def prepare_corpus(
    tables: Sequence[ParsedTable], options: IngestOptions, limits: Limits | None = None
) -> PreparedCorpus:
    """Validate and clean parsed files into a corpus; raises UserError, never writes."""
    limits = limits or Limits.from_env()
    name = validate_name(options.name)
    if not tables:
        raise UserError("No files were given; upload or name at least one file.")
    sources = ", ".join(table.source for table in tables)
    frame, notices, vectors = _combine(tables)
    text_column = _pick_text_column(frame, options.text_column, sources)
    texts = _texts(frame, text_column)
    _check_text_limit(texts, frame, text_column, limits)
    keep = (texts.str.strip() != "").to_numpy()
    dropped_empty = int((~keep).sum())
    if not keep.any():
        raise UserError(f"Every text in column '{text_column}' of {sources} is empty.")
    frame, texts = frame.loc[keep].reset_index(drop=True), texts[keep].reset_index(drop=True)
    if vectors is not None:
        vectors = vectors[keep]
    if dropped_empty:
        notices.append(f"Dropped {dropped_empty:,} row(s) with an empty text.")
    duplicates = int(texts.duplicated().sum())
    if duplicates:
        notices.append(f"{duplicates:,} text(s) repeat an earlier text exactly; they are kept.")

    meta_names = _metadata_columns(frame, text_column, options.metadata_columns, sources)
    metadata = frame[meta_names].copy()
    renamed = {name: f"{name}_original" for name in RESERVED_COLUMNS if name in metadata.columns}
    metadata = metadata.rename(columns=renamed)
    notices.extend(
        f"Column '{old}' is reserved; it is kept as '{new}'." for old, new in renamed.items()
    )
    if options.label_columns is None:
        label_columns = detect_label_columns(frame[[text_column, *meta_names]], text_column)
    else:
        label_columns = list(dict.fromkeys(options.label_columns))
    label_columns = [renamed.get(c, c) for c in label_columns]
    _check_labels(metadata, label_columns)

    text_list = texts.tolist()
    documents = pd.DataFrame(
        {
            "text": text_list,
            "text_sha256": sha256_texts(text_list),
            "n_chars": texts.str.len().astype("int32").to_numpy(),
            "n_tokens": count_tokens(text_list),
            "source": frame["__source"].astype(str).to_numpy(),
            "source_row": frame["__source_row"].astype("int32").to_numpy(),
        }
    )
    vector_model = None
    if vectors is not None:
        vector_model = (options.vector_model or "imported").strip() or "imported"
        vector_source = next(t.vector_source for t in tables if t.vector_source)
        notices.append(
            f"Imported {vectors.shape[1]}-dimensional vectors from {vector_source} as model "
            f"'{vector_model}'."
        )
    return PreparedCorpus(
        name=name,
        text_column=text_column,
        label_columns=label_columns,
        documents=documents,
        metadata=metadata.reset_index(drop=True),
        sources=[table.source for table in tables],
        dropped_empty=dropped_empty,
        duplicates=duplicates,
        notices=notices,
        vectors=vectors,
        vector_model=vector_model,
    )


def _duckdb_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(series):
        return "BIGINT"
    if pd.api.types.is_float_dtype(series):
        return "DOUBLE"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "TIMESTAMP"
    return "VARCHAR"


def metadata_table(corpus_id: int) -> str:
    return f"corpus_meta_{int(corpus_id)}"


def _metadata_arrow(metadata: pd.DataFrame, types: dict[str, str]) -> pa.Table:
    columns = {"doc_id": pa.array(np.arange(len(metadata), dtype=np.int32))}
    for name, sql_type in types.items():
        values = metadata[name]
        if sql_type == "VARCHAR":
            values = values.map(lambda v: None if v is None or v is pd.NA or v != v else str(v))
            columns[name] = pa.array(values.tolist(), type=pa.string())
        else:
            columns[name] = pa.Array.from_pandas(values)
    return pa.table(columns)


def write_corpus(
    store: Store,
    prepared: PreparedCorpus,
    also_write: Callable[[duckdb.DuckDBPyConnection, int], None] | None = None,
) -> Corpus:
    """Write a prepared corpus in one transaction, with ``also_write(cursor, corpus_id)`` inside it.

    ``also_write`` lets a higher layer (imported vectors) commit with the corpus or not at all.
    """
    types = {str(name): _duckdb_type(prepared.metadata[name]) for name in prepared.metadata}
    with store.transaction() as cur:
        exists = cur.execute("SELECT 1 FROM corpora WHERE name = ?", [prepared.name]).fetchall()
        if exists:
            raise UserError(
                f"A corpus named '{prepared.name}' already exists; delete it first or choose "
                "another name."
            )
        corpus_id = cur.execute(
            """
            INSERT INTO corpora (name, sources, text_column, label_columns, metadata_columns,
                                 n_rows, dropped_empty, duplicates, notices)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING corpus_id
            """,
            [
                prepared.name,
                json.dumps(prepared.sources),
                prepared.text_column,
                json.dumps(prepared.label_columns),
                json.dumps([{"name": n, "type": t} for n, t in types.items()]),
                len(prepared.documents),
                prepared.dropped_empty,
                prepared.duplicates,
                json.dumps(prepared.notices),
            ],
        ).fetchall()[0][0]
        docs = pa.Table.from_pandas(prepared.documents, preserve_index=False)
        docs = docs.append_column("doc_id", pa.array(np.arange(docs.num_rows, dtype=np.int32)))
        cur.register("incoming_documents", docs)
        cur.execute(
            """
            INSERT INTO documents
            SELECT ?, doc_id, text, text_sha256, n_chars, n_tokens, source, source_row
            FROM incoming_documents
            """,
            [corpus_id],
        )
        cur.unregister("incoming_documents")
        column_sql = ", ".join(f"{quote_identifier(n)} {t}" for n, t in types.items())
        table = metadata_table(corpus_id)
        cur.execute(
            f"CREATE TABLE {table} (doc_id INTEGER PRIMARY KEY{', ' if column_sql else ''}"
            f"{column_sql})"
        )
        cur.register("incoming_metadata", _metadata_arrow(prepared.metadata, types))
        cur.execute(f"INSERT INTO {table} SELECT * FROM incoming_metadata")
        cur.unregister("incoming_metadata")
        if also_write is not None:
            also_write(cur, corpus_id)
    return get_corpus(store, prepared.name)


_CORPUS_COLUMNS = (
    "corpus_id, name, text_column, label_columns, metadata_columns, n_rows, dropped_empty, "
    "duplicates, sources, notices, CAST(created_at AS VARCHAR)"
)


def _corpus_from_row(row: tuple) -> Corpus:
    return Corpus(
        corpus_id=int(row[0]),
        name=row[1],
        text_column=row[2],
        label_columns=json.loads(row[3]),
        metadata_columns=json.loads(row[4]),
        n_rows=int(row[5]),
        dropped_empty=int(row[6]),
        duplicates=int(row[7]),
        sources=json.loads(row[8]),
        notices=json.loads(row[9]),
        created_at=row[10],
    )


def get_corpus(store: Store, name: str) -> Corpus:
    row = first_row(
        store.fetch_all(f"SELECT {_CORPUS_COLUMNS} FROM corpora WHERE name = ?", [name])
    )
    if row is None:
        known = [c.name for c in list_corpora(store)]
        hint = f" Known corpora: {', '.join(known)}." if known else " The store has no corpora yet."
        raise UserError(f"No corpus named '{name}'.{hint}")
    return _corpus_from_row(row)


def list_corpora(store: Store) -> list[Corpus]:
    rows = store.fetch_all(f"SELECT {_CORPUS_COLUMNS} FROM corpora ORDER BY name")
    return [_corpus_from_row(row) for row in rows]


def delete_corpus(store: Store, name: str) -> Corpus:
    """Remove a corpus, its documents, metadata and embedding records (cached vectors stay)."""
    corpus = get_corpus(store, name)
    with store.transaction() as cur:
        cur.execute("DELETE FROM documents WHERE corpus_id = ?", [corpus.corpus_id])
        cur.execute("DELETE FROM corpus_embeddings WHERE corpus_id = ?", [corpus.corpus_id])
        for owner, child, key in DERIVED_TABLES:
            cur.execute(
                f"DELETE FROM {child} WHERE {key} IN "
                f"(SELECT {key} FROM {owner} WHERE corpus_id = ?)",
                [corpus.corpus_id],
            )
        for table in ("knn_graphs", "projections", "clusterings", "analysis_results"):
            cur.execute(f"DELETE FROM {table} WHERE corpus_id = ?", [corpus.corpus_id])
        cur.execute(f"DROP TABLE IF EXISTS {metadata_table(corpus.corpus_id)}")
        cur.execute("DELETE FROM corpora WHERE corpus_id = ?", [corpus.corpus_id])
    return corpus


def load_documents(store: Store, corpus: Corpus, with_metadata: bool = True) -> pd.DataFrame:
    """Documents in doc_id order: doc_id, text, n_tokens, n_chars, source, source_row, metadata."""
    meta_select = ""
    join = ""
    if with_metadata and corpus.metadata_columns:
        meta_select = ", " + ", ".join(f"m.{quote_identifier(n)}" for n in corpus.metadata_names)
        join = f" LEFT JOIN {metadata_table(corpus.corpus_id)} m USING (doc_id)"
    sql = (
        "SELECT d.doc_id, d.text, d.text_sha256, d.n_tokens, d.n_chars, d.source, d.source_row"
        f"{meta_select} FROM documents d{join} WHERE d.corpus_id = ? ORDER BY d.doc_id"
    )
    with store.connection() as cur:
        return cur.execute(sql, [corpus.corpus_id]).df()
