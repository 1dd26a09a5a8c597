"""Entity stability (observatory.md, property 6): do two models, or two layers of one model,
agree on which entities are near each other?

Entities are the distinct values of columns that read as names (more letters than digits in
most cells, so ids, dates and numbers are left out) and are mostly unique, like a key. An
entity's embedding is the mean of its cell embeddings over all its occurrences in those columns,
each read inside its table's contextual sequence (each value alone for LSA, which has no
context). With two or more models every pair of models is compared at the last layer; with one
transformer model its middle layer is compared with its last.
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
from analysis.tables.fds import CONTEXT_FREE, cell_mode
from analysis.tables.joins import scope_name
from analysis.tables.scores import NOT_MEANINGFUL, SKIPPED, ScoreGroup, unmeasured
from analysis.tables.serialise import CELL

PROPERTY = "entity-stability"
ENTITY_DISTINCT = 0.8  # share of distinct values that makes a column key-like (as Table.subject)
ENTITY_MIN_DISTINCT = 20  # or this many distinct names (first names, cities): many entities
MODELS = "models"
LAYERS = "layers"


def _reads_as_name(text: str) -> bool:
    return sum(ch.isalpha() for ch in text) > sum(ch.isdigit() for ch in text)


def entity_columns(texts: pd.DataFrame) -> list[str]:
    """Columns whose values read as names and are mostly unique or many (not a category)."""
    chosen = []
    for column in texts.columns:
        values = texts[column][texts[column] != ""]
        if values.empty or values.map(_reads_as_name).mean() <= 0.5:
            continue
        distinct = values.nunique()
        if distinct >= ENTITY_DISTINCT * len(values) or distinct >= ENTITY_MIN_DISTINCT:
            chosen.append(str(column))
    return chosen


def overlap_at_k(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """Per query row, the share of its k nearest neighbours (cosine, itself excluded) that the
    two embeddings [N, dim] of the same N entities have in common."""
    neighbours = [_top_k(x, k) for x in (a, b)]
    return np.array(
        [len(set(x) & set(y)) / k for x, y in zip(*neighbours, strict=True)], dtype=np.float64
    )


def _top_k(vectors: np.ndarray, k: int) -> np.ndarray:
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1, kind="stable")[:, :k]


@dataclass(frozen=True)
class _Comparison:
    kind: str  # MODELS or LAYERS
    layers: tuple[int, ...]
    pairs: list[tuple[TableEncoder, int, TableEncoder, int]]  # (encoder, layer slot) twice


def _plan(encoders: Sequence[TableEncoder]) -> _Comparison | str:
    """What to compare, or why nothing can be compared."""
    if len(encoders) >= 2:
        return _Comparison(MODELS, (-1,), [(a, 0, b, 0) for a, b in combinations(encoders, 2)])
    only = encoders[0]
    n_layers = only.info.n_layers
    if not only.contextual or not n_layers or n_layers < 2:
        return (
            f"{only.name} has no transformer layers to compare and it is the only model; "
            "choose a second model to compare with"
        )
    return _Comparison(LAYERS, (n_layers // 2, n_layers), [(only, 0, only, 1)])


def _entity_vectors(
    encoder: TableEncoder, table: Table, layers: tuple[int, ...], columns: list[str], sums: dict
) -> None:
    """Add each entity's cell embeddings (every requested layer) and counts to ``sums``."""
    if not columns:
        return
    texts = table.texts
    cells = encoder.cell_vectors(texts, layers)
    for column in columns:
        j = table.columns.index(column)
        for i, value in enumerate(texts[column]):
            vector = cells[:, i, j]
            if value and not np.isnan(vector).any():
                total, count = sums.get(value, (0.0, 0))
                sums[value] = (total + vector, count + 1)


def _names(plan: _Comparison, pair: tuple) -> tuple[str, str, str, str]:
    """The group's model field, the two compared sides, and the cell mode of the comparison."""
    first, slot_a, second, slot_b = pair
    if plan.kind == LAYERS:
        a, b = f"layer {plan.layers[slot_a]}", f"layer {plan.layers[slot_b]}"
        model = first.name
    else:
        a, b = first.name, second.name
        model = f"{a} vs {b}"
    mode = CONTEXTUAL if first.contextual and second.contextual else CONTEXT_FREE
    return model, a, b, mode


def run_entity_stability(ctx: PropertyContext) -> PropertyOutput:
    """One group per compared pair (of models, or of layers): overlap@K per query entity."""
    columns = {t.name: entity_columns(t.texts) for t in ctx.tables}
    scope = scope_name(ctx.tables)
    plan = _plan(ctx.encoders)
    extra: dict[str, Any] = {
        "entity_columns": columns,
        "comparison": plan.kind if isinstance(plan, _Comparison) else None,
        "context_free": [e.name for e in ctx.encoders if not e.contextual],
        "entities": 0,
    }
    if isinstance(plan, str):
        [only] = ctx.encoders
        group = unmeasured(PROPERTY, only.name, scope, CELL, cell_mode(only), SKIPPED, plan)
        return PropertyOutput(groups=[group], extra=extra)
    sums: dict[str, dict] = {e.name: {} for e in ctx.encoders}
    if any(columns.values()):
        for encoder, table in ctx.units():
            try:
                _entity_vectors(
                    encoder, table, plan.layers, columns[table.name], sums[encoder.name]
                )
            except UserError as exc:  # a row too long for one contextual sequence
                extra.setdefault("skipped_tables", {})[f"{encoder.name}: {table.name}"] = str(exc)
    entities = [v for v in sums[ctx.encoders[0].name] if all(v in s for s in sums.values())]
    n = len(entities)
    status, reason = SKIPPED, ""
    if n < 2:
        reason = (
            "fewer than two entities"
            if any(columns.values())
            else "no column reads as names that are mostly unique (at least "
            f"{ENTITY_DISTINCT:.0%} distinct) or many ({ENTITY_MIN_DISTINCT}+ distinct); add a "
            "table with a name column"
        )
    elif n - 1 <= ctx.request.entity_k:
        status = NOT_MEANINGFUL
        reason = (
            f"only {n} entities: the {ctx.request.entity_k} nearest neighbours would be all of "
            "the others in any model, so the overlap is 1 by construction"
        )
    if reason:
        skipped = []
        for pair in plan.pairs:
            model, a, b, mode = _names(plan, pair)
            skipped.append(
                unmeasured(PROPERTY, model, scope, CELL, mode, status, reason, f"{a} vs {b}")
            )
        return PropertyOutput(groups=skipped, extra={**extra, "entities": n})
    vectors = {
        name: np.stack([own[v][0] / own[v][1] for v in entities], axis=1)
        for name, own in sums.items()
    }  # [layers, N, dim]
    k = min(ctx.request.entity_k, n - 1)
    extra.update(entities=n, k=k, chance=k / (n - 1))
    groups = [_compare(plan, pair, entities, vectors, k, scope) for pair in plan.pairs]
    return PropertyOutput(groups=groups, extra=extra)


def _compare(
    plan: _Comparison,
    pair: tuple[TableEncoder, int, TableEncoder, int],
    entities: list[str],
    vectors: dict[str, np.ndarray],
    k: int,
    scope: str,
) -> ScoreGroup:
    first, slot_a, second, slot_b = pair
    model, a, b, mode = _names(plan, pair)
    overlap = overlap_at_k(vectors[first.name][slot_a], vectors[second.name][slot_b], k)
    free = [e.name for e in (first, second) if not e.contextual]
    note = f"{', '.join(free)}: each value embedded alone (no context)" if free else ""
    return ScoreGroup(
        property=PROPERTY,
        model=model,
        table=scope,
        granularity=CELL,
        mode=mode,
        condition=f"{a} vs {b}",
        note=note,
        k=k,
        items=[{"item": e, "overlap": float(o)} for e, o in zip(entities, overlap, strict=True)],
        extra={
            "overlap_at_k": float(overlap.mean()),
            "chance": k / (len(entities) - 1),
            "n_entities": len(entities),
            "compared": plan.kind,
            "a": a,
            "b": b,
        },
    )


def reading_entity_stability(groups: Sequence[ScoreGroup], extra: dict[str, Any]) -> str:
    """E.g. "4.1 of each entity's 10 nearest neighbours agree between layer 3 and layer 6"."""
    measured = [g for g in groups if g.extra.get("overlap_at_k") is not None]
    if not measured:
        reasons = sorted({g.note for g in groups if g.note})
        return f"Entity stability not measured: {'; '.join(reasons)}."
    parts = []
    for group in measured:
        k, stats = group.k, group.extra
        parts.append(
            f"{group.model if stats['compared'] == LAYERS else 'models'} {stats['a']} and "
            f"{stats['b']} share {stats['overlap_at_k'] * k:.1f} of each entity's {k} nearest "
            f"neighbours on average (overlap@{k} = {stats['overlap_at_k']:.3f}, chance "
            f"{stats['chance']:.3f})"
        )
    return f"Over {extra['entities']} entities: " + "; ".join(parts) + "."
