"""What every table property receives: the validated tables, the loaded models, the request,
and a progress callback that advances once per (model, table).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.tables.data import MAX_COLUMNS_DEFAULT, Table
from analysis.tables.encoding import DEFAULT_MAX_LENGTH, THOROUGH_MAX_LENGTH, TableEncoder
from analysis.tables.permutations import DEFAULT_PERMUTATIONS, MAX_PERMUTATIONS
from analysis.tables.scores import ScoreGroup

DEFAULT_RATIOS = (0.25, 0.5, 0.75)
DEFAULT_SAMPLES = 3
DEFAULT_ENTITY_K = 10
MIN_ROWS_FOR_ROW_ORDER = 4
MAX_JOIN_COLUMNS = 20  # observatory.md: <= 20 x 20 column pairs for joins


# Property-specific parameters, by property (the others are shared by all).
PROPERTY_PARAMETERS: dict[str, tuple[str, ...]] = {
    "row-order": ("permutations",),
    "column-order": ("permutations",),
    "sample-fidelity": ("ratios", "samples"),
    "entity-stability": ("entity_k",),
    "join": (),
    "functional-dependencies": (),
    "perturbation": (),
    "heterogeneous-context": (),
}


@dataclass(frozen=True)
class TablesRequest:
    """Everything a property run depends on besides the table contents and the models."""

    property: str
    models: tuple[str, ...] = ("default",)
    permutations: int = DEFAULT_PERMUTATIONS
    ratios: tuple[float, ...] = DEFAULT_RATIOS
    samples: int = DEFAULT_SAMPLES
    seed: int = 0
    max_length: int = DEFAULT_MAX_LENGTH
    contextual: bool = True
    entity_k: int = DEFAULT_ENTITY_K
    max_columns: int = MAX_COLUMNS_DEFAULT

    def __post_init__(self) -> None:
        if self.property not in PROPERTY_PARAMETERS:
            raise UserError(
                f"Unknown table property '{self.property}'; choose one of "
                f"{', '.join(PROPERTY_PARAMETERS)}."
            )
        if not 1 <= self.permutations <= MAX_PERMUTATIONS:
            raise UserError(
                f"Permutations must be between 1 and {MAX_PERMUTATIONS}; got {self.permutations}."
            )
        bad = [r for r in self.ratios if not 0 < r < 1]
        if bad or not self.ratios:
            raise UserError(
                f"Sample ratios must lie strictly between 0 and 1 (got {list(self.ratios)}); "
                "for example 0.25 0.5 0.75."
            )
        if not 1 <= self.samples <= 100:
            raise UserError(f"Samples per ratio must be between 1 and 100; got {self.samples}.")
        if self.max_length not in (DEFAULT_MAX_LENGTH, THOROUGH_MAX_LENGTH):
            raise UserError(
                f"Maximum length must be {DEFAULT_MAX_LENGTH} (default) or "
                f"{THOROUGH_MAX_LENGTH} (thorough); got {self.max_length}."
            )
        if not 1 <= self.entity_k <= 100:
            raise UserError(f"Neighbours K must be between 1 and 100; got {self.entity_k}.")
        if not 2 <= self.max_columns <= 64:
            raise UserError(f"Columns per table must be between 2 and 64; got {self.max_columns}.")

    def params(self) -> dict[str, Any]:
        """The parameters this property depends on: a join run is not recomputed (or missed)
        because the permutation count, which it never reads, differs."""
        common = {
            "property": self.property,
            "models": list(self.models),
            "seed": self.seed,
            "max_length": self.max_length,
            "contextual": self.contextual,
            "max_columns": self.max_columns,
        }
        specific = {
            "permutations": self.permutations,
            "ratios": list(self.ratios),
            "samples": self.samples,
            "entity_k": self.entity_k,
        }
        return common | {name: specific[name] for name in PROPERTY_PARAMETERS[self.property]}


@dataclass
class PropertyOutput:
    """Score groups plus property-level fields (discovered FDs, join Spearman, ...)."""

    groups: list[ScoreGroup] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PropertyContext:
    tables: Sequence[Table]
    encoders: Sequence[TableEncoder]
    request: TablesRequest
    progress: ProgressFn | None = None

    def units(self) -> Iterator[tuple[TableEncoder, Table]]:
        """Every (model, table), reporting progress after each one."""
        total = len(self.encoders) * len(self.tables)
        done = 0
        for encoder in self.encoders:
            for table in self.tables:
                yield encoder, table
                done += 1
                if self.progress is not None:
                    self.progress(done, total)
