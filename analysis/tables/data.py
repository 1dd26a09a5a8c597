"""Relational tables as the Tables page sees them: cells as text, plus what we know about them.

Headers carry meaning for a table encoder, so a table whose headers had to be invented or
renamed (empty or duplicate names) is refused with the columns named, instead of being embedded
under names the user never wrote. Every cell is turned into text exactly once, here, so that
serialisation, FD discovery and join overlaps all agree on what a value is.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core.config import DEMO_DIR, Limits
from analysis.core.errors import UserError
from analysis.corpus.readers import ParsedTable, read_bytes, read_path

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".jsonl", ".ndjson", ".json")
MAX_COLUMNS_DEFAULT = 12  # observatory.md: up to 12 columns on a 2-core CPU (the user may pick)


def cell_text(value: object) -> str:
    """One canonical text per value: no 'nan', no '12.0' for an integer-valued float."""
    if value is None or value is pd.NA or value is pd.NaT:  # nullable dtypes' missing values
        return ""
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        if float(value).is_integer() and abs(value) < 1e15:
            return str(int(value))
    return " ".join(str(value).split())


@dataclass(frozen=True)
class Table:
    """A table to embed: typed values (for format perturbations) and their canonical texts."""

    name: str
    frame: pd.DataFrame
    source: str
    key_columns: tuple[str, ...] = ()
    declared_fds: tuple[tuple[str, str], ...] = ()
    subject_column: str | None = None
    semantic_types: dict[str, str] = field(default_factory=dict)
    notices: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    @property
    def texts(self) -> pd.DataFrame:
        """Every cell as its canonical text (computed once per table object)."""
        cached = self.__dict__.get("_texts")
        if cached is None:
            cached = self.frame.map(cell_text).astype(str)
            object.__setattr__(self, "_texts", cached)
        return cached

    @property
    def sha(self) -> str:
        """Content hash: name-independent, so a re-upload of the same table reuses results."""
        cached = self.__dict__.get("_sha")
        if cached is None:
            digest = hashlib.sha256(json.dumps(self.columns).encode())
            for row in self.texts.itertuples(index=False):
                digest.update(json.dumps(list(row)).encode())
            cached = digest.hexdigest()[:16]
            object.__setattr__(self, "_sha", cached)
        return cached

    def subject(self) -> str:
        """Declared subject column, else the first mostly-unique text column, else the first."""
        if self.subject_column in self.columns:
            return str(self.subject_column)
        texts = self.texts
        for name in self.columns:
            values = texts[name]
            numeric = pd.to_numeric(values, errors="coerce").notna().mean() > 0.5
            if not numeric and values.nunique() >= 0.8 * len(values):
                return name
        return self.columns[0]

    def with_columns(self, columns: Sequence[str]) -> Table:
        """The same table restricted to (and ordered as) the given columns."""
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise UserError(
                f"Table '{self.name}' has no column(s) {', '.join(map(repr, missing))}; "
                f"its columns are {', '.join(self.columns)}."
            )
        kept = set(columns)
        return Table(
            name=self.name,
            frame=self.frame[list(columns)].copy(),
            source=self.source,
            key_columns=tuple(c for c in self.key_columns if c in kept),
            declared_fds=tuple(fd for fd in self.declared_fds if set(fd) <= kept),
            subject_column=self.subject_column if self.subject_column in kept else None,
            semantic_types={k: v for k, v in self.semantic_types.items() if k in kept},
            notices=self.notices,
        )


def validate_frame(frame: pd.DataFrame, name: str, raw_headers: Sequence[str] | None) -> None:
    """Refuse tables the properties cannot say anything sensible about, saying what to fix."""
    headers = list(raw_headers) if raw_headers is not None else [str(c) for c in frame.columns]
    empty = [i + 1 for i, h in enumerate(headers) if not str(h).strip()]
    if empty:
        shown = ", ".join(map(str, empty))
        raise UserError(
            f"Table '{name}' has an empty header in column(s) {shown}; table embeddings read "
            "the headers, so give every column a name and upload it again."
        )
    seen: dict[str, int] = {}
    for position, header in enumerate(headers, start=1):
        text = str(header).strip()
        key = text.casefold()
        if key in seen:
            raise UserError(
                f"Table '{name}' has the header '{text}' twice (columns {seen[key]} and "
                f"{position}); rename one of them and upload it again."
            )
        seen[key] = position
    if frame.shape[0] == 0:
        raise UserError(f"Table '{name}' has no rows; add data rows below the header.")
    if frame.shape[1] < 2:
        raise UserError(
            f"Table '{name}' has only one column; the table properties compare columns, rows "
            "and values across columns, so a table needs at least two columns."
        )
    if frame.shape[0] < 2:
        raise UserError(
            f"Table '{name}' has only one row; the table properties permute, sample and group "
            "rows, so a table needs at least two rows."
        )


def table_headers(raw_headers: Sequence[str]) -> list[str]:
    """Headers as written, with only control characters and repeated spaces removed.

    The reader makes headers safe SQL-style identifiers for corpora; a table encoder reads the
    header text itself, so the Tables page embeds what the user wrote (figures escape it).
    """
    cleaned = []
    for header in raw_headers:
        kept = "".join(ch for ch in str(header) if unicodedata.category(ch) not in ("Cc", "Cf"))
        cleaned.append(" ".join(kept.split()))
    return cleaned


def table_from_parsed(parsed: ParsedTable, name: str | None = None) -> Table:
    """A validated Table from an uploaded or read file, under the headers as written."""
    table_name = name or Path(parsed.source).stem
    if parsed.vectors is not None:
        raise UserError(
            f"{parsed.source} carries a vector column; the Tables page embeds cell values "
            "itself, so upload the table without vectors."
        )
    headers = table_headers(parsed.raw_headers or [str(c) for c in parsed.frame.columns])
    validate_frame(parsed.frame, table_name, headers)
    frame = parsed.frame.copy()
    frame.columns = headers
    notices = [n for n in parsed.notices if "header" not in n]  # headers are kept as written
    return Table(name=table_name, frame=frame, source=parsed.source, notices=tuple(notices))


def read_table_bytes(data: bytes, filename: str, limits: Limits | None = None) -> Table:
    _check_suffix(filename)
    return table_from_parsed(read_bytes(data, filename, limits or Limits.from_env()))


def read_table_path(path: str | Path, limits: Limits | None = None) -> Table:
    path = Path(path)
    _check_suffix(path.name)
    return table_from_parsed(read_path(path, limits or Limits.from_env()))


def _check_suffix(filename: str) -> None:
    if not filename.lower().endswith(TABLE_SUFFIXES):
        raise UserError(
            f"{filename}: tables are read from {', '.join(TABLE_SUFFIXES)} files; "
            "save the table in one of those formats."
        )


@lru_cache(maxsize=1)
def demo_tables() -> tuple[Table, ...]:
    """The bundled relational tables with their documented keys, FDs and semantic types."""
    entries = json.loads((DEMO_DIR / "manifest.json").read_text(encoding="utf-8"))
    tables = []
    for entry in entries:
        if entry["kind"] != "table":
            continue
        parsed = read_path(DEMO_DIR / entry["file"], Limits())
        tables.append(
            Table(
                name=entry["name"],
                frame=parsed.frame,
                source=f"demo: {entry['file']}",
                key_columns=tuple(entry.get("key_columns", ())),
                declared_fds=tuple(tuple(fd) for fd in entry.get("functional_dependencies", ())),
                subject_column=entry.get("subject_column"),
                semantic_types=dict(entry.get("semantic_types", {})),
            )
        )
    return tuple(tables)


def unique_names(tables: Sequence[Table]) -> None:
    """Two tables with one name would make every result ambiguous: say so up front."""
    seen: set[str] = set()
    for table in tables:
        if table.name in seen:
            raise UserError(
                f"Two tables are named '{table.name}'; rename one of the files and add it again."
            )
        seen.add(table.name)
