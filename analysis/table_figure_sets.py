"""Which figures each table property shows, in order (the page and the report use the same)."""

from __future__ import annotations

from typing import Any

from analysis.table_figures import DISTRIBUTIONS, TableFigure

PER_PROPERTY: dict[str, list[TableFigure]] = {
    "row-order": DISTRIBUTIONS,
    "column-order": DISTRIBUTIONS,
    "sample-fidelity": DISTRIBUTIONS,
    "perturbation": DISTRIBUTIONS,
}


def figures_for(result: dict[str, Any]) -> list[TableFigure]:
    return PER_PROPERTY.get(result["property"], DISTRIBUTIONS[:1])
