"""The one-line readings of the variant properties: mean scores per model over tables, with K
and what was skipped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.tables.scores import OK, SKIPPED, ScoreGroup


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
