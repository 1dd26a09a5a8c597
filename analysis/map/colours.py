"""What the Map page can colour by, and the values behind each choice."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.corpus.corpora import Corpus
from analysis.map.clustering import Clustering
from analysis.map.figures import DEFAULT_CATEGORIES, MAX_DRAWN_POINTS, MapView, map_figure
from analysis.map.projection import Projection

COLOR_NONE = "(none)"
COLOR_TOKENS = "token length"
COLOR_CLUSTER = "cluster"
BUILT_IN_MARK = " [EmbedLens]"  # tells a built-in choice apart from a user column of that name


def _built_in(name: str, columns: list[str]) -> str:
    return f"{name}{BUILT_IN_MARK}" if name in columns else name


def color_choices(corpus: Corpus, has_clusters: bool) -> list[str]:
    """Labels first (what users colour by most), then other metadata, length and clusters."""
    columns = corpus.metadata_names
    others = [name for name in columns if name not in corpus.label_columns]
    choices = [*corpus.label_columns, *others, _built_in(COLOR_TOKENS, columns)]
    if has_clusters:
        choices.append(cluster_choice(corpus))
    return [*choices, _built_in(COLOR_NONE, columns)]


def cluster_choice(corpus: Corpus) -> str:
    """The choice that colours by the latest clustering, as ``color_choices`` lists it."""
    return _built_in(COLOR_CLUSTER, corpus.metadata_names)


def color_values(
    documents: pd.DataFrame, choice: str, clustering: Clustering | None
) -> pd.Series | None:
    """The per-document series for a colour choice, in doc_id order; None = a single colour.

    A user's column always wins over a built-in choice of the same name (which then carries
    BUILT_IN_MARK in the list).
    """
    if choice in documents.columns:
        return documents[choice]
    choice = choice.removesuffix(BUILT_IN_MARK)
    if choice == COLOR_NONE:
        return None
    if choice == COLOR_TOKENS:
        return documents["n_tokens"].astype(float)
    if choice == COLOR_CLUSTER:
        if clustering is None:
            return None
        labels = pd.Series(clustering.labels, index=documents.index)
        names = {c: f"{c}: {', '.join(words[:3])}" for c, words in clustering.keywords.items()}
        return labels.map(lambda cid: names.get(int(cid), "noise"))
    raise KeyError(f"unknown colour choice {choice!r}")


def hover_columns(corpus: Corpus, limit: int = 3) -> list[str]:
    """A few fields for the hover box: labels first; more would crowd the text out."""
    others = [name for name in corpus.metadata_names if name not in corpus.label_columns]
    return [*corpus.label_columns, *others][:limit]


def projection_view(
    projection: Projection,
    documents: pd.DataFrame,
    corpus: Corpus,
    colour: str,
    clustering: Clustering | None = None,
    highlight: np.ndarray | None = None,
    max_categories: int = DEFAULT_CATEGORIES,
    max_points: int = MAX_DRAWN_POINTS,
) -> MapView:
    """A stored map drawn the same way on the Map page and in reports; ``max_categories``: how
    many of the most frequent classes get a colour of their own (the rest are "other");
    ``max_points``: how many are drawn before a seeded sample is."""
    axis = projection.params.method_name
    return map_figure(
        projection.coords,
        documents["doc_id"].to_numpy(),
        documents["text"].tolist(),
        color=color_values(documents, colour, clustering),
        color_name=colour,
        hover_fields=documents[hover_columns(corpus)],
        highlight=highlight,
        title=f"{axis} map — {corpus.name}",
        caption=projection.caption(),
        seed=projection.params.seed,
        axis_names=tuple(f"{axis} {i}" for i in (1, 2, 3)),
        max_categories=max_categories,
        max_points=max_points,
    )
