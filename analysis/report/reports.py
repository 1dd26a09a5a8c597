"""The report: charts pinned from any page, kept in the store, exported as one bundle.

A pinned chart is stored as plotly figure JSON with its title, caption and provenance, so the
report is exactly what the user saw when pinning, survives a restart, and does not change when
the corpus is re-embedded or deleted later. The same exporters also write the CLI's report of a
corpus's standard figures, so both read alike.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.store import Store, first_row
from analysis.corpus.corpora import Corpus, get_corpus, load_documents
from analysis.corpus.figures import label_counts, length_histogram
from analysis.output.figure_files import (
    DEFAULT_SCALE,
    FORMATS,
    IMAGE_FORMATS,
    export_figures,
    export_stem,
    figure_html,
    require_chromium,
)

REPORT_TITLE = "EmbedLens report"
ANALYSES = ("map", "corpus", "length", "probe")
ZIP_FORMATS = ("png", "svg")
_PIN_COLUMNS = (
    "chart_id, position, title, caption, analysis, corpus, model, figure_json, data_json, "
    "created_at"
)


@dataclass(frozen=True)
class Chart:
    """A figure with what a report prints next to it."""

    title: str
    caption: str
    analysis: str
    corpus: str
    model: str
    figure: go.Figure = field(repr=False)
    created_at: dt.datetime


@dataclass(frozen=True)
class Pin:
    """A row of ``pinned_charts``; the figure is parsed only when asked for."""

    chart_id: int
    position: int
    title: str
    caption: str
    analysis: str
    corpus: str
    model: str
    figure_json: str = field(repr=False)
    data_json: str | None = field(repr=False)
    created_at: dt.datetime

    def chart(self) -> Chart:
        return Chart(
            title=self.title,
            caption=self.caption,
            analysis=self.analysis,
            corpus=self.corpus,
            model=self.model,
            figure=pin_figure(self),
            created_at=self.created_at,
        )


def provenance(item: Pin | Chart) -> str:
    """One line under every chart: what made it, from which corpus and model, and when."""
    model = f"model {item.model}" if item.model else "no model"
    return f"{item.analysis} · corpus {item.corpus} · {model} · {item.created_at:%Y-%m-%d %H:%M}"


def plain_text(label: str | None) -> str:
    """Plotly label text (escaped, with <br> breaks) as the plain text a reader should see."""
    return html.unescape(re.sub(r"<br\s*/?>", " ", label or "")).strip()


def figure_title(fig: go.Figure) -> str:
    return plain_text(fig.layout.title.text)


def figure_caption(fig: go.Figure) -> str:
    """The provenance caption style_figure keeps in ``layout.meta``; '' for unstyled figures."""
    meta = fig.layout.meta
    return plain_text(meta.get("caption")) if isinstance(meta, dict) else ""


def pin_chart(
    store: Store,
    fig: go.Figure,
    *,
    title: str | None = None,
    analysis: str,
    corpus: str,
    model: str | None,
    data: pd.DataFrame | None = None,
) -> int:
    """Add a chart at the end of the report; returns its chart id. Title: the figure's own."""
    data_json = None if data is None else data.to_json(orient="table", index=False)
    with store.transaction() as cur:
        rows = cur.execute(
            "INSERT INTO pinned_charts (title, caption, analysis, corpus, model, figure_json, "
            "data_json, position) SELECT ?, ?, ?, ?, ?, ?, ?, coalesce(max(position), 0) + 1 "
            "FROM pinned_charts RETURNING chart_id",
            [
                title or figure_title(fig) or analysis,
                figure_caption(fig),
                analysis,
                corpus,
                model or "",
                fig.to_json(),
                data_json,
            ],
        ).fetchall()
    return int(rows[0][0])


def list_pins(store: Store) -> list[Pin]:
    rows = (
        store.cursor()
        .execute(f"SELECT {_PIN_COLUMNS} FROM pinned_charts ORDER BY position, chart_id")
        .fetchall()
    )
    return [Pin(*row) for row in rows]


def move_pin(store: Store, chart_id: int, direction: int) -> None:
    """Swap a chart with its neighbour above (-1) or below (+1); at either end nothing moves."""
    if direction not in (-1, 1):
        raise ValueError(f"direction must be -1 or +1, got {direction!r}")
    comparison, order = ("<", "DESC") if direction < 0 else (">", "ASC")
    with store.transaction() as cur:
        row = first_row(
            cur.execute(
                "SELECT position FROM pinned_charts WHERE chart_id = ?", [chart_id]
            ).fetchall()
        )
        if row is None:
            raise UserError("That chart is no longer in the report; reload the page.")
        neighbour = first_row(
            cur.execute(
                f"SELECT chart_id, position FROM pinned_charts WHERE position {comparison} ? "
                f"ORDER BY position {order} LIMIT 1",
                [row[0]],
            ).fetchall()
        )
        if neighbour is None:
            return
        cur.execute(
            "UPDATE pinned_charts SET position = ? WHERE chart_id = ?", [neighbour[1], chart_id]
        )
        cur.execute(
            "UPDATE pinned_charts SET position = ? WHERE chart_id = ?", [row[0], neighbour[0]]
        )


def remove_pin(store: Store, chart_id: int) -> None:
    """Idempotent: removing a chart another session already removed is not an error."""
    with store.transaction() as cur:
        cur.execute("DELETE FROM pinned_charts WHERE chart_id = ?", [chart_id])


def pin_figure(pin: Pin) -> go.Figure:
    return pio.from_json(pin.figure_json)


def pin_data(pin: Pin) -> pd.DataFrame | None:
    """The data pinned with the chart, with its column types, or None."""
    if pin.data_json is None:
        return None
    return pd.read_json(io.StringIO(pin.data_json), orient="table")


def _charts(items: Sequence[Pin | Chart]) -> list[Chart]:
    return [item.chart() if isinstance(item, Pin) else item for item in items]


_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
.generated, .provenance { color: #666; font-size: 0.85em; }
section { margin: 2.5em 0; border-top: 1px solid #ddd; padding-top: 1em; }
.caption { font-size: 0.9em; color: #444; }
"""


def report_html(
    items: Sequence[Pin | Chart],
    title: str = REPORT_TITLE,
    generated: dt.datetime | None = None,
) -> str:
    """One self-contained page: plotly.js inline once, every chart interactive, no URL fetched."""
    charts = _charts(items)
    generated = generated or dt.datetime.now()
    count = "1 chart" if len(charts) == 1 else f"{len(charts)} charts"
    sections = [
        f'<section id="figure-{index}">\n<h2>Figure {index}. {html.escape(chart.title)}</h2>\n'
        f"{figure_html(chart.figure, full=False)}\n"
        f'<p class="caption">{html.escape(chart.caption)}</p>\n'
        f'<p class="provenance">{html.escape(provenance(chart))}</p>\n</section>'
        for index, chart in enumerate(charts, start=1)
    ]
    return "\n".join(
        [
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>",
            f'<script type="text/javascript">{get_plotlyjs()}</script>\n</head>\n<body>',
            f"<h1>{html.escape(title)}</h1>",
            f'<p class="generated">Generated {generated:%Y-%m-%d %H:%M} by EmbedLens · {count}</p>',
            *sections,
            "</body>\n</html>\n",
        ]
    )


def _markdown(text: str) -> str:
    """Plain text that Markdown shows verbatim: its markup characters backslash-escaped."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~])", r"\\\1", text)


def _index_markdown(
    charts: Sequence[Chart], files: Sequence[Sequence[str]], generated: dt.datetime
) -> str:
    """The bundle's table of contents: title, caption, provenance and file names per chart."""
    lines = [
        f"# {REPORT_TITLE}",
        "",
        f"Generated {generated:%Y-%m-%d %H:%M}. Interactive version: [report.html](report.html)",
    ]
    for index, (chart, names) in enumerate(zip(charts, files, strict=True), start=1):
        links = ", ".join(f"[{name}]({name})" for name in names)
        lines += [
            "",
            f"## Figure {index}. {_markdown(chart.title)}",
            "",
            _markdown(chart.caption),
            "",
            f"*{_markdown(provenance(chart))}*",
            "",
            f"Files: {links}" if links else "Files: in report.html only",
        ]
    return "\n".join(lines) + "\n"


def check_formats(formats: Sequence[str]) -> list[str]:
    """Known formats, deduplicated; Chromium is required up front when an image is asked for."""
    wanted = list(dict.fromkeys(fmt.lower() for fmt in formats))
    unknown = [fmt for fmt in wanted if fmt not in FORMATS]
    if unknown:
        raise UserError(f"Unknown format(s) {', '.join(unknown)}; choose {', '.join(FORMATS)}.")
    if set(wanted) & set(IMAGE_FORMATS):
        require_chromium()
    return wanted


def report_files(
    items: Sequence[Pin | Chart], formats: Sequence[str], scale: float = DEFAULT_SCALE
) -> dict[str, bytes]:
    """Each chart in each format, report.html and index.md; numbered, so names cannot clash."""
    formats = check_formats(formats)
    charts = _charts(items)
    stems = [
        f"{index:02d}-{export_stem(c.corpus, c.analysis, c.model, c.created_at)}"
        for index, c in enumerate(charts, start=1)
    ]
    figures = [chart.figure for chart in charts]
    rendered = {
        fmt: [figure_html(fig).encode("utf-8") for fig in figures]
        if fmt == "html"
        else export_figures(figures, fmt, scale)
        for fmt in formats
    }
    files = {
        f"{stem}.{fmt}": rendered[fmt][index] for index, stem in enumerate(stems) for fmt in formats
    }
    generated = dt.datetime.now()
    names = [[f"{stem}.{fmt}" for fmt in formats] for stem in stems]
    files["report.html"] = report_html(charts, generated=generated).encode("utf-8")
    files["index.md"] = _index_markdown(charts, names, generated).encode("utf-8")
    return files


def report_zip(items: Sequence[Pin | Chart], scale: float = DEFAULT_SCALE) -> bytes:
    """PNG + SVG of every chart, index.md and report.html in one ZIP archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, blob in report_files(items, ZIP_FORMATS, scale).items():
            archive.writestr(name, blob)
    return buffer.getvalue()


ChartBuilder = Callable[[Store, Corpus, pd.DataFrame, str | None, ProgressFn | None], list[Chart]]


def _map_charts(
    store: Store,
    corpus: Corpus,
    documents: pd.DataFrame,
    model: str | None,
    progress: ProgressFn | None,
) -> list[Chart]:
    """The Map page's default view: 2-D UMAP with default parameters, coloured like the page."""
    from analysis.map.colours import color_choices, projection_view
    from analysis.map.projection import ProjectionParams, project
    from analysis.vectors.embedding import resolve_corpus_model

    record = resolve_corpus_model(store, corpus, model)
    projection = project(store, corpus, record, ProjectionParams(), progress)
    colour = color_choices(corpus, has_clusters=False)[0]
    view = projection_view(projection, documents, corpus, colour)
    return [_chart(view.figure, "map", corpus, record.name)]


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
) -> list[Path]:
    """The CLI's report: figure files, report.html and index.md in ``out``; the paths written.

    Formats and the browser are checked before anything is computed, so a missing Chromium
    fails in a second, not after a UMAP run.
    """
    formats = check_formats(formats)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a folder.")
    charts = standard_charts(store, corpus_name, analyses, model, progress)
    files = report_files(charts, formats)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, blob in files.items():
        path = out / name
        path.write_bytes(blob)
        written.append(path)
    return written
