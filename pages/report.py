"""Report page: the pinned charts in order, with captions and the user's notes under a title
they choose; reorder, remove, export as a bundle."""

from __future__ import annotations

from functools import partial

import streamlit as st

from analysis.core.errors import UserError
from analysis.output.figure_files import export_stem, require_chromium
from analysis.output.style import literal
from analysis.report.pins import (
    MAX_NOTE,
    MAX_TITLE,
    Pin,
    bare_figure,
    default_title,
    list_pins,
    move_pin,
    pin_data,
    pin_figure,
    provenance,
    remove_pin,
    set_note,
    set_report_title,
    stored_title,
)
from analysis.report.render import report_html, report_zip
from pages._ui import data_downloads, require_navigation, store

require_navigation()
st.title("Report")


def downloads(pins: list[Pin], title: str) -> None:
    """Both bundles are built only when clicked: the ZIP renders every chart twice."""
    try:
        require_chromium()
        missing = None
    except UserError as exc:
        missing = exc.message
    row = st.container(horizontal=True, gap="small")
    row.download_button(
        "Report (HTML)",
        partial(report_html, pins, title),
        "embedlens-report.html",
        "text/html",
        key="report_html",
        on_click="ignore",
        icon=":material/download:",
        type="primary",
        help="One file, charts interactive, works offline",
    )
    row.download_button(
        "Report (ZIP: PNG + SVG + index.md)",
        partial(report_zip, pins, title),
        "embedlens-report.zip",
        "application/zip",
        key="report_zip",
        on_click="ignore",
        icon=":material/folder_zip:",
        disabled=missing is not None,
        help=missing,
    )
    if missing:
        st.caption(literal(missing))


def _act(action, *args) -> None:
    """Button callback: a chart removed in another session must not crash this one."""
    try:
        action(store(), *args)
    except UserError as exc:
        st.toast(literal(exc.message))


def _save(key: str, save, *args) -> None:
    """Text-box callback: store what the user typed (a removed chart must not crash)."""
    _act(save, *args, st.session_state[key])


def title_input(pins: list[Pin]) -> str:
    """The report's title, stored as typed; empty means the default named after the corpora."""
    default = default_title([pin.corpus for pin in pins])
    if "report_title" not in st.session_state:
        st.session_state["report_title"] = stored_title(store())
    st.text_input(
        "Report title",
        key="report_title",
        max_chars=MAX_TITLE,
        placeholder=default,
        on_change=_save,
        args=("report_title", set_report_title),
        help="Heads the exported HTML page and index.md; leave empty for the default.",
    )
    return " ".join(st.session_state["report_title"].split()) or default


def note_input(pin: Pin) -> None:
    """The user's note under a chart, stored with it and exported under it."""
    key = f"pin_note_{pin.chart_id}"
    if key not in st.session_state:
        st.session_state[key] = pin.note
    st.text_area(
        "Note (exported with the chart)",
        key=key,
        max_chars=MAX_NOTE,
        placeholder="What this chart shows, for the reader of the report",
        on_change=_save,
        args=(key, set_note, pin.chart_id),
    )


def pinned_chart(pin: Pin, number: int, last: bool) -> None:
    """The chart drawn bare: its title and caption are printed once, as text, around it."""
    with st.container(border=True):
        st.subheader(f"Figure {number}. {literal(pin.title)}", anchor=False)
        st.plotly_chart(bare_figure(pin_figure(pin)), key=f"pin_chart_{pin.chart_id}")
        st.caption(literal(pin.caption))
        st.caption(literal(provenance(pin)))
        note_input(pin)
        row = st.container(horizontal=True, gap="small")
        row.button(
            "Move up",
            key=f"pin_up_{pin.chart_id}",
            icon=":material/arrow_upward:",
            disabled=number == 1,
            on_click=_act,
            args=(move_pin, pin.chart_id, -1),
        )
        row.button(
            "Move down",
            key=f"pin_down_{pin.chart_id}",
            icon=":material/arrow_downward:",
            disabled=last,
            on_click=_act,
            args=(move_pin, pin.chart_id, 1),
        )
        data = pin_data(pin)
        if data is not None:
            data_downloads(
                row,
                data,
                export_stem(pin.corpus, pin.analysis, pin.model, pin.created_at),
                f"pin_csv_{pin.chart_id}",
                f"pin_parquet_{pin.chart_id}",
            )
        row.button(
            "Remove",
            key=f"pin_remove_{pin.chart_id}",
            icon=":material/delete:",
            on_click=_act,
            args=(remove_pin, pin.chart_id),
        )


def main() -> None:
    pins = list_pins(store())
    if not pins:
        st.info(
            "No charts pinned yet. Every chart in EmbedLens has a :material/push_pin: **Pin to "
            "report** button under it: pinned charts are listed here with their captions, kept "
            "in the store across restarts, and exported together as one HTML file or a ZIP of "
            "PNG + SVG files."
        )
        return
    title = title_input(pins)
    count = "1 chart" if len(pins) == 1 else f"{len(pins)} charts"
    st.caption(f"{count}, in report order. Downloads are built when you click them.")
    downloads(pins, title)
    for number, pin in enumerate(pins, start=1):
        pinned_chart(pin, number, last=number == len(pins))


main()
