"""The standard figures of a corpus for a report written from the command line.

Each uses the pages' default settings, so a report reuses what the pages stored (and computes and
stores what is missing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, get_corpus, load_documents
from analysis.corpus.figures import label_counts, length_histogram
from analysis.report.pins import Chart, default_title, figure_caption, figure_title
from analysis.report.render import check_formats, report_files

ANALYSES = ("map", "corpus", "length", "probe")


ChartBuilder = Callable[[Store, Corpus, pd.DataFrame, str | None, ProgressFn | None], list[Chart]]


def _map_charts(
    store: Store,
    corpus: Corpus,
    documents: pd.DataFrame,
    model: str | None,
    progress: ProgressFn | None,
) -> list[Chart]:
    """The Map page's default view: 2-D UMAP with default parameters, coloured like the page.

    A report waits for its figures, so the map plan computes the UMAP here (no preview).
    """
    from analysis.map.plan import plan_map
    from analysis.map.projection import ProjectionParams
    from analysis.vectors.catalogue import resolve_corpus_model

    record = resolve_corpus_model(store, corpus, model)
    plan = plan_map(
        store, corpus, record, ProjectionParams(), background=False, documents=documents
    )
    charts = plan.now.figures(plan.show(progress))
    return [_chart(chart.figure, "map", corpus, chart.model) for chart in charts]


def _corpus_charts(
    store: Store,
    corpus: Corpus,
    documents: pd.DataFrame,
    model: str | None,
    progress: ProgressFn | None,
) -> list[Chart]:
    """The Corpora page's figures: token lengths, and class sizes of every label column."""
    charts = [
        _chart(length_histogram(documents["n_tokens"].to_numpy(), corpus.name), "lengths", corpus)
    ]
    for column in corpus.label_columns:
        figure = label_counts(documents[column], corpus.name, column)
        charts.append(_chart(figure, f"labels-{column}", corpus))
    return charts


def _chart(fig: go.Figure, analysis: str, corpus: Corpus, model: str = "") -> Chart:
    return Chart(
        title=figure_title(fig),
        caption=figure_caption(fig),
        analysis=analysis,
        corpus=corpus.name,
        model=model,
        figure=fig,
        created_at=dt.datetime.now(),
    )


def _diagnostic_charts(name: str) -> ChartBuilder:
    """A builder for a diagnostic whose figures come from analysis.report.diagnostics."""

    def build(
        store: Store,
        corpus: Corpus,
        documents: pd.DataFrame,
        model: str | None,
        progress: ProgressFn | None,
    ) -> list[Chart]:
        from analysis.report.diagnostics import DIAGNOSTICS

        specs = DIAGNOSTICS[name](store, corpus, model, progress)
        return [_chart(fig, name, corpus, shown) for fig, shown in specs]

    return build


_BUILDERS: dict[str, ChartBuilder] = {
    "map": _map_charts,
    "corpus": _corpus_charts,
    "length": _diagnostic_charts("length"),
    "probe": _diagnostic_charts("probe"),
}


def standard_charts(
    store: Store,
    corpus_name: str,
    analyses: Sequence[str] = ANALYSES,
    model: str | None = None,
    progress: ProgressFn | None = None,
) -> list[Chart]:
    """The standard figures of the chosen analyses, from stored results (computed if missing)."""
    unknown = [name for name in analyses if name not in _BUILDERS]
    if unknown:
        raise UserError(f"Unknown analysis {', '.join(unknown)}; choose {', '.join(ANALYSES)}.")
    corpus = get_corpus(store, corpus_name)
    documents = load_documents(store, corpus)
    charts: list[Chart] = []
    for name in dict.fromkeys(analyses):
        charts += _BUILDERS[name](store, corpus, documents, model, progress)
    return charts


def write_report(
    store: Store,
    corpus_name: str,
    out: Path,
    analyses: Sequence[str] = ANALYSES,
    formats: Sequence[str] = ("png", "svg", "html"),
    model: str | None = None,
    progress: ProgressFn | None = None,
    title: str | None = None,
) -> list[Path]:
    """The CLI's report: figure files, report.html and index.md in ``out``; the paths written.

    ``title`` heads report.html and index.md (default: 'EmbedLens report: <corpus>').

    Formats and the browser are checked before anything is computed, so a missing Chromium
    fails in a second, not after a UMAP run.
    """
    formats = check_formats(formats)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a folder.")
    charts = standard_charts(store, corpus_name, analyses, model, progress)
    files = report_files(charts, formats, title=title or default_title([corpus_name]))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, blob in files.items():
        path = out / name
        path.write_bytes(blob)
        written.append(path)
    return written
