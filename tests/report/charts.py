"""Three charts to pin to the report (one with a hostile corpus name), and pinning them all."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.core.store import Store
from analysis.corpus.figures import label_counts, length_histogram
from analysis.report.pins import pin_chart

HOSTILE = "<b>evil</b> & co"


def sample_figures() -> list[go.Figure]:
    rng = np.random.default_rng(0)
    return [
        length_histogram(rng.integers(5, 300, 200), "stdlib_docs"),
        label_counts(pd.Series(list("aabbbcc")), "stdlib_docs", "topic"),
        length_histogram(rng.integers(5, 50, 20), HOSTILE),
    ]


def pin_all(store: Store, figures: list[go.Figure]) -> list[int]:
    data = pd.DataFrame({"label": ["=HYPERLINK(1)", "b"], "count": [2, 3]})
    return [
        pin_chart(store, figures[0], analysis="lengths", corpus="stdlib_docs", model=None),
        pin_chart(
            store,
            figures[1],
            title="Classes",
            analysis="labels",
            corpus="stdlib_docs",
            model="all-MiniLM-L6-v2",
            data=data,
        ),
        pin_chart(store, figures[2], analysis="lengths", corpus=HOSTILE, model="m"),
    ]
