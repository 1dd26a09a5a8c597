"""Running a table property on chosen tables and models, with the result stored in DuckDB.

A run is keyed by the property, every parameter, the models and the tables' content hashes, so
the same run is found again after a restart (the page lists stored runs and reopens them without
the tables or the models). The stored result carries its own provenance: models with revisions,
tables with the rows and columns used, seed, K, and the one-line reading.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.results import StoredResult, cached_result, find_result
from analysis.core.store import Store, first_row
from analysis.models.encoders import expected_key
from analysis.tables.context import PropertyContext, TablesRequest
from analysis.tables.data import Table, unique_names
from analysis.tables.encoding import load_table_encoders, lsa_fit_texts
from analysis.tables.properties import CITATION, PROPERTIES

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


def find_run(store: Store, tables: Sequence[Table], request: TablesRequest) -> StoredResult | None:
    return find_result(store, KIND_PREFIX + request.property, run_params(tables, request))


def run_property(
    store: Store,
    tables: Sequence[Table],
    request: TablesRequest,
    progress: ProgressFn | None = None,
) -> StoredResult:
    """The stored result of this run, or compute it (every model and table) and store it."""
    if request.property not in PROPERTIES:
        raise UserError(
            f"Unknown table property '{request.property}'; choose one of {', '.join(PROPERTIES)}."
        )
    if not tables:
        raise UserError("Choose at least one table.")
    unique_names(tables)
    return cached_result(
        store,
        KIND_PREFIX + request.property,
        run_params(tables, request),
        lambda: compute(store, tables, request, progress),
    )


def run_properties(
    store: Store,
    tables: Sequence[Table],
    request: TablesRequest,
    properties: Sequence[str],
    progress: ProgressFn | None = None,
) -> list[StoredResult]:
    """Several properties one after another, progress spread evenly over them."""
    results = []
    for index, prop in enumerate(properties):

        def step(done: int, total: int, index: int = index) -> None:
            if progress is not None:
                progress(index * total + done, len(properties) * total)

        results.append(run_property(store, tables, replace(request, property=prop), step))
    return results


def compute(
    store: Store,
    tables: Sequence[Table],
    request: TablesRequest,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    prop = PROPERTIES[request.property]
    encoders = load_table_encoders(
        store,
        request.models,
        lsa_fit_texts([t.texts for t in tables]) if "lsa" in request.models else [],
        request.max_length,
    )
    output = prop.run(PropertyContext(tables, encoders, request, progress))
    return {
        "property": prop.id,
        "title": prop.title,
        "question": prop.question,
        "citation": CITATION,
        "params": request.params(),
        "models": [e.describe() for e in encoders],
        "tables": [
            {
                "name": t.name,
                "sha": t.sha,
                "source": t.source,
                "rows": t.n_rows,
                "columns": t.columns,
            }
            for t in tables
        ],
        "groups": [g.to_json() for g in output.groups],
        "extra": output.extra,
        "reading": prop.reading(output.groups, output.extra),
    }


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
    rows = (
        store.cursor()
        .execute(
            "SELECT result_id, kind, params, CAST(created_at AS VARCHAR), seconds "
            "FROM analysis_results WHERE starts_with(kind, ?) ORDER BY result_id DESC",
            [KIND_PREFIX],
        )
        .fetchall()
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


def load_run(store: Store, result_id: int) -> StoredResult:
    row = first_row(
        store.cursor()
        .execute(
            "SELECT result, seconds, CAST(created_at AS VARCHAR) FROM analysis_results "
            "WHERE result_id = ? AND starts_with(kind, ?)",
            [result_id, KIND_PREFIX],
        )
        .fetchall()
    )
    if row is None:
        raise UserError(f"No stored table run #{result_id}.")
    return StoredResult(result_id, json.loads(row[0]), float(row[1]), row[2], reused=True)
