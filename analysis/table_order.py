"""Row and column order insignificance (observatory.md, properties 1 and 2), plus the variant
machinery that sample fidelity and perturbation robustness share with them.

A table is cut to the rows that fit *before* it is permuted, so a variant differs from the
original in order only, never in content. All per-item texts of one (model, table) reach the model
in one encode call (the cache drops repeats such as unchanged columns) and all contextual sequences
in one batch. Permuted items are put back in the original item order before any comparison, so
item i is always compared with item i.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.table_context import (
    MIN_ROWS_FOR_ROW_ORDER,
    PropertyContext,
    PropertyOutput,
    TablesRequest,
)
from analysis.table_data import Table
from analysis.table_encoding import CONTEXTUAL, PER_ITEM, TableEncoder
from analysis.table_measures import item_scores
from analysis.table_permutations import expected_count, inverse, permutations
from analysis.table_scores import INVARIANT, OK, SKIPPED, ScoreGroup, unmeasured
from analysis.table_serialise import COLUMN, ROW, TABLE, Fitted, texts_for

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


# --- shared with table_sampling and table_perturbation ----------------------------------------


@dataclass(frozen=True)
class VariantSet:
    """Frames of one granularity and mode that are embedded together, the original first."""

    granularity: str
    mode: str
    frames: list[pd.DataFrame]


def contextual_skip(encoder: TableEncoder, request: TablesRequest) -> str | None:
    """Why a contextual group is not measured for this model, or None when it is."""
    if not request.contextual:
        return "the contextual mode was not requested"
    if not encoder.contextual:
        return (
            f"{encoder.name} has no token states, so it has no contextual (one-sequence) "
            "column embedding"
        )
    return None


def fit_for(encoder: TableEncoder, granularity: str, mode: str, texts: pd.DataFrame) -> Fitted:
    """Leading rows that fit this granularity in this mode."""
    return encoder.context_fit(texts) if mode == CONTEXTUAL else encoder.fit(texts, granularity)


def column_fit(
    encoder: TableEncoder, request: TablesRequest, mode: str, texts: pd.DataFrame
) -> Fitted:
    """Rows a column text can use in this mode; skipped, with the reason, when it cannot run."""
    reason = contextual_skip(encoder, request) if mode == CONTEXTUAL else None
    if reason is not None:
        return Fitted(COLUMN, 0, len(texts), reason)
    return fit_for(encoder, COLUMN, mode, texts)


def embed_variants(encoder: TableEncoder, sets: Sequence[VariantSet]) -> list[list[np.ndarray]]:
    """[items, dim] per frame of every set: one encode call and one contextual batch in all."""
    texts: list[str] = []
    contextual: list[pd.DataFrame] = []
    layout: list[tuple[str, list[Any]]] = []
    for variant_set in sets:
        if variant_set.mode == CONTEXTUAL:
            start = len(contextual)
            contextual.extend(variant_set.frames)
            layout.append((CONTEXTUAL, list(range(start, len(contextual)))))
            continue
        spans = []
        for frame in variant_set.frames:
            items = texts_for(variant_set.granularity, frame)
            spans.append(slice(len(texts), len(texts) + len(items)))
            texts.extend(items)
        layout.append((PER_ITEM, spans))
    vectors = encoder.encode(texts) if texts else None
    states = encoder.contextual_columns(contextual) if contextual else []
    return [
        [states[i] for i in parts] if mode == CONTEXTUAL else [vectors[s] for s in parts]
        for mode, parts in layout
    ]


# plan(mode) -> (original's kept rows or None, slots); a slot is a group or has variant .frames
Planner = Callable[[str], tuple[pd.DataFrame | None, list[Any]]]
Scorer = Callable[[str, pd.DataFrame, Any, np.ndarray, list[np.ndarray]], ScoreGroup]


def column_mode_groups(encoder: TableEncoder, plan: Planner, score: Scorer) -> list[ScoreGroup]:
    """Per-item and contextual column groups of one (model, table), in one model call each.

    ``plan(mode)`` gives the original's kept rows (None when the mode is not measured) and its
    slots: finished groups, or pending ones with variant ``frames``. ``score(mode, original,
    slot, reference, variants)`` turns a pending slot and its embeddings into a group.
    """
    planned = [(mode, *plan(mode)) for mode in (PER_ITEM, CONTEXTUAL)]
    sets = [
        VariantSet(
            COLUMN,
            mode,
            [original, *(f for s in slots if not isinstance(s, ScoreGroup) for f in s.frames)],
        )
        for mode, original, slots in planned
        if original is not None
    ]
    embedded = iter(embed_variants(encoder, sets))
    groups: list[ScoreGroup] = []
    for mode, original, slots in planned:
        if original is None:
            groups.extend(slots)
            continue
        reference, *rest = next(embedded)
        variants = iter(rest)
        for slot in slots:
            if isinstance(slot, ScoreGroup):
                groups.append(slot)
            else:
                own = [next(variants) for _ in slot.frames]
                groups.append(score(mode, original, slot, reference, own))
    return groups


def item_names(granularity: str, texts: pd.DataFrame) -> list[str]:
    if granularity == COLUMN:
        return [str(c) for c in texts.columns]
    if granularity == ROW:
        return [f"row {i + 1}" for i in range(len(texts))]
    return ["table"]


def measured_group(
    prop: str,
    encoder: TableEncoder,
    table: Table,
    granularity: str,
    mode: str,
    original: np.ndarray,
    variants: Sequence[np.ndarray],
    *,
    names: Sequence[str],
    rows_used: int,
    condition: str = "",
    note: str = "",
    extra: dict[str, Any] | None = None,
    item_extra: Sequence[dict[str, Any]] | None = None,
) -> ScoreGroup:
    """Cosine to the original and MCV per item, from variants already in the original order.

    With one variant the MCV of the pair is | |a|^2 - |b|^2 | / (2 sqrt(2) |mu|^2): it compares
    norms only, never the angle, and is exactly 0 for normalised embeddings. It is left out
    (None) rather than shown as a reassuring 0.
    """
    stacked = np.stack(variants)
    items = []
    for i, name in enumerate(names):
        item = {"item": name, **item_scores(original[i], stacked[:, i])}
        if len(variants) == 1:
            item["mcv"] = None
        if item_extra is not None:
            item.update(item_extra[i])
        items.append(item)
    if len(variants) == 1:
        note = "; ".join(
            filter(None, [note, "no MCV for a single variant (it compares norms only)"])
        )
    return ScoreGroup(
        property=prop,
        model=encoder.name,
        table=table.name,
        granularity=granularity,
        mode=mode,
        condition=condition,
        note=note,
        k=len(variants),
        rows_used=rows_used,
        items=items,
        extra=extra or {},
    )


@dataclass(frozen=True)
class Summary:
    """Mean scores of one model's measured groups of one kind, over tables."""

    cosine: float
    mcv: float | None
    ks: tuple[int, ...]


def summarise(
    groups: Sequence[ScoreGroup], granularity: str, mode: str, condition: str | None = None
) -> dict[str, Summary]:
    """Per model (in first-seen order), the mean over its measured groups of this kind."""
    chosen: dict[str, list[ScoreGroup]] = {}
    for group in groups:
        if (
            group.status == OK
            and group.cosine is not None
            and group.granularity == granularity
            and group.mode == mode
            and (condition is None or group.condition == condition)
        ):
            chosen.setdefault(group.model, []).append(group)
    out = {}
    for model, kept in chosen.items():
        mcvs = [g.mcv for g in kept if g.mcv is not None and not np.isnan(g.mcv)]
        out[model] = Summary(
            cosine=float(np.mean([g.cosine for g in kept])),
            mcv=float(np.mean(mcvs)) if mcvs else None,
            ks=tuple(sorted({g.k for g in kept if g.k is not None})),
        )
    return out


def models_of(groups: Sequence[ScoreGroup]) -> list[str]:
    return list(dict.fromkeys(g.model for g in groups))


def scores_text(summary: Summary) -> str:
    """'mean cosine 0.985, MCV 0.00213, K = 5': MCVs are comparable only at equal K."""
    ks = summary.ks
    k = f"K = {ks[0]}" if len(ks) == 1 else f"K = {ks[0]}-{ks[-1]}"
    mcv = f", MCV {summary.mcv:.3g}" if summary.mcv is not None else ""
    return f"mean cosine {summary.cosine:.3f}{mcv}, {k}"


def skipped_text(groups: Sequence[ScoreGroup]) -> str:
    """' 5 of 8 groups were skipped: <reason> (x4); <reason> (x1).' with the commonest reasons."""
    reasons = Counter(g.note for g in groups if g.status == SKIPPED)
    if not reasons:
        return ""
    shown = "; ".join(f"{note} (x{n})" for note, n in reasons.most_common(3))
    more = f"; {len(reasons) - 3} other reason(s)" if len(reasons) > 3 else ""
    return f" {reasons.total()} of {len(groups)} groups were skipped: {shown}{more}."


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
