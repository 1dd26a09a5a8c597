"""Pinned charts in a real DuckDB file, and the report bundle: offline HTML, ZIP, index."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs

from analysis.core.errors import UserError
from analysis.core.store import SCHEMA_VERSION, Store
from analysis.output.data_files import csv_bytes
from analysis.report.pins import (
    bare_figure,
    list_pins,
    move_pin,
    pin_chart,
    pin_data,
    pin_figure,
    provenance,
    remove_pin,
    report_title,
    set_note,
    set_report_title,
)
from analysis.report.render import report_html, report_zip
from tests.output.formats import png_size
from tests.report.charts import HOSTILE, pin_all
from tests.shared import old_store


def test_pin_move_remove_round_trip_survives_reopening(tmp_path: Path, figures) -> None:
    path = tmp_path / "pins.duckdb"
    store = Store(path)
    first, second, third = pin_all(store, figures)
    pins = list_pins(store)
    assert [p.chart_id for p in pins] == [first, second, third]
    titles = ["Text lengths — stdlib_docs", "Classes", f"Text lengths — {HOSTILE}"]
    assert [p.title for p in pins] == titles
    assert pins[2].caption.startswith(f"Corpus {HOSTILE}: n = 20 texts")  # plain, not escaped
    assert pins[0].model == "" and pins[1].model == "all-MiniLM-L6-v2"
    move_pin(store, third, -1)
    move_pin(store, first, -1)  # already first: nothing moves
    assert [p.chart_id for p in list_pins(store)] == [first, third, second]
    move_pin(store, second, 1)  # already last
    move_pin(store, first, 1)
    assert [p.chart_id for p in list_pins(store)] == [third, first, second]
    remove_pin(store, first)
    remove_pin(store, first)  # a second click (or another session) is harmless
    store.close()

    reopened = Store(path)
    pins = list_pins(reopened)
    assert [p.chart_id for p in pins] == [third, second]
    figure = pin_figure(pins[1])
    assert figure.layout.meta["caption"] == figures[1].layout.meta["caption"]
    assert json.loads(figure.to_json()) == json.loads(figures[1].to_json())
    frame = pin_data(pins[1])
    assert frame.to_dict("list") == {"label": ["=HYPERLINK(1)", "b"], "count": [2, 3]}
    assert pin_data(pins[0]) is None
    assert pin_chart(reopened, figures[0], analysis="x", corpus="c", model=None) > third
    reopened.close()


def test_moving_a_removed_chart_is_a_user_error(store: Store, figures) -> None:
    chart_id = pin_chart(store, figures[0], analysis="lengths", corpus="c", model=None)
    remove_pin(store, chart_id)
    with pytest.raises(UserError, match="no longer in the report"):
        move_pin(store, chart_id, 1)
    with pytest.raises(ValueError):
        move_pin(store, chart_id, 2)


def test_an_existing_version_2_store_gains_the_pins_table(tmp_path: Path) -> None:
    path = tmp_path / "v2.duckdb"
    con = old_store(path, 2)
    con.close()
    store = Store(path)
    assert store.schema_version() == SCHEMA_VERSION
    assert list_pins(store) == []
    store.close()


def test_a_version_5_store_gains_notes_and_a_report_title(tmp_path: Path, figures) -> None:
    path = tmp_path / "v5.duckdb"
    con = old_store(path, 5)
    con.execute(
        "INSERT INTO pinned_charts (title, caption, analysis, corpus, model, figure_json, "
        "position) VALUES ('old', 'c', 'lengths', 'reviews', '', ?, 1)",
        [figures[0].to_json()],
    )
    con.close()
    store = Store(path)
    assert store.schema_version() == SCHEMA_VERSION
    [old] = list_pins(store)
    assert old.title == "old" and old.note == ""  # a chart pinned before notes existed
    assert report_title(store) == "EmbedLens report: reviews"
    store.close()


def test_notes_and_the_report_title_are_stored_and_survive_reopening(
    tmp_path: Path, figures
) -> None:
    path = tmp_path / "notes.duckdb"
    store = Store(path)
    assert report_title(store) == "EmbedLens report"  # nothing pinned yet
    first, second, _ = pin_all(store, figures)
    assert report_title(store) == f"EmbedLens report: stdlib_docs, {HOSTILE}"
    set_note(store, second, "  Three classes, one\nof them rare.  ")
    set_report_title(store, "  Quotes:   what the model sees ")
    with pytest.raises(UserError, match="at most 10,000 characters"):
        set_note(store, first, "x" * 10_001)
    store.close()
    reopened = Store(path)
    pins = list_pins(reopened)
    assert [pin.note for pin in pins] == ["", "Three classes, one\nof them rare.", ""]
    assert pins[1].chart().note == "Three classes, one\nof them rare."
    assert report_title(reopened) == "Quotes: what the model sees"
    set_report_title(reopened, " ")  # cleared: back to the default
    assert report_title(reopened) == f"EmbedLens report: stdlib_docs, {HOSTILE}"
    reopened.close()


def test_the_bare_figure_drops_only_the_title_and_the_caption_drawn_inside(figures) -> None:
    styled = figures[0]
    bare = bare_figure(styled)
    assert styled.layout.title.text and bare.layout.title.text is None
    caption = styled.layout.meta["caption"]
    texts = [note.text for note in bare.layout.annotations]
    assert len(texts) == len(styled.layout.annotations) - 1
    assert not any(caption[:30] in text for text in texts)
    assert bare.layout.height < styled.layout.height  # the caption's margin is given back
    assert styled.layout.title.text == figure_title_of(styled)  # the original is untouched


def figure_title_of(fig) -> str:
    return fig.to_dict()["layout"]["title"]["text"]


def test_data_behind_a_chart_downloads_formula_safe(store: Store, figures) -> None:
    pin_all(store, figures)
    data = pin_data(list_pins(store)[1])
    text = csv_bytes(data).decode("utf-8")
    assert text.splitlines() == ["label,count", "'=HYPERLINK(1),2", "b,3"]


def _outside_plotlyjs(page: str) -> str:
    assert page.count(get_plotlyjs()) == 1, "plotly.js must be embedded exactly once"
    return page.replace(get_plotlyjs(), "")


def test_report_html_is_one_self_contained_page(store: Store, figures) -> None:
    pin_all(store, figures)
    pins = list_pins(store)
    page = report_html(pins)
    ours = _outside_plotlyjs(page)
    assert not re.search(r"<script[^>]+src=", ours) and "<link" not in ours
    assert "http://" not in ours and "https://" not in ours
    assert ours.count("Plotly.newPlot") == 3
    assert "<h2>Figure 2. Classes</h2>" in ours
    assert HOSTILE not in ours and html.escape(HOSTILE) in ours
    for pin in pins:
        assert html.escape(provenance(pin)) in ours
    assert "Generated " in ours and "3 charts" in ours
    # each title and caption once: as text, not again inside the plot
    assert ours.count("Text lengths") == 2  # the h2 of charts 1 and 3
    for pin in pins:
        assert ours.count(html.escape(pin.caption[:30])) == 1, pin.caption
    assert "<h1>EmbedLens report</h1>" in ours


def test_the_report_title_and_notes_are_exported(store: Store, figures) -> None:
    first, _, _ = pin_all(store, figures)
    set_note(store, first, "Long tail: see <b>here</b>\n\n[click](https://evil.example)")
    set_report_title(store, "Quotes <2026>")
    pins = list_pins(store)
    ours = _outside_plotlyjs(report_html(pins, report_title(store)))
    assert "<h1>Quotes &lt;2026&gt;</h1>" in ours and "<title>Quotes &lt;2026&gt;</title>" in ours
    assert '<p class="note">Long tail: see &lt;b&gt;here&lt;/b&gt;' in ours
    assert ours.count('<p class="note">') == 1
    with zipfile.ZipFile(io.BytesIO(report_zip(pins, report_title(store)))) as archive:
        index = archive.read("index.md").decode("utf-8")
        page = archive.read("report.html").decode("utf-8")
    assert index.startswith("# Quotes \\<2026\\>\n")
    assert (
        "> Long tail: see \\<b\\>here\\</b\\>\n>\n> \\[click\\]\\(https://evil.example\\)" in index
    )
    assert index.count("Long tail") == 1
    assert "<h1>Quotes &lt;2026&gt;</h1>" in page and "Long tail" in page


def test_report_zip_has_png_and_svg_per_chart_an_index_and_the_html(store: Store, figures) -> None:
    pin_all(store, figures)
    with zipfile.ZipFile(io.BytesIO(report_zip(list_pins(store)))) as archive:
        names = archive.namelist()
        assert {"index.md", "report.html"} <= set(names)
        images = sorted(n for n in names if n.endswith((".png", ".svg")))
        assert len(images) == 6
        assert [n[:3] for n in images] == ["01-", "01-", "02-", "02-", "03-", "03-"]
        assert any(
            re.fullmatch(r"02-stdlib_docs-labels-all-MiniLM-L6-v2-\d{4}-\d\d-\d\d\.png", n)
            for n in images
        )
        for name in images:
            blob = archive.read(name)
            if name.endswith(".png"):
                assert png_size(blob)[0] > 0
            else:
                assert blob.lstrip().startswith(b"<svg")
        index = archive.read("index.md").decode("utf-8")
        assert "[report.html](report.html)" in index
        assert "## Figure 2. Classes" in index
        assert r"\<b\>evil\</b\> & co" in index  # markup shown as text, not rendered
        for name in images:
            assert f"({name})" in index
        _outside_plotlyjs(archive.read("report.html").decode("utf-8"))
