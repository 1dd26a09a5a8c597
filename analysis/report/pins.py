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
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from analysis.core.errors import UserError
from analysis.core.store import Store, first_row

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
    rows = store.fetch_all(f"SELECT {_PIN_COLUMNS} FROM pinned_charts ORDER BY position, chart_id")
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
