"""Figures that describe a corpus itself: how long its texts are and how its labels are spread."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.output.style import PALETTE, escape, style_figure

TOKEN_NOTE = "tokens = word pieces of the all-MiniLM-L6-v2 tokenizer, [CLS]/[SEP] not counted"


def length_histogram(n_tokens: np.ndarray, corpus: str, max_length: int = 256) -> go.Figure:
    """Token-length histogram with the model's cut-off marked: longer texts are truncated."""
    counts = np.asarray(n_tokens)
    over = int((counts > max_length - 2).sum())
    fig = go.Figure(go.Histogram(x=counts, nbinsx=60, marker_color=PALETTE[0], name="texts"))
    limit = max_length - 2
    # Drawn only when texts come near it: a far-off line would squash the bars to slivers.
    near = counts.size > 0 and counts.max() >= limit / 2
    if near:
        fig.add_vline(x=limit, line_dash="dash", line_color=PALETTE[5], line_width=1.5)
    fig.update_xaxes(title_text="tokens per text")
    fig.update_yaxes(title_text="texts")
    corpus = escape(corpus)
    caption = (
        f"Corpus {corpus}: n = {counts.size:,} texts; median {int(np.median(counts))} tokens; "
        f"{over:,} over the {max_length}-token model limit"
        f"{' (dashed)' if near else ''}, truncated when embedded. "
        f"{TOKEN_NOTE}."
    )
    return style_figure(fig, f"Text lengths — {corpus}", caption)


def label_counts(labels: pd.Series, corpus: str, column: str) -> go.Figure:
    """Bar chart of class sizes: probes and clusters are only as good as their smallest class."""
    counts = labels.astype("string").fillna("(missing)").value_counts(ascending=True)
    corpus, column = escape(corpus), escape(column)
    names = [escape(name) for name in counts.index]
    fig = go.Figure(go.Bar(y=names, x=counts.to_numpy(), orientation="h", marker_color=PALETTE[2]))
    fig.update_yaxes(title_text=column, type="category")
    fig.update_xaxes(title_text="texts")
    caption = (
        f"Corpus {corpus}: column '{column}', {counts.size} classes, n = {int(counts.sum()):,}; "
        f"smallest class {int(counts.min()):,}, largest {int(counts.max()):,}."
    )
    return style_figure(fig, f"Label counts — {column}", caption)
