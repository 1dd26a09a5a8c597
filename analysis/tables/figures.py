"""Figures shared by the table properties: score distributions over tables per model, per-column
bars, and the summary table that goes with them (and into CSV exports).

Observatory aggregates per table (mean over items) and then shows the distribution over tables;
with a handful of tables every table is drawn as a point on its box, so nobody mistakes five
numbers for a distribution. Groups that were not measured (invariant by design, skipped) are not
drawn as scores: the caption names them with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from analysis.output.style import CAPTION_WIDTH, PALETTE, escape, style_figure
from analysis.tables.scores import OK, ScoreGroup

Result = dict[str, Any]


def groups_of(result: Result) -> list[ScoreGroup]:
    return [ScoreGroup.from_json(g) for g in result["groups"]]


def facet(group: ScoreGroup) -> str:
    """The x-axis category of a group: granularity, mode and condition."""
    parts = [group.granularity, group.mode]
    if group.condition:
        parts.append(group.condition)
    return " · ".join(p for p in parts if p)


def provenance(result: Result, *details: str) -> str:
    """How the numbers were made, for the caption under every table figure (plain text: the
    caller escapes it, since table and model names are user data)."""
    params = result["params"]
    models = "; ".join(f"{m['name']} ({m['revision']})" for m in result["models"])
    tables = ", ".join(f"{t['name']} ({t['rows']}×{len(t['columns'])})" for t in result["tables"])
    parts = [
        f"{result['title']}. Models: {models}. Tables: {tables}.",
        f"Seed {params['seed']}, column text ≤ {params['max_length']} tokens (rows cut whole).",
        *(d for d in details if d),
        result["citation"],
    ]
    return " ".join(parts)


def summary_frame(result: Result) -> pd.DataFrame:
    """One row per score group: what the page's table shows and the CSV export contains."""
    rows = [
        {
            "model": g.model,
            "table": g.table,
            "granularity": g.granularity,
            "mode": g.mode,
            "condition": g.condition,
            "status": g.status,
            "cosine": g.cosine,
            "mcv": g.mcv,
            "k": g.k,
            "items": len(g.items),
            "rows_used": g.rows_used,
            "note": g.note,
        }
        for g in groups_of(result)
    ]
    return pd.DataFrame(rows)


def items_frame(result: Result) -> pd.DataFrame:
    """Every per-item score with its group's identity: the full data behind a figure."""
    rows = []
    for g in groups_of(result):
        for item in g.items:
            rows.append(
                {
                    "model": g.model,
                    "table": g.table,
                    "granularity": g.granularity,
                    "mode": g.mode,
                    "condition": g.condition,
                    "k": g.k,
                    **{k: v for k, v in item.items() if not isinstance(v, list | dict)},
                }
            )
    return pd.DataFrame(rows)


def not_measured(groups: list[ScoreGroup]) -> str:
    """Groups without scores, one clause per (model, status, reason) naming its tables."""
    tables: dict[tuple[str, str, str], list[str]] = {}
    for g in groups:
        if g.status != OK:
            tables.setdefault((g.model, g.status, g.note), []).append(g.table)
    clauses = [
        f"{model} {status} on {', '.join(dict.fromkeys(names))} ({note})"
        for (model, status, note), names in tables.items()
    ]
    return f"Not measured: {'; '.join(clauses)}." if clauses else ""


def _k_text(groups: list[ScoreGroup]) -> str:
    ks = sorted({g.k for g in groups if g.status == OK and g.k is not None})
    return "K = " + ", ".join(map(str, ks)) if ks else ""


def distribution_figure(result: Result, measure: str = "cosine") -> go.Figure:
    """Per-table scores (mean over items) as a horizontal box per model and facet, every table
    a point; horizontal so that many facets (perturbation has 26) stay readable."""
    groups = groups_of(result)
    measured = [g for g in groups if g.status == OK and getattr(g, measure) is not None]
    facets = list(dict.fromkeys(facet(g) for g in measured))
    fig = go.Figure()
    models = list(dict.fromkeys(g.model for g in groups))
    drawn = 0
    for index, model in enumerate(models):
        mine = [g for g in measured if g.model == model]
        if not mine:
            continue
        drawn += 1
        fig.add_trace(
            go.Box(
                y=[facet(g) for g in mine],
                x=[getattr(g, measure) for g in mine],
                name=escape(model),
                orientation="h",
                marker_color=PALETTE[index % len(PALETTE)],
                boxpoints="all",
                jitter=0.3,
                pointpos=0,
                text=[escape(g.table) for g in mine],
                hovertemplate=f"%{{text}}<br>%{{y}}<br>{measure} %{{x:.4f}}<extra></extra>",
            )
        )
    label = "mean cosine to the original" if measure == "cosine" else "MCV (Albert–Zhang)"
    fig.update_layout(boxmode="group", legend_title_text="model")
    fig.update_xaxes(title_text=label)
    fig.update_yaxes(
        title_text="granularity · mode · condition",
        categoryorder="array",
        categoryarray=facets[::-1],  # first facet on top
        automargin=True,
    )
    k_text = _k_text(groups)
    title = f"{result['title']}: {label} per table"
    if measure == "mcv" and k_text:
        title += f" ({k_text}; compare MCVs only at equal K)"
    caption = provenance(
        result,
        "Each point is one table (mean over its items).",
        k_text + "." if k_text else "",
        not_measured(groups),
    )
    plot = max(260, 50 + 26 * len(facets) * max(drawn, 1))
    caption_lines = len(caption) // CAPTION_WIDTH + 2
    return style_figure(fig, title, escape(caption), height=plot + 114 + 14 * caption_lines)


def item_bars_figure(result: Result, table: str | None = None) -> go.Figure:
    """Per-item (column) cosine for one table, a bar per model and facet."""
    groups = [g for g in groups_of(result) if g.status == OK and g.items]
    table = table or (groups[0].table if groups else "")
    mine = [g for g in groups if g.table == table]
    fig = go.Figure()
    models = list(dict.fromkeys(g.model for g in mine))
    for g in mine:
        index = models.index(g.model)
        fig.add_trace(
            go.Bar(
                x=[escape(item["item"]) for item in g.items],
                y=[item.get("cosine") for item in g.items],
                name=escape(f"{g.model} · {facet(g)}"),
                marker_color=PALETTE[index % len(PALETTE)],
                opacity=1.0 if g.mode != "contextual" else 0.6,
            )
        )
    fig.update_layout(barmode="group", legend_title_text="model · facet")
    fig.update_yaxes(title_text="cosine to the original")
    fig.update_xaxes(title_text=f"items of {escape(table)}")
    return style_figure(
        fig,
        f"{result['title']}: per item in {escape(table)}",
        escape(provenance(result, _k_text(mine) + "." if mine else "")),
        height=520,
    )


@dataclass(frozen=True)
class TableFigure:
    """A figure of a stored run: key (for widgets and exports), what it shows, builder, data."""

    key: str
    what: str
    build: Callable[[Result], go.Figure]
    data: Callable[[Result], pd.DataFrame]


DISTRIBUTIONS = [
    TableFigure(
        "cosine",
        "Mean cosine between each item's original embedding and its variants, per table.",
        distribution_figure,
        summary_frame,
    ),
    TableFigure(
        "mcv",
        "Multivariate coefficient of variation of each item's original and variants.",
        lambda result: distribution_figure(result, "mcv"),
        summary_frame,
    ),
    TableFigure(
        "items",
        "Cosine of each column (or row) of the first table, per model.",
        item_bars_figure,
        items_frame,
    ),
]
