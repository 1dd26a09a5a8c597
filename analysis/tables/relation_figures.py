"""Figures of the relational table properties: joins, functional dependencies, entity
stability and heterogeneous context.

Each builder takes a stored result as analysis.tables.property_run.TablePropertyRun.compute
writes it (groups as JSON, extra, models, tables, params) and returns a plotly figure, so the
page, the exports and the tests draw the same thing. Table, column, entity and model names are
user data: every one is escaped before plotly sees it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from analysis.output.style import PALETTE, escape, style_figure
from analysis.tables.figures import groups_of, not_measured, provenance
from analysis.tables.hetero_context import CONTEXTS
from analysis.tables.joins import OVERLAPS
from analysis.tables.scores import OK

OVERLAP_LABELS = {
    "containment": "containment |A∩B| / |A| (A: fewer distinct values)",
    "jaccard": "Jaccard |A∩B| / |A∪B|",
    "weighted_jaccard": "weighted Jaccard Σ min / Σ max of value counts",
}


def join_figure(result: dict[str, Any], measure: str = "containment") -> go.Figure:
    """Cosine of every column pair against one overlap measure, one colour per model."""
    if measure not in OVERLAPS:
        raise ValueError(f"unknown overlap measure {measure!r}; choose one of {OVERLAPS}")
    extra = result["extra"]
    groups = groups_of(result)
    fig = go.Figure()
    for colour, group in zip(_colours(len(groups)), groups, strict=True):
        if group.status != OK:
            continue
        stat = extra["spearman"][group.model][measure]
        rho = "undefined" if stat["rho"] is None else f"{stat['rho']:.2f}"
        items = group.items
        fig.add_trace(
            go.Scatter(
                x=[i[measure] for i in items],
                y=[i["cosine"] for i in items],
                mode="markers",
                name=escape(f"{group.model} (Spearman ρ = {rho}, n = {stat['n']})"),
                marker={
                    "color": colour,
                    "size": [11 if i["documented_join"] else 7 for i in items],
                    "symbol": ["diamond" if i["documented_join"] else "circle" for i in items],
                    "opacity": 0.75,
                },
                text=[escape(i["item"]) for i in items],
                hovertemplate=(
                    f"%{{text}}<br>{escape(measure)} %{{x:.3f}}<br>cosine %{{y:.3f}}"
                    f"<extra>{escape(group.model)}</extra>"
                ),
            )
        )
    fig.update_xaxes(title_text=OVERLAP_LABELS[measure], range=[-0.03, 1.03])
    fig.update_yaxes(title_text="cosine of the two column embeddings")
    left_out = sum(extra["columns_left_out"].values())
    caption = provenance(
        result,
        f"{extra['pairs']} column pairs {extra['scope']}; per-item column text embeddings from "
        "the leading rows that fit; overlaps over the full distinct value sets.",
        "Diamonds: joins documented with the demo tables.",
        f"{left_out} column(s) beyond the first {extra['max_columns']} per table left out."
        if left_out
        else "",
        not_measured(groups),
    )
    return style_figure(
        fig, "Join relationship: embedding cosine vs value overlap", escape(caption)
    )


def fd_figure(result: dict[str, Any]) -> go.Figure:
    """Per model, the distribution over FDs of the within-group variance of ||e(x) − e(y)||,
    next to that of the size-matched non-FD groups."""
    groups = [g for g in groups_of(result) if g.status == OK]
    sides = (("fd_variance", "FD groups"), ("non_fd_variance", "matched non-FD groups"))
    fig = go.Figure()
    for colour, (key, label) in zip(PALETTE, sides, strict=False):
        rows = [(g, i) for g in groups for i in g.items if i[key] is not None]
        fig.add_trace(
            go.Box(
                x=[escape(g.model) for g, _ in rows],
                y=[i[key] for _, i in rows],
                name=label,
                marker_color=colour,
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                text=[escape(f"{g.table}: {i['item']}") for g, i in rows],
                hovertemplate=f"%{{text}}<br>{label}: variance %{{y:.4g}}<extra></extra>",
            )
        )
    fig.update_layout(boxmode="group")
    fig.update_yaxes(title_text="variance of ‖e(x) − e(y)‖")
    fds = result["extra"]["fds"]
    discovered = sum(len(listing["discovered"]) for listing in fds.values())
    caption = provenance(
        result,
        f"{discovered} exact single-column FD(s) discovered (keys and constant columns ignored);"
        " cell embeddings in context (last layer). Each FD group of rows sharing (x, y) is"
        " matched with a non-FD group of rows sharing (a, b), of the same size, drawn with"
        f" seed {result['params']['seed']}. Lower FD variance = the dependency is reflected.",
        not_measured(groups_of(result)),
    )
    title = "Functional dependencies: FD vs matched non-FD variance"
    return style_figure(fig, title, escape(caption), height=600)  # room for a long caption


def entity_figure(result: dict[str, Any]) -> go.Figure:
    """overlap@K per compared pair (models, or layers of one model), with chance K / (N − 1)."""
    extra = result["extra"]
    all_groups = groups_of(result)
    groups = [g for g in all_groups if g.status == OK]
    labels = [
        escape(f"{g.model}: {g.condition}" if g.extra["compared"] == "layers" else g.model)
        for g in groups
    ]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=[g.extra["overlap_at_k"] for g in groups],
            marker_color=PALETTE[0],
            text=[f"{g.extra['overlap_at_k']:.3f}" for g in groups],
            textposition="outside",
            hovertemplate="%{x}<br>overlap@K %{y:.3f}<extra></extra>",
            name="overlap@K",
        )
    )
    k = extra.get("k", "K")  # no K when nothing could be compared
    details = []
    if groups:
        chance = f"chance K/(N−1) = {extra['chance']:.3f}"
        line = {"dash": "dash", "color": PALETTE[5], "width": 2}
        fig.add_hline(y=extra["chance"], line=line)
        fig.add_trace(  # the line's legend entry: shapes have none
            go.Scatter(x=[None], y=[None], mode="lines", name=chance, line=line)
        )
        details.append(
            f"K = {k}, N = {extra['entities']} entities (distinct values of name-like, mostly"
            " unique columns), each the mean of its cell embeddings over its occurrences;"
            " query excluded from its own neighbours."
        )
    fig.update_yaxes(title_text=f"mean overlap@{k} of nearest neighbours", range=[0, 1.05])
    free = extra["context_free"]
    if free:
        details.append(f"Context-free (each value alone): {', '.join(free)}.")
    caption = provenance(result, *details, not_measured(all_groups))
    return style_figure(fig, f"Entity stability: overlap@{k}", escape(caption))


def hetero_context_figure(result: dict[str, Any]) -> go.Figure:
    """Mean cosine between a column's embeddings in two contexts, per model and context pair
    (error bars: standard deviation over the columns)."""
    all_groups = groups_of(result)
    groups = [g for g in all_groups if g.status == OK]
    conditions = list(dict.fromkeys(g.condition for g in groups))
    models = list(dict.fromkeys(g.model for g in groups))
    fig = go.Figure()
    for colour, model in zip(_colours(len(models)), models, strict=True):
        cosines = [
            [i["cosine"] for g in groups if g.model == model and g.condition == c for i in g.items]
            for c in conditions
        ]
        fig.add_trace(
            go.Bar(
                x=[c.replace(" vs ", "<br>vs ") for c in conditions],
                y=[float(np.mean(v)) if v else None for v in cosines],
                error_y={"type": "data", "array": [float(np.std(v)) if v else 0 for v in cosines]},
                name=escape(model),
                marker_color=colour,
                hovertemplate="%{x}: mean cosine %{y:.3f}<extra></extra>",
            )
        )
    fig.update_layout(barmode="group", showlegend=True)
    fig.update_yaxes(title_text="cosine between the two contexts", range=[0, 1.05])
    subjects = result["extra"]["subject_columns"]
    caption = provenance(
        result,
        "Contextual column embeddings ([CLS] state of the column in one sequence) of each column"
        " alone, with the subject column, with its neighbours and in the whole table, from the"
        " same leading rows. Subject columns: "
        + ", ".join(f"{t}: {c}" for t, c in subjects.items())
        + ".",
        not_measured(all_groups),
    )
    return style_figure(
        fig, "Heterogeneous context: same column, different company", escape(caption)
    )


def hetero_purity_figure(result: dict[str, Any]) -> go.Figure:
    """k-means purity of column embeddings by semantic type, per context and model, with the
    purity of shuffled labels as chance."""
    purity = result["extra"]["purity"]
    fig = go.Figure()
    for colour, (model, per_context) in zip(_colours(len(purity)), purity.items(), strict=True):
        contexts = [c for c in CONTEXTS if c in per_context]
        fig.add_trace(
            go.Bar(
                x=contexts,
                y=[per_context[c]["purity"] for c in contexts],
                name=escape(model),
                marker_color=colour,
                customdata=[
                    [per_context[c]["k"], per_context[c]["n_columns"], per_context[c]["chance"]]
                    for c in contexts
                ],
                hovertemplate=(
                    "%{x}: purity %{y:.2f}<br>k = %{customdata[0]}, %{customdata[1]} columns,"
                    " chance %{customdata[2]:.2f}<extra></extra>"
                ),
            )
        )
        fig.add_trace(
            go.Scatter(
                x=contexts,
                y=[per_context[c]["chance"] for c in contexts],
                mode="markers",
                marker={"symbol": "line-ew-open", "size": 28, "color": "#555555"},
                name=escape(f"chance ({model})"),
                hovertemplate="%{x}: chance %{y:.2f}<extra></extra>",
            )
        )
    fig.update_layout(barmode="group", showlegend=True)
    fig.update_yaxes(title_text="k-means purity by semantic type", range=[0, 1.05])
    caption = provenance(
        result,
        "k-means on unit-length column embeddings, k = number of semantic types among the"
        f" labelled columns of all tables, seed {result['params']['seed']}; chance = mean purity"
        " of the same clusters with shuffled labels.",
    )
    return style_figure(fig, "Heterogeneous context: semantic-type purity", escape(caption))


def _colours(n: int) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(n)]
