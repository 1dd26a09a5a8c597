"""Stored table-property runs: what a run is keyed by, and listing and reopening stored runs.

A run is keyed by the property, every parameter, the models and the tables' content hashes, so
the same run is found again after a restart (the page lists stored runs and reopens them without
the tables or the models). The stored result carries its own provenance: models with revisions,
tables with the rows and columns used, seed, K, and the one-line reading.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from analysis.core.errors import UserError
from analysis.core.store import Store, first_row
from analysis.models.encoders import expected_key
from analysis.tables.context import TablesRequest
from analysis.tables.data import Table
from analysis.tables.properties import PROPERTIES

KIND_PREFIX = "tables:"


def restrict_columns(tables: Sequence[Table], max_columns: int) -> tuple[list[Table], list[str]]:
    """Tables cut to their first ``max_columns`` columns, and a notice for each one cut."""
    kept, notices = [], []
    for table in tables:
        if len(table.columns) > max_columns:
            notices.append(
                f"{table.name}: using the first {max_columns} of {len(table.columns)} columns "
                "(raise the column limit or pick the columns to use others)."
            )
            table = table.with_columns(table.columns[:max_columns])
        kept.append(table)
    return kept, notices


def run_params(tables: Sequence[Table], request: TablesRequest) -> dict[str, Any]:
    """Everything the result depends on: the request, each model's weights (a local folder's
    hash; LSA is fitted on the tables themselves) and each table's content and annotations (an
    upload of a demo table's file has no declared FDs or semantic types, so its result differs)."""
    return {
        **request.params(),
        "model_keys": [expected_key(m) for m in request.models],
        "tables": [
            [
                t.name,
                t.sha,
                t.columns,
                {
                    "source": t.source,
                    "keys": list(t.key_columns),
                    "fds": [list(fd) for fd in t.declared_fds],
                    "subject": t.subject_column,
                    "types": t.semantic_types,
                },
            ]
            for t in tables
        ],
    }


def request_of(params: dict[str, Any]) -> TablesRequest:
    """The request a run was stored with; the settings its property does not read keep their
    defaults, so its ``params()`` are the stored ones."""
    names = {f.name for f in fields(TablesRequest)}
    return TablesRequest(
        **{
            name: tuple(value) if isinstance(value, list) else value
            for name, value in params.items()
            if name in names
        }
    )


@dataclass(frozen=True)
class RunSummary:
    """One stored table-property run, as the page lists it."""

    result_id: int
    property: str
    tables: list[str]
    models: list[str]
    created_at: str
    seconds: float

    def label(self) -> str:
        title = PROPERTIES[self.property].title if self.property in PROPERTIES else self.property
        return (
            f"#{self.result_id} {title} · {', '.join(self.tables)} · {', '.join(self.models)} "
            f"· {self.created_at[:16]}"
        )


def stored_runs(store: Store) -> list[RunSummary]:
    """Every stored table-property run, newest first."""
    rows = store.fetch_all(
        "SELECT result_id, kind, params, CAST(created_at AS VARCHAR), seconds "
        "FROM analysis_results WHERE starts_with(kind, ?) ORDER BY result_id DESC",
        [KIND_PREFIX],
    )
    summaries = []
    for result_id, kind, params, created_at, seconds in rows:
        decoded = json.loads(params)
        summaries.append(
            RunSummary(
                result_id=int(result_id),
                property=kind.removeprefix(KIND_PREFIX),
                tables=[t[0] for t in decoded["tables"]],
                models=list(decoded["models"]),
                created_at=created_at,
                seconds=float(seconds),
            )
        )
    return summaries


def stored_params(store: Store, result_id: int) -> dict[str, Any]:
    """The parameters stored table run #result_id was keyed by."""
    row = first_row(
        store.fetch_all(
            "SELECT params FROM analysis_results WHERE result_id = ? AND starts_with(kind, ?)",
            [result_id, KIND_PREFIX],
        )
    )
    if row is None:
        raise UserError(f"No stored table run #{result_id}.")
    return json.loads(row[0])
