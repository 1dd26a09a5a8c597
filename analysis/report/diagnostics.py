"""The standard figures of the diagnostics for a report: length collapse and layer probes.

Each uses the pages' default settings, so a report reuses what the pages stored (and computes it
with those defaults when missing).
"""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go

from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus

ChartSpec = tuple[go.Figure, str]  # a figure and the model it shows


# The Length page's charts a report shows: collapse curve, layer x length heatmap (at τ = 1) and
# the TempScale sweep.
LENGTH_CHARTS = ("len_collapse", "len_layers", "len_sweep")


def length_figures(
    store: Store, corpus: Corpus, model: str | None, progress: ProgressFn | None
) -> list[ChartSpec]:
    """The report's length charts, from the Length page's analysis with its default request."""
    from analysis.length.collapse import suggested_mode
    from analysis.length.length_analysis import LengthAnalysis
    from analysis.length.sample import LengthRequest, default_lengths

    mode = suggested_mode(store, corpus)
    request = LengthRequest(model=model or "default", mode=mode, lengths=default_lengths(mode))
    analysis = LengthAnalysis(store, corpus, request)
    charts = analysis.figures(analysis.run(progress))
    return [(chart.figure, chart.model) for chart in charts if chart.key in LENGTH_CHARTS]


def probe_figures(
    store: Store, corpus: Corpus, model: str | None, progress: ProgressFn | None
) -> list[ChartSpec]:
    """Accuracy per layer (with control and baselines), selectivity and dimension curves: the
    Probes page's charts for its default request."""
    from analysis.probes.probe import Probe
    from analysis.probes.requests import ProbeRequest

    if not corpus.label_columns:
        raise UserError(
            f"Corpus '{corpus.name}' has no label column, so there is nothing to probe; leave "
            "'probe' out of --analyses or ingest it with --label-column."
        )
    request = ProbeRequest(label_column=corpus.label_columns[0], model=model or "default")
    analysis = Probe(store, corpus, request)
    return [(chart.figure, chart.model) for chart in analysis.figures(analysis.run(progress))]


DIAGNOSTICS: dict[
    str, Callable[[Store, Corpus, str | None, ProgressFn | None], list[ChartSpec]]
] = {"length": length_figures, "probe": probe_figures}
