"""What the Map page can colour by, and the values behind each choice."""

from __future__ import annotations

import pandas as pd

from analysis.clustering import Clustering
from analysis.corpora import Corpus

COLOR_NONE = "(none)"
COLOR_TOKENS = "token length"
COLOR_CLUSTER = "cluster"


def color_choices(corpus: Corpus, has_clusters: bool) -> list[str]:
    """Labels first (what users colour by most), then other metadata, length and clusters."""
    others = [name for name in corpus.metadata_names if name not in corpus.label_columns]
    choices = [*corpus.label_columns, *others, COLOR_TOKENS]
    if has_clusters:
        choices.append(COLOR_CLUSTER)
    return [*choices, COLOR_NONE]


def color_values(
    documents: pd.DataFrame, choice: str, clustering: Clustering | None
) -> pd.Series | None:
    """The per-document series for a colour choice, in doc_id order; None = a single colour."""
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
    return documents[choice]


def hover_columns(corpus: Corpus, limit: int = 3) -> list[str]:
    """A few fields for the hover box: labels first; more would crowd the text out."""
    others = [name for name in corpus.metadata_names if name not in corpus.label_columns]
    return [*corpus.label_columns, *others][:limit]
