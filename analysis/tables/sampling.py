"""Sample fidelity (observatory.md, property 5): does a row sample embed like the whole table?

What the model sees of the whole table is its leading r rows, the most whose column texts fit;
that column embedding is the reference, the same for every ratio and sample. A sample keeps the
table's row order and is serialised by the same rule, capped at the same r rows. This keeps the
comparison fair: every text fits (nothing is cut by the model), a sample never gets more rows of
content than the reference had, and a sample that happens to contain the full table's leading rows
gives exactly its text. On a table longer than r rows the score therefore measures how much of
what the model saw of the full table a sample shares, which is what a user embedding a sample
instead of the table gets; the rows used are recorded with every group.

Samples are drawn per table from the seed and the table's content hash, so every model sees the
same samples, the order of the chosen tables does not matter, and adding a ratio leaves the
samples of the others unchanged.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.tables.context import PropertyContext, PropertyOutput, TablesRequest
from analysis.tables.data import Table
from analysis.tables.encoding import CONTEXTUAL, PER_ITEM, TableEncoder
from analysis.tables.readings import models_of, skipped_text, summarise
from analysis.tables.scores import SKIPPED, ScoreGroup, unmeasured
from analysis.tables.serialise import COLUMN
from analysis.tables.variants import (
    column_fit,
    column_mode_groups,
    fit_for,
    item_names,
    measured_group,
)

SAMPLE_FIDELITY = "sample-fidelity"


def condition_of(ratio: float) -> str:
    return f"ratio {ratio:g}"


def sample_rows(n: int, ratio: float, samples: int, seed: Sequence[int]) -> list[np.ndarray]:
    """Sorted row indices of each sample (row order kept, no replacement)."""
    size = max(1, round(ratio * n))
    rng = np.random.default_rng([*seed, round(ratio * 1_000_000)])
    return [np.sort(rng.choice(n, size=size, replace=False)) for _ in range(samples)]


@dataclass(frozen=True)
class _Ratio:
    """The serialised samples of one ratio, waiting for their embeddings."""

    ratio: float
    size: int
    frames: list[pd.DataFrame]


def _unit(encoder: TableEncoder, table: Table, request: TablesRequest) -> list[ScoreGroup]:
    seed = (request.seed, int(table.sha, 16))
    drawn = {r: sample_rows(table.n_rows, r, request.samples, seed) for r in request.ratios}
    texts = table.texts

    def plan(mode: str) -> tuple[pd.DataFrame | None, list[ScoreGroup | _Ratio]]:
        def not_measured(ratio: float, note: str) -> ScoreGroup:
            group = unmeasured(
                SAMPLE_FIDELITY,
                encoder.name,
                table.name,
                COLUMN,
                mode,
                SKIPPED,
                note,
                condition_of(ratio),
            )
            group.extra = {"ratio": ratio}
            return group

        fitted = column_fit(encoder, request, mode, texts)
        if fitted.skipped is not None:
            return None, [not_measured(ratio, fitted.skipped) for ratio in drawn]
        slots: list[ScoreGroup | _Ratio] = []
        for ratio, samples in drawn.items():
            if len(samples[0]) >= table.n_rows:
                slots.append(
                    not_measured(
                        ratio, f"a {ratio:g} sample of {table.n_rows} rows is the whole table"
                    )
                )
                continue
            capped = [texts.iloc[rows[: fitted.rows]] for rows in samples]
            fits = [fit_for(encoder, COLUMN, mode, frame) for frame in capped]
            failed = next((f.skipped for f in fits if f.skipped is not None), None)
            if failed is not None:
                slots.append(not_measured(ratio, f"a sample could not be serialised: {failed}"))
                continue
            frames = [frame.iloc[: f.rows] for frame, f in zip(capped, fits, strict=True)]
            slots.append(_Ratio(ratio, len(samples[0]), frames))
        return texts.iloc[: fitted.rows], slots

    def score(
        mode: str,
        full: pd.DataFrame,
        slot: _Ratio,
        reference: np.ndarray,
        samples: list[np.ndarray],
    ) -> ScoreGroup:
        return measured_group(
            SAMPLE_FIDELITY,
            encoder,
            table,
            COLUMN,
            mode,
            reference,
            samples,
            names=item_names(COLUMN, full),
            rows_used=len(full),
            condition=condition_of(slot.ratio),
            note=_window_note(len(full), table.n_rows),
            extra={
                "ratio": slot.ratio,
                "sample_size": slot.size,
                "sample_rows_used": [len(frame) for frame in slot.frames],
                "total_rows": table.n_rows,
            },
        )

    return column_mode_groups(encoder, plan, score)


def _window_note(used: int, total: int) -> str:
    """Said wherever the model window, not the sample, limits what is compared."""
    if used >= total:
        return ""
    return (
        f"the full table and each sample are serialised with the first rows that fit: {used} of "
        f"the table's {total} rows, so a sample differs from the full table only where its "
        "leading rows do"
    )


def run_sample_fidelity(ctx: PropertyContext) -> PropertyOutput:
    """Column embeddings of row samples at each ratio against the full table's."""
    groups: list[ScoreGroup] = []
    for encoder, table in ctx.units():
        groups.extend(_unit(encoder, table, ctx.request))
    return PropertyOutput(groups=groups)


def reading_sample_fidelity(groups: list[ScoreGroup], extra: dict[str, Any]) -> str:
    ratios = sorted({g.extra["ratio"] for g in groups})
    shown = " / ".join(f"{r:g}" for r in ratios)
    samples = "/".join(str(k) for k in sorted({g.k for g in groups if g.k is not None}))
    sentences = []
    for model in models_of(groups):
        parts = []
        for mode in (PER_ITEM, CONTEXTUAL):
            found = [summarise(groups, COLUMN, mode, condition_of(r)).get(model) for r in ratios]
            if any(f is None for f in found):
                continue
            cosines = [f.cosine for f in found]
            rising = all(a < b for a, b in itertools.pairwise(cosines))
            scores = " / ".join(f"{c:.3f}" for c in cosines)
            mcvs = " / ".join(f"{f.mcv:.3g}" for f in found if f.mcv is not None)
            trend = "rising" if rising else "not rising steadily"
            parts.append(f"{mode} {scores} ({trend}; MCV {mcvs})")
        if parts:
            sentences.append(
                f"Sample fidelity of {model} column embeddings at ratios {shown} (mean cosine "
                f"to the full table, {samples} samples each): " + "; ".join(parts) + "."
            )
        else:
            sentences.append(f"Sample fidelity was not measured for {model}.")
    return " ".join(sentences) + skipped_text(groups)
