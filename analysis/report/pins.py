"""The report: charts pinned from any page, kept in the store, exported as one bundle.

A pinned chart is stored as plotly figure JSON with its title, caption and provenance, so the
report is exactly what the user saw when pinning, survives a restart, and does not change when
the corpus is re-embedded or deleted later. The same exporters also write the CLI's report of a
corpus's standard figures, so both read alike. What the user writes (the report's title, a note
under each chart) is stored with it and exported with it.

A styled figure carries its title and provenance caption inside the plot, so an exported PNG
still says how it was made. Where a report prints the title and caption as text beside the
chart, it shows the ``bare_figure`` instead, so each appears once.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from analysis.core.errors import UserError
from analysis.core.store import Store, first_row

_PIN_COLUMNS = (
    "chart_id, position, title, caption, analysis, corpus, model, figure_json, data_json, "
    "created_at, note"
)
REPORT_TITLE = "EmbedLens report"
MAX_TITLE = 200
MAX_NOTE = 10_000
BARE_TOP, BARE_BOTTOM = 30, 64  # margins once title and caption are printed beside the chart


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
    note: str = ""  # the user's own words under the chart


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
    note: str

    def chart(self) -> Chart:
        return Chart(
            title=self.title,
            caption=self.caption,
            analysis=self.analysis,
            corpus=self.corpus,
            model=self.model,
            figure=pin_figure(self),
            created_at=self.created_at,
            note=self.note,
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


def bare_figure(fig: go.Figure) -> go.Figure:
    """A copy without the title and the provenance caption drawn inside the plot, for a page
    that prints both as text beside it; the margins they took are given back to the plot."""
    caption = _words(figure_caption(fig))
    bare = go.Figure(fig)
    notes = bare.layout.annotations
    kept = [note for note in notes if not caption or _words(plain_text(note.text)) != caption]
    bare.layout.annotations = kept  # (update_layout ignores an empty list)
    bare.update_layout(title_text=None, meta=None)  # the caption's plain copy goes too
    margin, height = bare.layout.margin, bare.layout.height
    if height is not None and margin.t is not None and margin.b is not None:
        bottom = BARE_BOTTOM if len(kept) < len(notes) else margin.b
        bare.update_layout(
            height=height - (margin.t - BARE_TOP) - (margin.b - bottom),
            margin={"t": BARE_TOP, "b": bottom},
        )
    return bare


def _words(text: str) -> str:
    """Text without whitespace: a caption wrapped into the plot breaks lines at spaces and
    after hyphens ('all-<br>MiniLM'), so only the rest of it compares."""
    return "".join(text.split())


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
    rows = store.fetch_all(f"SELECT {_PIN_COLUMNS} FROM pinned_charts ORDER BY position, chart_id")
    return [Pin(*row) for row in rows]


def set_note(store: Store, chart_id: int, note: str) -> None:
    """Keep the user's note under a chart (trimmed; '' removes it)."""
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise UserError(f"A note can have at most {MAX_NOTE:,} characters, not {len(note):,}.")
    with store.transaction() as cur:
        cur.execute("UPDATE pinned_charts SET note = ? WHERE chart_id = ?", [note, chart_id])


def default_title(corpora: list[str]) -> str:
    """'EmbedLens report: reviews' for one corpus, up to three named, else how many."""
    names = list(dict.fromkeys(corpora))
    if not names:
        return REPORT_TITLE
    if len(names) <= 3:
        return f"{REPORT_TITLE}: {', '.join(names)}"
    return f"{REPORT_TITLE}: {len(names)} corpora"


def stored_title(store: Store) -> str:
    """The title the user gave the report; '' when they gave none."""
    row = first_row(store.fetch_all("SELECT value FROM report_settings WHERE key = 'title'"))
    return str(row[0]) if row is not None else ""


def report_title(store: Store, pins: list[Pin] | None = None) -> str:
    """The title the user gave the report, or one made from the pinned charts' corpora."""
    pins = list_pins(store) if pins is None else pins
    return stored_title(store) or default_title([pin.corpus for pin in pins])


def set_report_title(store: Store, title: str) -> None:
    """Keep the report's title; '' goes back to the default made from the corpora."""
    title = " ".join(title.split())
    if len(title) > MAX_TITLE:
        raise UserError(f"A report title can have at most {MAX_TITLE} characters.")
    with store.transaction() as cur:
        cur.execute("INSERT OR REPLACE INTO report_settings VALUES ('title', ?)", [title])


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
