"""Uploaded tables kept in the store, so a run on them can be reopened or redone after a restart.

Tables are stored whole (typed, as Parquet) in one transaction; saving a table under a name that
is taken by different content is refused rather than silently replacing what earlier runs saw.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import pandas as pd

from analysis.core.errors import UserError
from analysis.core.store import Store, first_row
from analysis.tables.data import Table, demo_tables


@dataclass(frozen=True)
class StoredTableInfo:
    name: str
    source: str
    sha: str
    n_rows: int
    n_cols: int
    created_at: str


def save_table(store: Store, table: Table) -> bool:
    """Store an uploaded table; False when the same content is stored under that name already."""
    if table.name in {t.name for t in demo_tables()}:
        raise UserError(
            f"'{table.name}' is the name of a demo table; rename the file (e.g. "
            f"'my_{table.name}') and upload it again."
        )
    existing = first_row(
        store.fetch_all("SELECT sha FROM stored_tables WHERE name = ?", [table.name])
    )
    if existing is not None:
        if existing[0] == table.sha:
            return False
        raise UserError(
            f"A different table named '{table.name}' is stored already; rename the file, or "
            "delete the stored one first (Tables page, 'Uploaded tables')."
        )
    buffer = io.BytesIO()
    table.frame.to_parquet(buffer, index=False)
    with store.transaction() as cur:
        cur.execute(
            "INSERT INTO stored_tables (name, source, sha, n_rows, n_cols, notices, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                table.name,
                table.source,
                table.sha,
                table.n_rows,
                len(table.columns),
                json.dumps(list(table.notices)),
                buffer.getvalue(),
            ],
        )
    return True


def stored_tables(store: Store) -> list[StoredTableInfo]:
    rows = store.fetch_all(
        "SELECT name, source, sha, n_rows, n_cols, CAST(created_at AS VARCHAR) "
        "FROM stored_tables ORDER BY name"
    )
    return [StoredTableInfo(*row) for row in rows]


def load_stored_table(store: Store, name: str) -> Table:
    row = first_row(
        store.fetch_all("SELECT source, notices, data FROM stored_tables WHERE name = ?", [name])
    )
    if row is None:
        raise UserError(f"No stored table named '{name}'.")
    frame = pd.read_parquet(io.BytesIO(row[2]))
    return Table(name=name, frame=frame, source=row[0], notices=tuple(json.loads(row[1])))


def delete_stored_table(store: Store, name: str) -> None:
    with store.transaction() as cur:
        cur.execute("DELETE FROM stored_tables WHERE name = ?", [name])


_DECODED: dict[tuple[str, str, str], Table] = {}  # (store path, name, sha) -> decoded table


def available_tables(store: Store) -> dict[str, Table]:
    """Every table a run can use, by name: the demo tables first, then the stored uploads.

    The page asks on every rerun; a stored table is decoded once per process (keyed by its
    content hash, so a replaced table is read again).
    """
    tables = {t.name: t for t in demo_tables()}
    for info in stored_tables(store):
        key = (str(store.path), info.name, info.sha)
        if key not in _DECODED:
            _DECODED[key] = load_stored_table(store, info.name)
        tables[info.name] = _DECODED[key]
    return tables
