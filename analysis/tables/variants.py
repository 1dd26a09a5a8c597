"""Variants of a table embedded together and scored against the original, shared by the order,
sample-fidelity and perturbation properties.

All per-item texts of one (model, table) reach the model in one encode call (the cache drops
repeats such as unchanged columns) and all contextual sequences in one batch; variant items are
re-aligned to the original item order before any comparison, so item i is compared with item i.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.tables.context import (
    TablesRequest,
)
from analysis.tables.data import Table
from analysis.tables.encoding import CONTEXTUAL, PER_ITEM, TableEncoder
from analysis.tables.measures import item_scores
from analysis.tables.scores import ScoreGroup
from analysis.tables.serialise import COLUMN, ROW, Fitted, texts_for


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
