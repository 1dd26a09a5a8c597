"""The common shape of every table-property result: one score group per model, table,
granularity, mode and condition, with its items and their mean.

Properties produce groups; figures, summaries, the page and the CLI read them. A group that could
not be measured keeps its place with a status and the reason, so nothing disappears silently.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

OK = "ok"
INVARIANT = "invariant by design"
SKIPPED = "skipped"
NOT_MEANINGFUL = "not meaningful"
STATUSES = (OK, INVARIANT, SKIPPED, NOT_MEANINGFUL)


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None and not math.isnan(v)]
    return float(sum(kept) / len(kept)) if kept else None


@dataclass
class ScoreGroup:
    """Scores of one (model, table, granularity, mode, condition).

    ``items`` are dicts with at least ``item`` and usually ``cosine``/``mcv``; ``cosine`` and
    ``mcv`` here are their means (per-table aggregation, as in Observatory). ``k`` is the number
    of variants behind each item's scores. ``extra`` holds property-specific fields.
    """

    property: str
    model: str
    table: str
    granularity: str
    mode: str
    condition: str = ""
    status: str = OK
    note: str = ""
    k: int | None = None
    rows_used: int | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    cosine: float | None = None
    mcv: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if self.items and self.cosine is None:
            self.cosine = _mean([item.get("cosine") for item in self.items])
        if self.items and self.mcv is None:
            self.mcv = _mean([item.get("mcv") for item in self.items])

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScoreGroup:
        return cls(**data)


def unmeasured(
    prop: str,
    model: str,
    table: str,
    granularity: str,
    mode: str,
    status: str,
    note: str,
    condition: str = "",
) -> ScoreGroup:
    """A group that keeps its place in the results with the reason it has no scores."""
    return ScoreGroup(
        property=prop,
        model=model,
        table=table,
        granularity=granularity,
        mode=mode,
        condition=condition,
        status=status,
        note=note,
    )
