"""What a table-property result says in words: the one-line readings of the variant properties
(mean scores per model over tables, with K and what was skipped), how much of each table the
model saw, the notices on groups that got no score, and the settings a run was made with."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.tables.scores import INVARIANT, NOT_MEANINGFUL, OK, SKIPPED, ScoreGroup


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


def unscored_notices(groups: Sequence[ScoreGroup]) -> list[str]:
    """Why some groups have no score, when that is by design rather than a failure: a 1.0 for
    an embedding that cannot change would look like robustness."""
    notices = []
    invariant = _notes(groups, INVARIANT, lambda g: f"{g.granularity} ({g.mode}): {g.note}")
    if invariant:
        notices.append(
            "Some embeddings are invariant to this change by design (each item is encoded on "
            f"its own), so they get no score rather than a misleading 1.0: {invariant}"
        )
    meaningless = _notes(groups, NOT_MEANINGFUL, lambda g: f"{g.model}: {g.note}")
    if meaningless:
        notices.append(f"Not meaningful here: {meaningless}")
    return notices


def _notes(groups: Sequence[ScoreGroup], status: str, describe: Callable[[ScoreGroup], str]) -> str:
    return "; ".join(sorted({describe(g) for g in groups if g.status == status}))


def window_text(groups: Sequence[ScoreGroup], tables: Sequence[dict[str, Any]]) -> str:
    """'The model saw 7-14 of 1,704 rows of gapminder ...': said first, because a score on a
    few leading rows of a large table says nothing about the rest of it. '' when every scored
    group used every row."""
    total = {table["name"]: table["rows"] for table in tables}
    seen: dict[str, list[int]] = {}
    for g in groups:
        if g.status == OK and g.rows_used is not None and g.rows_used < total.get(g.table, 0):
            seen.setdefault(g.table, []).append(g.rows_used)
    if not seen:
        return ""
    parts = []
    for name, used in seen.items():
        low, high = min(used), max(used)
        shown = f"{low:,}" if low == high else f"{low:,}-{high:,}"
        parts.append(f"{shown} of {total[name]:,} rows of {name}")
    return (
        f"The model saw only {'; '.join(parts)} per embedding (the leading rows that fit its "
        "window); the scores speak for those rows, not the whole table. "
    )


def settings_text(result: dict[str, Any]) -> str:
    """The models (with revisions) and settings a stored run was made with, and its source."""
    params = result["params"]
    models = ", ".join(f"{m['name']} ({m['revision']})" for m in result["models"])
    parts = [f"Models: {models}", f"seed {params['seed']}"]
    if "permutations" in params:
        parts.append(f"K = {params['permutations']} permutations")
    if "ratios" in params:
        ratios = " / ".join(f"{r:g}" for r in params["ratios"])
        parts.append(f"ratios {ratios} × {params['samples']} samples")
    if "entity_k" in params:
        parts.append(f"K = {params['entity_k']} neighbours")
    parts.append(f"column text ≤ {params['max_length']} tokens, cut by whole rows")
    parts.append(result["citation"])
    return " · ".join(parts)
