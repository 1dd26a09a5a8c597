"""The eight Observatory properties (Cong et al., PVLDB 2024), by the ids the CLI and page use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from analysis.core.errors import UserError
from analysis.tables.context import PropertyContext, PropertyOutput
from analysis.tables.entities import reading_entity_stability, run_entity_stability
from analysis.tables.fds import reading_functional_dependencies, run_functional_dependencies
from analysis.tables.hetero_context import (
    reading_heterogeneous_context,
    run_heterogeneous_context,
)
from analysis.tables.joins import reading_join, run_join
from analysis.tables.order import (
    reading_column_order,
    reading_row_order,
    run_column_order,
    run_row_order,
)
from analysis.tables.perturbation import reading_perturbation, run_perturbation
from analysis.tables.sampling import reading_sample_fidelity, run_sample_fidelity
from analysis.tables.scores import ScoreGroup

CITATION = (
    "After Observatory (Cong, Hulsebos, Sun, Groth and Jagadish, PVLDB 17(4), 2024, "
    "arXiv 2310.07736)."
)
ALL = "all"


@dataclass(frozen=True)
class TableProperty:
    id: str
    title: str
    question: str
    run: Callable[[PropertyContext], PropertyOutput]
    reading: Callable[[list[ScoreGroup], dict[str, Any]], str]


PROPERTIES: dict[str, TableProperty] = {
    p.id: p
    for p in (
        TableProperty(
            "row-order",
            "Row order insignificance",
            "Does shuffling the rows change the embeddings? (The relational model says it "
            "should not.)",
            run_row_order,
            reading_row_order,
        ),
        TableProperty(
            "column-order",
            "Column order insignificance",
            "Does reordering the columns change the embeddings?",
            run_column_order,
            reading_column_order,
        ),
        TableProperty(
            "join",
            "Join relationship",
            "Are columns that share values (joinable) also close in embedding space?",
            run_join,
            reading_join,
        ),
        TableProperty(
            "functional-dependencies",
            "Functional dependencies",
            "Is a dependency X -> Y reflected as a stable relation between the cell "
            "embeddings of x and y?",
            run_functional_dependencies,
            reading_functional_dependencies,
        ),
        TableProperty(
            "sample-fidelity",
            "Sample fidelity",
            "Does a row sample embed like the whole table?",
            run_sample_fidelity,
            reading_sample_fidelity,
        ),
        TableProperty(
            "entity-stability",
            "Entity stability",
            "Do entities keep their nearest neighbours from one model (or layer) to another?",
            run_entity_stability,
            reading_entity_stability,
        ),
        TableProperty(
            "perturbation",
            "Perturbation robustness",
            "Do harmless header and value-format changes move the column embeddings?",
            run_perturbation,
            reading_perturbation,
        ),
        TableProperty(
            "heterogeneous-context",
            "Heterogeneous context",
            "Does a column embed the same alone, with the subject column, with its "
            "neighbours and within the whole table?",
            run_heterogeneous_context,
            reading_heterogeneous_context,
        ),
    )
}


def property_ids(choice: str) -> list[str]:
    """The property ids for a CLI/page choice ('all' or one id), checked."""
    if choice == ALL:
        return list(PROPERTIES)
    if choice not in PROPERTIES:
        raise UserError(
            f"Unknown table property '{choice}'; choose one of {', '.join(PROPERTIES)} or {ALL}."
        )
    return [choice]
