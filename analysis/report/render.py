"""The report as files: one self-contained offline HTML page, or PNG + SVG + index.md in a ZIP.

Pinned charts and freshly built standard charts render the same way, so a report written by the
CLI reads like one exported from the Report page. Each chart's title and caption are printed
once, as text beside a bare figure; the figure files keep them inside (they travel alone).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import zipfile
from collections.abc import Sequence

from plotly.offline import get_plotlyjs

from analysis.core.errors import UserError
from analysis.output.figure_files import (
    DEFAULT_SCALE,
    FORMATS,
    IMAGE_FORMATS,
    export_figures,
    export_stem,
    figure_html,
    require_chromium,
)
from analysis.output.style import literal
from analysis.report.pins import REPORT_TITLE, Chart, Pin, bare_figure, provenance

ZIP_FORMATS = ("png", "svg")

_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
.generated, .provenance { color: #666; font-size: 0.85em; }
section { margin: 2.5em 0; border-top: 1px solid #ddd; padding-top: 1em; }
.caption { font-size: 0.9em; color: #444; }
.note { white-space: pre-wrap; }
"""


def _charts(items: Sequence[Pin | Chart]) -> list[Chart]:
    return [item.chart() if isinstance(item, Pin) else item for item in items]


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
        f"{figure_html(bare_figure(chart.figure), full=False)}\n"
        f'<p class="caption">{html.escape(chart.caption)}</p>\n'
        f'<p class="provenance">{html.escape(provenance(chart))}</p>\n'
        + (f'<p class="note">{html.escape(chart.note)}</p>\n' if chart.note else "")
        + "</section>"
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


def _index_markdown(
    charts: Sequence[Chart], files: Sequence[Sequence[str]], generated: dt.datetime, title: str
) -> str:
    """The bundle's table of contents: title, caption, provenance, note and files per chart."""
    lines = [
        f"# {literal(title)}",
        "",
        f"Generated {generated:%Y-%m-%d %H:%M}. Interactive version: [report.html](report.html)",
    ]
    for index, (chart, names) in enumerate(zip(charts, files, strict=True), start=1):
        links = ", ".join(f"[{name}]({name})" for name in names)
        lines += [
            "",
            f"## Figure {index}. {literal(chart.title)}",
            "",
            literal(chart.caption),
            "",
            f"*{literal(provenance(chart))}*",
            "",
            *(_quoted(chart.note) if chart.note else []),
            f"Files: {links}" if links else "Files: in report.html only",
        ]
    return "\n".join(lines) + "\n"


def _quoted(note: str) -> list[str]:
    """The user's note as a Markdown quote, every line literal, then a blank line."""
    return [*(f"> {literal(line)}" if line.strip() else ">" for line in note.splitlines()), ""]


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
    items: Sequence[Pin | Chart],
    formats: Sequence[str],
    scale: float = DEFAULT_SCALE,
    title: str = REPORT_TITLE,
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
    files["report.html"] = report_html(charts, title, generated).encode("utf-8")
    files["index.md"] = _index_markdown(charts, names, generated, title).encode("utf-8")
    return files


def report_zip(
    items: Sequence[Pin | Chart], title: str = REPORT_TITLE, scale: float = DEFAULT_SCALE
) -> bytes:
    """PNG + SVG of every chart, index.md and report.html in one ZIP archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, blob in report_files(items, ZIP_FORMATS, scale, title).items():
            archive.writestr(name, blob)
    return buffer.getvalue()
