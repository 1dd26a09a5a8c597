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


def length_figures(
    store: Store, corpus: Corpus, model: str | None, progress: ProgressFn | None
) -> list[ChartSpec]:
    """Collapse curve, layer x length heatmap and TempScale sweep with the default request."""
    from analysis.length.collapse import prepare, run_length_analysis, suggested_mode
    from analysis.length.figures import collapse_figure, layer_heatmap_figure, sweep_figure
    from analysis.length.sample import LengthRequest

    request = LengthRequest(model=model or "default", mode=suggested_mode(store, corpus))
    report = run_length_analysis(store, prepare(store, corpus, request), progress)
    return [
        (collapse_figure(report), report.model),
        (layer_heatmap_figure(report, 1.0), report.model),
        (sweep_figure(report), report.model),
    ]


def probe_figures(
    store: Store, corpus: Corpus, model: str | None, progress: ProgressFn | None
) -> list[ChartSpec]:
    """Accuracy per layer (with control and baselines), selectivity and dimension curves."""
    from analysis.probes.figures import accuracy_figure, dimension_figure, selectivity_figure
    from analysis.probes.probe import ProbeRequest, run_probe

    if not corpus.label_columns:
        raise UserError(
            f"Corpus '{corpus.name}' has no label column, so there is nothing to probe; leave "
            "'probe' out of --analyses or ingest it with --label-column."
        )
    request = ProbeRequest(label_column=corpus.label_columns[0], model=model or "default")
    result = run_probe(store, corpus, request, progress).result
    name = str(result["model"])
    return [
        (accuracy_figure(result, corpus.name), name),
        (selectivity_figure(result, corpus.name), name),
        (dimension_figure(result, corpus.name), name),
    ]


DIAGNOSTICS: dict[
    str, Callable[[Store, Corpus, str | None, ProgressFn | None], list[ChartSpec]]
] = {"length": length_figures, "probe": probe_figures}
