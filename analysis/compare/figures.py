"""Figures of a comparison: CKA heatmaps, the neighbour-overlap distribution, and the change map.

The change map draws the corpus's map (``map.default_map``) coloured by 1 - overlap@k: where the
two representations disagree about who a text's neighbours are.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from analysis.corpus.corpora import Corpus
from analysis.map.figures import MapView, map_figure
from analysis.map.projection import Projection
from analysis.output.style import PALETTE, escape, style_figure

KORNBLITH = "Kornblith et al. (2019)"


def cka_heatmap(result: dict[str, Any], corpus: str) -> go.Figure:
    """Layer x layer linear CKA (one model with itself, or one model's layers against another's)."""
    same = result["model"] == result["against"]
    fig = go.Figure(
        go.Heatmap(
            z=result["matrix"],
            x=[str(x) for x in result["against_layers"]],
            y=[str(x) for x in result["layers"]],
            zmin=0,
            zmax=1,
            colorscale="Viridis",
            texttemplate="%{z:.2f}",
            colorbar={"title": {"text": "linear CKA"}},
            hovertemplate="layers %{y} and %{x}: CKA %{z:.3f}<extra></extra>",
        )
    )
    model, against = escape(result["model"]), escape(result["against"])
    fig.update_xaxes(title_text=f"layer of {against}", type="category")
    fig.update_yaxes(title_text=f"layer of {model}", type="category", autorange="reversed")
    caption = (
        f"Corpus {escape(corpus)}, n = {result['n']:,} texts; {result['pooling']} pooling per "
        f"layer (0 = embedding layer). Linear CKA after {KORNBLITH}: centred, HSIC-based, "
        f"invariant to rotation and isotropic scaling; 1 = same geometry up to those."
    )
    title = f"Layer × layer CKA — {model}" + ("" if same else f" vs {against}")
    return style_figure(fig, title, caption, height=560)


def _caption(result: dict[str, Any], corpus: str) -> str:
    """Plain text (callers escape it, or map_figure does)."""
    overlap, spearman = result["knn_overlap"], result["distance_spearman"]
    pairs = (
        f"a seeded sample of {spearman['pairs']:,} of {spearman['of_pairs']:,} pairs "
        f"(seed {spearman['seed']})"
        if spearman["sampled"]
        else f"all {spearman['pairs']:,} pairs"
    )
    rho = "undefined" if spearman["rho"] is None else f"{spearman['rho']:.3f}"
    return (
        f"Corpus {corpus}, n = {result['n']:,}: A = {result['a']}, B = "
        f"{result['b']}. Linear CKA {result['cka']:.3f} (after {KORNBLITH}). Mutual kNN "
        f"overlap@{overlap['k']} ({overlap['method']} cosine neighbours in each original space, "
        f"self excluded): mean {overlap['mean']:.3f}, chance {overlap['chance']:.3f}. Spearman "
        f"of pairwise cosine distances {rho} over {pairs}."
    )


def overlap_histogram(result: dict[str, Any], corpus: str, counts: pd.DataFrame) -> go.Figure:
    """How many texts keep how many of their k neighbours (``counts``: overlap_counts_frame)."""
    overlap = result["knn_overlap"]
    k = overlap["k"]
    fig = go.Figure(
        go.Bar(
            x=[f"{i}/{k}" for i in counts["shared_neighbours"]],
            y=counts["texts"],
            marker_color=PALETTE[0],
            hovertemplate="%{y} texts share %{x} neighbours<extra></extra>",
        )
    )
    fig.add_vline(
        x=overlap["mean"] * k,
        line={"color": PALETTE[5], "dash": "dash"},
        annotation_text=f"mean {overlap['mean']:.2f}",
    )
    fig.update_xaxes(title_text=f"neighbours shared by A and B (of k = {k})", type="category")
    fig.update_yaxes(title_text="texts")
    return style_figure(fig, "Neighbourhood overlap per text", escape(_caption(result, corpus)))


def change_map(
    projection: Projection, corpus: Corpus, documents: pd.DataFrame, result: dict[str, Any]
) -> MapView:
    """The corpus map coloured by 1 - overlap@k."""
    change = 1.0 - pd.Series(result["knn_overlap"]["per_point"], dtype=float)
    method = projection.params.method.upper() if projection.params.method != "tsne" else "t-SNE"
    hover = documents[corpus.label_columns[:2]] if corpus.label_columns else None
    return map_figure(
        projection.coords,
        documents["doc_id"].to_numpy(),
        documents["text"].tolist(),
        color=change,
        color_name=f"1 − overlap@{result['knn_overlap']['k']}",
        hover_fields=hover,
        title=f"Where A and B disagree — {method} map of {corpus.name}",
        caption=(
            f"{_caption(result, corpus.name)} Map: {projection.caption()} "
            "Colour: 1 − overlap (1 = no shared neighbour)."
        ),
        seed=projection.params.seed,
        axis_names=tuple(f"{method} {i}" for i in (1, 2, 3)),
    )
