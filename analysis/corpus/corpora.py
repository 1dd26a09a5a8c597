"""Corpora: turning parsed files into a stored corpus, and finding, reading and deleting them.

Writing a new corpus is ``building.build_corpus`` (batch by batch, in one transaction); the
column choices and row cleaning it applies to each batch live here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.core.analysis import Scope
from analysis.core.errors import UserError
from analysis.core.store import Store, first_row, quote_identifier
from analysis.corpus.columns import detect_text_column

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


def pick_text_column(frame: pd.DataFrame, requested: str | None, sources: str) -> str:
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


def texts_of(frame: pd.DataFrame, column: str) -> pd.Series:
    """The text column as strings, missing values as empty texts."""
    values = frame[column]
    return values.map(
        lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
    )


def metadata_columns(
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


def duckdb_type(series: pd.Series) -> str:
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


def metadata_arrow(metadata: pd.DataFrame, types: dict[str, str], doc_ids: np.ndarray) -> pa.Table:
    """Metadata rows with their doc_ids, as the types chosen for the corpus's table."""
    columns = {"doc_id": pa.array(doc_ids, type=pa.int32())}
    for name, sql_type in types.items():
        values = metadata[name]
        if sql_type == "VARCHAR":
            values = values.map(lambda v: None if v is None or v is pd.NA or v != v else str(v))
            columns[name] = pa.array(values.tolist(), type=pa.string())
        else:
            columns[name] = pa.Array.from_pandas(values)
    return pa.table(columns)


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
