"""``python -m analysis tables PROPERTY TABLE...``: Observatory-style table properties as JSON.

TABLE is a file (CSV, TSV, Parquet, JSON Lines), a bundled demo table (countries, cities, ...)
or a table uploaded to the Tables page. Results are stored and shared with the page: a run made
there is reused here and the other way round. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from analysis.cli.common import StderrProgress, open_args_store
from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.tables.context import (
    DEFAULT_ENTITY_K,
    DEFAULT_RATIOS,
    DEFAULT_SAMPLES,
    TablesRequest,
)
from analysis.tables.data import MAX_COLUMNS_DEFAULT, Table, read_table_path
from analysis.tables.encoding import DEFAULT_MAX_LENGTH, THOROUGH_MAX_LENGTH
from analysis.tables.permutations import DEFAULT_PERMUTATIONS
from analysis.tables.properties import ALL, PROPERTIES, property_ids
from analysis.tables.runs import restrict_columns
from analysis.tables.store import available_tables


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "tables",
        parents=[common],
        help="table-embedding properties (after Observatory, PVLDB 2024)",
        description="Observatory-style properties of table embeddings: cosine to the original "
        "and MCV (with K) per item, per table and per model.",
    )
    p.add_argument("property", choices=[*PROPERTIES, ALL], help="the property to check, or all")
    p.add_argument(
        "tables", nargs="+", help="table files (.csv .tsv .parquet .jsonl) or demo table names"
    )
    p.add_argument(
        "--model",
        action="append",
        dest="models",
        help="default, lsa, random or a local sentence-transformers folder (repeatable)",
    )
    p.add_argument("--permutations", type=int, default=DEFAULT_PERMUTATIONS, help="K per item")
    p.add_argument(
        "--ratios", type=float, nargs="+", default=list(DEFAULT_RATIOS), help="sample ratios"
    )
    p.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, help="samples per ratio")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--thorough",
        action="store_true",
        help=f"column text up to {THOROUGH_MAX_LENGTH} tokens instead of {DEFAULT_MAX_LENGTH}",
    )
    p.add_argument(
        "--no-contextual",
        action="store_true",
        help="skip Observatory's one-sequence contextual column embeddings",
    )
    p.add_argument("--entity-k", type=int, default=DEFAULT_ENTITY_K, help="neighbours K")
    p.add_argument(
        "--max-columns", type=int, default=MAX_COLUMNS_DEFAULT, help="first N columns per table"
    )
    p.set_defaults(handler=_tables)


def resolve_tables(store: Store, refs: list[str]) -> list[Table]:
    """Files by path; anything else by name among the demo and stored tables."""
    known = available_tables(store)
    tables = []
    for ref in refs:
        if Path(ref).exists():
            tables.append(read_table_path(ref))
        elif ref in known:
            tables.append(known[ref])
        else:
            raise UserError(
                f"'{ref}' is neither a table file nor a known table; the known tables are "
                f"{', '.join(known)}."
            )
    return tables


def _finite(value: Any) -> Any:
    """NaN is not JSON: undefined numbers are printed as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _tables(args: argparse.Namespace) -> dict[str, Any]:
    # Imported here: a run pulls in the figure stack, which --help never needs.
    from analysis.tables.property_run import TablePropertyRun

    store = open_args_store(args)
    requests = [
        TablesRequest(
            property=prop,
            models=tuple(args.models or ["default"]),
            permutations=args.permutations,
            ratios=tuple(args.ratios),
            samples=args.samples,
            seed=args.seed,
            max_length=THOROUGH_MAX_LENGTH if args.thorough else DEFAULT_MAX_LENGTH,
            contextual=not args.no_contextual,
            entity_k=args.entity_k,
            max_columns=args.max_columns,
        )
        for prop in property_ids(args.property)
    ]
    resolved = resolve_tables(store, args.tables)
    read_notices = [f"{t.name}: {notice}" for t in resolved for notice in t.notices]
    tables, notices = restrict_columns(resolved, args.max_columns)
    notices = read_notices + notices
    start = time.perf_counter()
    runs, params = [], {}
    for request in requests:
        progress = StderrProgress(f"tables {request.property}")
        run = TablePropertyRun(store, tables, request)
        stored = run.run(progress)
        body = stored.result
        params |= request.params()
        runs.append(
            {
                "property": body["property"],
                "reading": run.reading(stored),
                "result_id": stored.result_id,
                "reused": stored.reused,
                "seconds": round(stored.seconds, 3),
                "models": body["models"],
                "tables": body["tables"],
                "results": body["groups"],
                **body["extra"],
            }
        )
    return _finite(
        {
            "property": args.property,
            "params": params | {"property": args.property},
            "notices": notices,
            "runs": runs,
            "seconds": round(time.perf_counter() - start, 3),
        }
    )
