"""Functional dependencies (observatory.md, property 4): are exact FDs X -> Y visible in the
distance between the cell embeddings of x and y?

Rows that share the (x, y) pair carry identical texts in both cells, so the distance
d = ||e(x) - e(y)|| varies across them only through context. The baseline must vary only
through context too: non-FD column pairs (no FD in either direction) are grouped the same way,
by their (a, b) value pair, and every FD group of s rows is matched with a seeded, randomly
drawn non-FD group cut to s rows. Random row groups would mix different values and make every
FD look reflected. Matching depends on the texts only, so every model sees the same groups.
A context-free encoder gives every group zero variance on both sides: that mode is flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from analysis.core.errors import UserError
from analysis.tables.context import PropertyContext, PropertyOutput
from analysis.tables.data import Table
from analysis.tables.encoding import CONTEXTUAL, TableEncoder
from analysis.tables.scores import NOT_MEANINGFUL, SKIPPED, ScoreGroup, unmeasured
from analysis.tables.serialise import CELL

PROPERTY = "functional-dependencies"
CONTEXT_FREE = "context-free"
CONDITION = "FD vs matched non-FD"
SHOWN_FDS = 12  # named in the reading; the page's table and the data list every one


def cell_mode(encoder: TableEncoder) -> str:
    """How cell embeddings are read: inside the contextual sequence, or each value alone (LSA)."""
    return CONTEXTUAL if encoder.contextual else CONTEXT_FREE


def key_columns(texts: pd.DataFrame) -> set[str]:
    """Columns whose present (non-empty) values are unique: they determine every column, which
    says nothing."""
    keys = set()
    for column in texts.columns:
        present = texts[column][texts[column] != ""]
        if len(present) >= 2 and present.is_unique:
            keys.add(str(column))
    return keys


def discover_fds(texts: pd.DataFrame) -> list[tuple[str, str]]:
    """Exact single-column FDs X -> Y, X not a key and Y not constant, in column order.

    Empty cells are missing values, not a value: rows where X or Y is empty say nothing about
    X -> Y (grouping them together would invent dependencies between gaps).
    """
    keys = key_columns(texts)
    present = texts.replace("", np.nan)
    constant = {str(c) for c in texts.columns if present[c].nunique() <= 1}
    found = []
    for x in texts.columns:
        if str(x) in keys:
            continue
        holds = present.groupby(x, sort=False).nunique().max() <= 1
        found.extend(
            (str(x), str(y))
            for y in texts.columns
            if y != x and str(y) not in constant and bool(holds[y])
        )
    return found


def non_fd_pairs(texts: pd.DataFrame, fds: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Column pairs with no FD in either direction, neither a key nor constant."""
    linked = {frozenset(fd) for fd in fds}
    usable = [str(c) for c in texts.columns if 1 < texts[c].nunique() < len(texts)]
    return [pair for pair in combinations(usable, 2) if frozenset(pair) not in linked]


def value_groups(texts: pd.DataFrame, a: str, b: str) -> list[np.ndarray]:
    """Row indices sharing one (a, b) value pair, for pairs seen at least twice; empty cells out."""
    positions = np.flatnonzero(((texts[a] != "") & (texts[b] != "")).to_numpy())
    keys = [texts[column].to_numpy()[positions] for column in (a, b)]
    grouped = pd.Series(positions).groupby(keys, sort=True)
    return [g.to_numpy() for _, g in grouped if len(g) >= 2]


@dataclass(frozen=True)
class Matched:
    """One FD group and its size-matched non-FD group (both of the same number of rows)."""

    fd_rows: np.ndarray
    pair: tuple[str, str]
    rows: np.ndarray
    subsampled: bool


def match_groups(
    fd_groups: Sequence[np.ndarray],
    candidates: Sequence[tuple[tuple[str, str], np.ndarray]],
    rng: np.random.Generator,
) -> list[Matched]:
    """For each FD group of s rows, a random non-FD group of at least s rows cut to s rows.

    When no non-FD group is that large, one of the largest is used and the FD group is cut to
    its size instead, so both sides always have exactly the same number of rows.
    """
    if not candidates:
        return []
    sizes = np.array([len(rows) for _, rows in candidates])
    matched = []
    for group in fd_groups:
        large = np.flatnonzero(sizes >= len(group))
        pool = large if large.size else np.flatnonzero(sizes == sizes.max())
        pair, rows = candidates[int(rng.choice(pool))]
        size = min(len(group), len(rows))
        fd_rows = group if size == len(group) else rng.choice(group, size, replace=False)
        matched.append(
            Matched(fd_rows, pair, rng.choice(rows, size, replace=False), size < len(group))
        )
    return matched


@dataclass(frozen=True)
class _Plan:
    """Everything about one table that depends on its texts only, shared by every model."""

    fds: list[tuple[str, str]]
    matches: dict[tuple[str, str], list[Matched]]
    non_fd: list[tuple[str, str]]


def _plan(table: Table, seed: int) -> _Plan:
    texts = table.texts
    fds = discover_fds(texts)
    non_fd = non_fd_pairs(texts, fds)
    candidates = [(pair, rows) for pair in non_fd for rows in value_groups(texts, *pair)]
    rng = np.random.default_rng(seed)
    matches = {fd: match_groups(value_groups(texts, *fd), candidates, rng) for fd in fds}
    return _Plan(fds=fds, matches=matches, non_fd=non_fd)


def fd_listing(table: Table, fds: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Discovered FDs with whether they were declared, and what became of each declared one."""
    found = set(fds)
    keys = key_columns(table.texts)

    def fate(fd: tuple[str, str]) -> str:
        if fd in found:
            return "discovered"
        if fd[0] in keys:
            return "trivial: determinant is a key"
        return "does not hold"

    return {
        "discovered": [
            {"determinant": x, "dependent": y, "declared": (x, y) in table.declared_fds}
            for x, y in fds
        ],
        "declared": [
            {"determinant": x, "dependent": y, "status": fate((x, y))}
            for x, y in table.declared_fds
        ],
        "keys": sorted(keys),
    }


def _item(table: Table, fd: tuple[str, str], cells: np.ndarray, matches: list[Matched]) -> dict:
    columns = table.columns

    def distances(a: str, b: str) -> np.ndarray:
        return np.linalg.norm(cells[:, columns.index(a)] - cells[:, columns.index(b)], axis=1)

    item: dict[str, Any] = {
        "item": f"{fd[0]} -> {fd[1]}",
        "determinant": fd[0],
        "dependent": fd[1],
        "declared": fd in table.declared_fds,
        "groups": len(matches),
        "subsampled": sum(m.subsampled for m in matches),
        "fd_variance": None,
        "non_fd_variance": None,
        "ratio": None,
        "reflected": None,
    }
    if not matches:
        return item
    fd_distances = distances(*fd)
    fd_variance = float(np.mean([np.var(fd_distances[m.fd_rows]) for m in matches]))
    by_pair = {pair: distances(*pair) for pair in {m.pair for m in matches}}
    non_fd_variance = float(np.mean([np.var(by_pair[m.pair][m.rows]) for m in matches]))
    item.update(
        fd_variance=fd_variance,
        non_fd_variance=non_fd_variance,
        ratio=fd_variance / non_fd_variance if non_fd_variance > 0 else None,
        reflected=fd_variance < non_fd_variance,
    )
    return item


def _measure(encoder: TableEncoder, table: Table, plan: _Plan) -> ScoreGroup:
    mode = cell_mode(encoder)

    def unmeasurable(status: str, note: str) -> ScoreGroup:
        return unmeasured(PROPERTY, encoder.name, table.name, CELL, mode, status, note, CONDITION)

    if not plan.fds:
        return unmeasurable(
            SKIPPED, "no exact single-column FD holds; keys and constant columns are ignored"
        )
    if not encoder.contextual:
        return unmeasurable(
            NOT_MEANINGFUL,
            "each value is embedded alone, so every within-group variance is trivially 0",
        )
    if not any(plan.matches.values()):
        return unmeasurable(
            SKIPPED, "no non-FD column pair repeats a value pair, so there is no baseline"
        )
    try:
        cells = encoder.cell_vectors(table.texts)[0]
    except UserError as exc:  # a row too long for one contextual sequence
        return unmeasurable(SKIPPED, str(exc))
    items = [_item(table, fd, cells, plan.matches[fd]) for fd in plan.fds]
    measured = [i for i in items if i["fd_variance"] is not None]
    return ScoreGroup(
        property=PROPERTY,
        model=encoder.name,
        table=table.name,
        granularity=CELL,
        mode=mode,
        condition=CONDITION,
        rows_used=table.n_rows,
        items=items,
        extra={
            "fd_variance": _mean_of(measured, "fd_variance"),
            "non_fd_variance": _mean_of(measured, "non_fd_variance"),
            "reflected": sum(bool(i["reflected"]) for i in measured),
            "measured": len(measured),
            "non_fd_pairs": len(plan.non_fd),
        },
    )


def _mean_of(items: Sequence[dict[str, Any]], key: str) -> float | None:
    return float(np.mean([i[key] for i in items])) if items else None


def run_functional_dependencies(ctx: PropertyContext) -> PropertyOutput:
    """One group per (model, table): per discovered FD, its variance against the baseline's."""
    plans = {table.name: _plan(table, ctx.request.seed) for table in ctx.tables}
    groups = [_measure(encoder, table, plans[table.name]) for encoder, table in ctx.units()]
    return PropertyOutput(
        groups=groups,
        extra={
            "fds": {t.name: fd_listing(t, plans[t.name].fds) for t in ctx.tables},
        },
    )


def discovered_text(listings: dict[str, dict[str, Any]], shown: int = SHOWN_FDS) -> str:
    """'2 exact FD(s) discovered in 1 table(s): countries: country -> capital, ...': the
    dependencies themselves, not only how many (the first ``shown``; the table lists all)."""
    named = [
        f"{table}: {fd['determinant']} -> {fd['dependent']}"
        for table, listing in listings.items()
        for fd in listing["discovered"]
    ]
    head = f"{len(named)} exact FD(s) discovered in {len(listings)} table(s)"
    if not named:
        return head
    more = f" and {len(named) - shown} more" if len(named) > shown else ""
    return f"{head} ({', '.join(named[:shown])}{more})"


def discovered_frame(result: dict[str, Any]) -> pd.DataFrame:
    """Every discovered FD, per table, with whether the table's documentation declares it."""
    rows = [
        {"table": table, **fd}
        for table, listing in result["extra"]["fds"].items()
        for fd in listing["discovered"]
    ]
    return pd.DataFrame(rows, columns=["table", "determinant", "dependent", "declared"])


def reading_functional_dependencies(groups: Sequence[ScoreGroup], extra: dict[str, Any]) -> str:
    """One sentence per model: how many FDs beat their matched baseline, and by how much."""
    by_model: dict[str, list[ScoreGroup]] = {}
    for group in groups:
        by_model.setdefault(group.model, []).append(group)
    parts = [discovered_text(extra["fds"])]
    for model, own in by_model.items():
        measured = [g for g in own if g.extra.get("measured")]
        if not measured:
            reasons = {g.note for g in own if g.note}
            parts.append(f"{model}: not measured ({'; '.join(sorted(reasons))})")
            continue
        items = [i for g in measured for i in g.items if i["fd_variance"] is not None]
        reflected = sum(bool(i["reflected"]) for i in items)
        parts.append(
            f"{model}: {reflected} of {len(items)} FD(s) have a lower within-group variance of "
            f"||e(x) − e(y)|| than matched non-FD pairs (mean over FDs "
            f"{_mean_of(items, 'fd_variance'):.4g} vs {_mean_of(items, 'non_fd_variance'):.4g})"
        )
    return "; ".join(parts) + "."
