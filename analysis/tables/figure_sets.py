"""Which figures each table property shows, in order (the page and the report use the same)."""

from __future__ import annotations

from typing import Any

from analysis.tables.figures import DISTRIBUTIONS, TableFigure, items_frame, summary_frame
from analysis.tables.relation_figures import (
    entity_figure,
    fd_figure,
    hetero_context_figure,
    hetero_purity_figure,
    join_figure,
)

JOIN = [
    TableFigure(
        "join",
        "Embedding cosine of each column pair against its value containment; Spearman ρ per "
        "model in the legend.",
        join_figure,
        items_frame,
    ),
    TableFigure(
        "join-weighted",
        "The same pairs against weighted Jaccard (value counts taken into account).",
        lambda result: join_figure(result, "weighted_jaccard"),
        items_frame,
    ),
]
FDS = [
    TableFigure(
        "fd",
        "Variance of ||e(x) − e(y)|| within groups of rows sharing (x, y), for each FD and for "
        "non-FD column pairs grouped the same way.",
        fd_figure,
        items_frame,
    )
]
ENTITIES = [
    TableFigure(
        "entities",
        "Share of each entity's K nearest neighbours that two models (or layers) agree on.",
        entity_figure,
        summary_frame,
    )
]
CONTEXT = [
    TableFigure(
        "context",
        "Cosine between a column's embeddings in two contexts (alone, with the subject column, "
        "with its neighbours, in the whole table).",
        hetero_context_figure,
        items_frame,
    ),
    TableFigure(
        "purity",
        "k-means purity of column embeddings by semantic type, per context, against chance.",
        hetero_purity_figure,
        summary_frame,
    ),
]

PER_PROPERTY: dict[str, list[TableFigure]] = {
    "row-order": DISTRIBUTIONS,
    "column-order": DISTRIBUTIONS,
    "sample-fidelity": DISTRIBUTIONS,
    "perturbation": DISTRIBUTIONS,
    "join": JOIN,
    "functional-dependencies": FDS,
    "entity-stability": ENTITIES,
    "heterogeneous-context": CONTEXT,
}


def figures_for(result: dict[str, Any]) -> list[TableFigure]:
    return PER_PROPERTY[result["property"]]
