"""Stored results of the diagnostics, found again by the exact parameters that produced them.

Every analysis page reopens instantly after a restart because its result, keyed by canonical JSON
of every parameter (model, layer, pooling, seeds, sample sizes ...), is looked up before anything
is computed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from analysis.core.store import Store, first_row


def params_key(params: dict[str, Any]) -> str:
    """Canonical JSON: equal parameters give equal keys whatever their order."""
    return json.dumps(params, sort_keys=True, default=str)


@dataclass(frozen=True)
class StoredResult:
    result_id: int
    result: dict[str, Any]
    seconds: float
    created_at: str
    reused: bool


def find_result(
    store: Store, kind: str, params: dict[str, Any], corpus_id: int | None = None
) -> StoredResult | None:
    row = first_row(
        store.fetch_all(
            "SELECT result_id, result, seconds, CAST(created_at AS VARCHAR) FROM analysis_results "
            "WHERE kind = ? AND params = ? AND corpus_id IS NOT DISTINCT FROM ? "
            "ORDER BY result_id DESC LIMIT 1",
            [kind, params_key(params), corpus_id],
        )
    )
    if row is None:
        return None
    return StoredResult(int(row[0]), json.loads(row[1]), float(row[2]), row[3], reused=True)


def save_result(
    store: Store,
    kind: str,
    params: dict[str, Any],
    result: dict[str, Any],
    seconds: float,
    corpus_id: int | None = None,
) -> StoredResult:
    with store.transaction() as cur:
        row = cur.execute(
            "INSERT INTO analysis_results (corpus_id, kind, params, result, seconds) "
            "VALUES (?, ?, ?, ?, ?) RETURNING result_id, CAST(created_at AS VARCHAR)",
            [corpus_id, kind, params_key(params), json.dumps(result, default=float), seconds],
        ).fetchall()[0]
    return StoredResult(int(row[0]), result, seconds, row[1], reused=False)


def cached_result(
    store: Store,
    kind: str,
    params: dict[str, Any],
    compute: Callable[[], dict[str, Any]],
    corpus_id: int | None = None,
) -> StoredResult:
    """The stored result for these parameters, or compute, store and return it."""
    found = find_result(store, kind, params, corpus_id)
    if found is not None:
        return found
    start = time.perf_counter()
    result = compute()
    return save_result(store, kind, params, result, time.perf_counter() - start, corpus_id)
