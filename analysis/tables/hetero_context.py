"""Heterogeneous context (observatory.md, property 8): how much does a column's embedding
depend on the columns it is embedded with?

Each column is embedded alone, with the table's subject column, with its left and right
neighbours, and within the whole table. A per-item column text holds one column only, so the
contexts come from Observatory's contextual encoding of each sub-table (the column's [CLS]
state); models without token states (LSA) have no contextual mode and are skipped. Every
context uses the same leading rows, those that fit with all columns, so only the context
changes. Where columns carry semantic type labels, k-means purity of the (unit-length) column
embeddings says whether a context helps or hurts grouping columns by type.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
from sklearn.cluster import KMeans

from analysis.tables.context import PropertyContext, PropertyOutput
from analysis.tables.data import Table
from analysis.tables.encoding import CONTEXTUAL, TableEncoder
from analysis.tables.scores import SKIPPED, ScoreGroup, unmeasured
from analysis.tables.serialise import COLUMN

PROPERTY = "heterogeneous-context"
ALONE = "alone"
SUBJECT = "with subject"
NEIGHBOURS = "with neighbours"
WHOLE = "whole table"
CONTEXTS = (ALONE, SUBJECT, NEIGHBOURS, WHOLE)
CHANCE_SHUFFLES = 200


def context_columns(columns: Sequence[str], subject: str) -> dict[str, dict[str, list[str]]]:
    """Per context, per target column, the sub-table's columns in table order.

    The subject column has no "with subject" context: it would be the same as alone.
    """
    out: dict[str, dict[str, list[str]]] = {context: {} for context in CONTEXTS}
    for j, column in enumerate(columns):
        out[ALONE][column] = [column]
        if column != subject:
            out[SUBJECT][column] = [c for c in columns if c in (column, subject)]
        out[NEIGHBOURS][column] = list(columns[max(j - 1, 0) : j + 2])
        out[WHOLE][column] = list(columns)
    return out


def purity(labels: Sequence[str], clusters: Sequence[int]) -> float:
    """Share of items whose cluster's most common label is their own."""
    labels, clusters = np.asarray(labels), np.asarray(clusters)
    hits = 0
    for cluster in np.unique(clusters):
        _, counts = np.unique(labels[clusters == cluster], return_counts=True)
        hits += int(counts.max())
    return hits / len(labels)


def kmeans_purity(vectors: np.ndarray, labels: Sequence[str], seed: int) -> dict[str, Any]:
    """k-means (k = number of labels) purity, and its mean over shuffled labels as chance."""
    k = len(set(labels))
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    clusters = KMeans(n_clusters=k, random_state=seed, n_init=10).fit_predict(unit)
    rng = np.random.default_rng(seed)
    shuffled = [purity(rng.permutation(labels), clusters) for _ in range(CHANCE_SHUFFLES)]
    return {
        "purity": purity(labels, clusters),
        "chance": float(np.mean(shuffled)),
        "k": k,
        "n_columns": len(labels),
    }


def _embed_contexts(encoder: TableEncoder, table: Table, rows: int) -> dict[str, dict]:
    """Per context, per target column, its [CLS] embedding: every sub-table in one batch."""
    texts = table.texts.iloc[:rows]
    plan = context_columns(table.columns, table.subject())
    subtables = sorted({tuple(cols) for per in plan.values() for cols in per.values()})
    encoded = encoder.contextual_columns([texts[list(cols)] for cols in subtables])
    by_columns = dict(zip(subtables, encoded, strict=True))
    return {
        context: {c: by_columns[tuple(cols)][cols.index(c)] for c, cols in per.items()}
        for context, per in plan.items()
    }


def _groups(encoder: TableEncoder, table: Table, vectors: dict, rows: int) -> list[ScoreGroup]:
    groups = []
    for first, second in combinations(CONTEXTS, 2):
        shared = [c for c in table.columns if c in vectors[first] and c in vectors[second]]
        items = [
            {"item": c, "cosine": _cosine(vectors[first][c], vectors[second][c])} for c in shared
        ]
        groups.append(
            ScoreGroup(
                property=PROPERTY,
                model=encoder.name,
                table=table.name,
                granularity=COLUMN,
                mode=CONTEXTUAL,
                condition=f"{first} vs {second}",
                note=f"subject column: {table.subject()}",
                rows_used=rows,
                items=items,
            )
        )
    return groups


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


def _skip(encoder: TableEncoder, table: Table, reason: str) -> ScoreGroup:
    return unmeasured(PROPERTY, encoder.name, table.name, COLUMN, CONTEXTUAL, SKIPPED, reason)


def run_heterogeneous_context(ctx: PropertyContext) -> PropertyOutput:
    """Per (model, table), one group per pair of contexts: the cosine of each column's two
    embeddings; per model and context, the k-means purity over all labelled columns."""
    groups: list[ScoreGroup] = []
    labelled: dict[str, dict[str, list[tuple[np.ndarray, str]]]] = {}
    for encoder, table in ctx.units():
        if not encoder.contextual:
            groups.append(
                _skip(
                    encoder,
                    table,
                    "no token states, so no column can be embedded among other columns; "
                    "use a transformer model",
                )
            )
            continue
        fitted = encoder.context_fit(table.texts)
        if fitted.skipped:
            groups.append(_skip(encoder, table, fitted.skipped))
            continue
        vectors = _embed_contexts(encoder, table, fitted.rows)
        groups.extend(_groups(encoder, table, vectors, fitted.rows))
        own = labelled.setdefault(encoder.name, {context: [] for context in CONTEXTS})
        for context, per in vectors.items():
            own[context].extend(
                (per[c], table.semantic_types[c]) for c in per if c in table.semantic_types
            )
    return PropertyOutput(
        groups=groups,
        extra={
            "purity": {
                model: _purities(per_context, ctx.request.seed)
                for model, per_context in labelled.items()
            },
            "subject_columns": {t.name: t.subject() for t in ctx.tables},
        },
    )


def _purities(per_context: dict[str, list[tuple[np.ndarray, str]]], seed: int) -> dict:
    """Purity per context, where there are more labelled columns than labels (and >= 2 labels)."""
    out = {}
    for context, pairs in per_context.items():
        labels = [label for _, label in pairs]
        if 2 <= len(set(labels)) < len(labels):
            out[context] = kmeans_purity(np.stack([v for v, _ in pairs]), labels, seed)
    return out


def reading_heterogeneous_context(groups: Sequence[ScoreGroup], extra: dict[str, Any]) -> str:
    """Per model: how far each context moves a column from its embedding alone (mean over the
    columns of all tables, as the figure), and purity alone vs in the whole table."""
    parts = []
    models = dict.fromkeys(g.model for g in groups)
    for model in models:
        own = [g for g in groups if g.model == model and g.cosine is not None]
        if not own:
            notes = sorted({g.note for g in groups if g.model == model})
            parts.append(f"{model}: not measured ({'; '.join(notes)})")
            continue
        pairs = (f"{ALONE} vs {SUBJECT}", f"{ALONE} vs {NEIGHBOURS}", f"{ALONE} vs {WHOLE}")
        cosines = {
            pair: [i["cosine"] for g in own if g.condition == pair for i in g.items]
            for pair in pairs
        }
        text = f"{model}: mean cosine over columns " + ", ".join(
            f"{pair} {np.mean(values):.3f}" for pair, values in cosines.items() if values
        )
        purities = extra["purity"].get(model, {})
        if ALONE in purities and WHOLE in purities:
            text += (
                f"; k-means purity by semantic type {purities[ALONE]['purity']:.2f} alone vs "
                f"{purities[WHOLE]['purity']:.2f} in the whole table (chance about "
                f"{purities[ALONE]['chance']:.2f}, k = {purities[ALONE]['k']})"
            )
        parts.append(text)
    return "; ".join(parts) + "."
