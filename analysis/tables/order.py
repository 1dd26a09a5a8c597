"""Row and column order insignificance (observatory.md, properties 1 and 2).

A table is cut to the rows that fit *before* it is permuted, so a variant differs from the
original in order only, never in content. All per-item texts of one (model, table) reach the model
in one encode call (the cache drops repeats such as unchanged columns) and all contextual sequences
in one batch. Permuted items are put back in the original item order before any comparison, so
item i is always compared with item i.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.tables.context import (
    MIN_ROWS_FOR_ROW_ORDER,
    PropertyContext,
    PropertyOutput,
    TablesRequest,
)
from analysis.tables.data import Table
from analysis.tables.encoding import CONTEXTUAL, PER_ITEM, TableEncoder
from analysis.tables.permutations import expected_count, inverse, permutations
from analysis.tables.readings import models_of, scores_text, skipped_text, summarise
from analysis.tables.scores import INVARIANT, SKIPPED, ScoreGroup, unmeasured
from analysis.tables.serialise import COLUMN, ROW, TABLE
from analysis.tables.variants import (
    VariantSet,
    contextual_skip,
    embed_variants,
    fit_for,
    item_names,
    measured_group,
)

ROW_ORDER = "row-order"
COLUMN_ORDER = "column-order"

# Row items are embedded once per variant; on 2 cores 200 rows x (K + 1) take ~15 s, so row
# embeddings are measured on the leading rows only (their mean is an estimate over rows).
MAX_ROW_ITEMS = 64
# (granularity, mode) of every order group, in the order results list them.
_LAYOUT = ((COLUMN, PER_ITEM), (COLUMN, CONTEXTUAL), (ROW, PER_ITEM), (TABLE, PER_ITEM))
# Which property permutes the items of a granularity (and so must re-align them).
_PERMUTES_ITEMS = {ROW: ROW_ORDER, COLUMN: COLUMN_ORDER}
_INVARIANT_NOTES = {
    ROW_ORDER: "each row is embedded on its own, so the order of the other rows cannot reach it",
    COLUMN_ORDER: (
        "each column is embedded on its own, so the order of the other columns cannot reach it"
    ),
}


# --- the two order properties ----------------------------------------------------------------


@dataclass(frozen=True)
class _Pending:
    """A measurable group waiting for its embeddings."""

    variants: VariantSet
    orders: list[tuple[int, ...]]
    rows_used: int
    note: str


def _plan(
    prop: str,
    encoder: TableEncoder,
    table: Table,
    request: TablesRequest,
    granularity: str,
    mode: str,
) -> ScoreGroup | _Pending:
    by_rows = prop == ROW_ORDER

    def not_measured(status: str, note: str) -> ScoreGroup:
        return unmeasured(prop, encoder.name, table.name, granularity, mode, status, note)

    if by_rows and table.n_rows < MIN_ROWS_FOR_ROW_ORDER:
        return not_measured(
            SKIPPED,
            f"{table.n_rows} rows; row order needs at least {MIN_ROWS_FOR_ROW_ORDER} rows",
        )
    skip = contextual_skip(encoder, request) if mode == CONTEXTUAL else None
    if skip is not None:
        return not_measured(SKIPPED, skip)
    if mode == PER_ITEM and _PERMUTES_ITEMS.get(granularity) == prop:
        return not_measured(INVARIANT, _INVARIANT_NOTES[prop])
    fitted = fit_for(encoder, granularity, mode, table.texts)
    if fitted.skipped is not None:
        return not_measured(SKIPPED, fitted.skipped)
    rows, note = fitted.rows, ""
    if granularity == ROW and rows > MAX_ROW_ITEMS:
        rows, note = MAX_ROW_ITEMS, f"row embeddings of the first {MAX_ROW_ITEMS} rows"
    if by_rows and rows < MIN_ROWS_FOR_ROW_ORDER:
        return not_measured(
            SKIPPED,
            f"only {rows} of {table.n_rows} rows fit as {granularity} text in {mode} "
            f"mode; row order needs at least {MIN_ROWS_FOR_ROW_ORDER}",
        )
    kept = table.texts.iloc[:rows]
    n = rows if by_rows else kept.shape[1]
    orders = permutations(n, request.permutations, request.seed)
    assert len(orders) - 1 == expected_count(n, request.permutations), "variants were dropped"
    frames = [kept.iloc[list(p)] if by_rows else kept.iloc[:, list(p)] for p in orders]
    return _Pending(VariantSet(granularity, mode, frames), orders, rows, note)


def _scored(
    prop: str,
    encoder: TableEncoder,
    table: Table,
    request: TablesRequest,
    pending: _Pending,
    vectors: list[np.ndarray],
) -> ScoreGroup:
    variant_set = pending.variants
    realign = _PERMUTES_ITEMS.get(variant_set.granularity) == prop
    original, *rest = vectors
    variants = [
        v[inverse(p)] if realign else v for v, p in zip(rest, pending.orders[1:], strict=True)
    ]
    what = "rows" if prop == ROW_ORDER else "columns"
    n = len(pending.orders[0])
    notes = [pending.note] if pending.note else []
    if len(variants) < request.permutations:
        notes.append(f"all {len(variants)} non-identity orders of {n} {what}")
    return measured_group(
        prop,
        encoder,
        table,
        variant_set.granularity,
        variant_set.mode,
        original,
        variants,
        names=item_names(variant_set.granularity, variant_set.frames[0]),
        rows_used=pending.rows_used,
        note="; ".join(notes),
        extra={"total_rows": table.n_rows, "requested_permutations": request.permutations},
    )


def _order_unit(
    prop: str, encoder: TableEncoder, table: Table, request: TablesRequest
) -> list[ScoreGroup]:
    slots = [_plan(prop, encoder, table, request, g, m) for g, m in _LAYOUT]
    pending = [s for s in slots if isinstance(s, _Pending)]
    embedded = iter(embed_variants(encoder, [p.variants for p in pending]))
    return [
        s
        if isinstance(s, ScoreGroup)
        else _scored(prop, encoder, table, request, s, next(embedded))
        for s in slots
    ]


def _run(ctx: PropertyContext, prop: str) -> PropertyOutput:
    groups: list[ScoreGroup] = []
    for encoder, table in ctx.units():
        groups.extend(_order_unit(prop, encoder, table, ctx.request))
    return PropertyOutput(groups=groups)


def run_row_order(ctx: PropertyContext) -> PropertyOutput:
    """Column, contextual column and table embeddings under K row permutations."""
    return _run(ctx, ROW_ORDER)


def run_column_order(ctx: PropertyContext) -> PropertyOutput:
    """Contextual column, row and table embeddings under K column permutations."""
    return _run(ctx, COLUMN_ORDER)


def _order_reading(
    groups: Sequence[ScoreGroup],
    subject: str,
    primary: tuple[str, str, str],
    others: Sequence[tuple[str, str, str]],
    invariant: str,
) -> str:
    sentences = []
    for model in models_of(groups):
        main = summarise(groups, primary[0], primary[1]).get(model)
        if main is None:
            sentences.append(f"{subject} was not measured for {model} {primary[2]}.")
            continue
        verb = "barely moves" if main.cosine >= 0.98 else "moves"
        if main.cosine < 0.9:
            verb = "clearly changes"
        rest = [
            f"{label} {found.cosine:.3f}"
            for granularity, mode, label in others
            if (found := summarise(groups, granularity, mode).get(model)) is not None
        ]
        tail = f"; {', '.join(rest)}" if rest else ""
        sentences.append(
            f"{subject} {verb} {model} {primary[2]} ({scores_text(main)}){tail}; "
            f"{invariant} are invariant by design."
        )
    return " ".join(sentences) + skipped_text(groups)


def reading_row_order(groups: list[ScoreGroup], extra: dict[str, Any]) -> str:
    return _order_reading(
        groups,
        "Row order",
        (COLUMN, PER_ITEM, "column embeddings"),
        [
            (COLUMN, CONTEXTUAL, "contextual column embeddings"),
            (TABLE, PER_ITEM, "table embeddings"),
        ],
        "row embeddings",
    )


def reading_column_order(groups: list[ScoreGroup], extra: dict[str, Any]) -> str:
    return _order_reading(
        groups,
        "Column order",
        (ROW, PER_ITEM, "row embeddings"),
        [
            (TABLE, PER_ITEM, "table embeddings"),
            (COLUMN, CONTEXTUAL, "contextual column embeddings"),
        ],
        "per-item column embeddings",
    )
