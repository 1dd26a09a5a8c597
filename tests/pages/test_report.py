"""The Report page and the chart actions under every chart, under Streamlit's AppTest: pinned
charts listed, reordered and removed; pinning from a chart; export without Chromium."""

from __future__ import annotations

import json
from pathlib import Path

from analysis.output.style import literal
from analysis.report.pins import list_pins, pin_data, report_title
from tests.report.charts import HOSTILE, pin_all
from tests.shared import PROJECT_ROOT

REPORT_PAGE = str(PROJECT_ROOT / "pages" / "report.py")
DATA_BUTTONS = ["Data CSV", "Data Parquet"]  # only the chart pinned with its data has them


def test_report_page_lists_reorders_and_removes(monkeypatch, tmp_path: Path, figures) -> None:
    from streamlit.testing.v1 import AppTest

    from analysis.core.store import open_store

    monkeypatch.setenv("EMBEDLENS_DB", str(tmp_path / "page.duckdb"))
    at = AppTest.from_file(REPORT_PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert "No charts pinned yet" in at.info[0].value and "Pin to report" in at.info[0].value
    first, second, third = pin_all(open_store(tmp_path / "page.duckdb"), figures)
    at.run()
    assert not at.exception, at.exception
    assert [h.value for h in at.subheader][1] == "Figure 2. Classes"
    assert at.button(key=f"pin_up_{first}").disabled
    downloads = [element.proto.label for element in at.get("download_button")]
    assert downloads == ["Report (HTML)", "Report (ZIP: PNG + SVG + index.md)", *DATA_BUTTONS]
    assert at.button(key=f"pin_down_{third}").disabled
    at.button(key=f"pin_down_{first}").click().run()
    assert [h.value for h in at.subheader][:2] == [
        "Figure 1. Classes",
        f"Figure 2. {literal('Text lengths — stdlib_docs')}",
    ]
    at.button(key=f"pin_remove_{second}").click().run()
    assert len(at.subheader) == 2 and not at.exception
    assert any(
        literal("model all-MiniLM-L6-v2") not in c.value and "lengths · corpus" in c.value
        for c in at.caption
    )


def test_report_page_shows_titles_once_and_keeps_the_title_and_notes(
    monkeypatch, tmp_path: Path, figures
) -> None:
    from streamlit.testing.v1 import AppTest

    from analysis.core.store import open_store

    monkeypatch.setenv("EMBEDLENS_DB", str(tmp_path / "notes.duckdb"))
    store = open_store(tmp_path / "notes.duckdb")
    first, second, _ = pin_all(store, figures)
    at = AppTest.from_file(REPORT_PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    box = at.text_input(key="report_title")
    assert box.value == "" and box.placeholder == f"EmbedLens report: stdlib_docs, {HOSTILE}"
    for chart, pin in zip(at.get("plotly_chart"), list_pins(store), strict=True):
        layout = json.loads(chart.proto.spec)["layout"]
        assert "text" not in layout.get("title", {})  # the title is the subheader, once
        drawn = " ".join(note.get("text", "") for note in layout.get("annotations", []))
        assert pin.caption[:30] not in drawn  # the caption is the caption below, once
        assert sum(literal(pin.caption) == c.value for c in at.caption) == 1
    box.input("Quotes, long tail").run()
    at.text_area(key=f"pin_note_{second}").input("Merged the rare topics.").run()
    assert not at.exception, at.exception
    assert report_title(store) == "Quotes, long tail"
    assert [pin.note for pin in list_pins(store)] == ["", "Merged the rare topics.", ""]
    reopened = AppTest.from_file(REPORT_PAGE, default_timeout=60)  # a new session
    reopened.run()
    assert reopened.text_input(key="report_title").value == "Quotes, long tail"
    assert reopened.text_area(key=f"pin_note_{second}").value == "Merged the rare topics."
    assert reopened.text_area(key=f"pin_note_{first}").value == ""


def _actions_page() -> None:
    import numpy as np
    import pandas as pd

    from analysis.corpus.figures import length_histogram
    from pages._ui import chart_actions

    figure = length_histogram(np.arange(30), "stdlib_docs")
    data = pd.DataFrame({"n_tokens": np.arange(30)})
    chart_actions(figure, key="hist", corpus="stdlib_docs", analysis="lengths", model="", data=data)


def test_chart_actions_pin_to_the_report(monkeypatch, tmp_path: Path) -> None:
    from streamlit.testing.v1 import AppTest

    from analysis.core.store import open_store

    monkeypatch.setenv("EMBEDLENS_DB", str(tmp_path / "actions.duckdb"))
    at = AppTest.from_function(_actions_page, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    labels = [element.proto.label for element in at.get("download_button")]
    assert labels == ["PNG", "SVG", "PDF", "HTML", *DATA_BUTTONS]
    at.button(key="hist_pin").click().run()
    assert not at.exception, at.exception
    assert "Pinned to the report" in at.toast[0].value
    pins = list_pins(open_store(tmp_path / "actions.duckdb"))
    assert [(p.title, p.analysis, p.corpus) for p in pins] == [
        ("Text lengths — stdlib_docs", "lengths", "stdlib_docs")
    ]
    assert pin_data(pins[0])["n_tokens"].tolist() == list(range(30))


def test_chart_actions_without_chromium_show_the_message(monkeypatch, tmp_path: Path) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("EMBEDLENS_DB", str(tmp_path / "nochrome.duckdb"))
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("analysis.output.figure_files.DEBIAN_CHROMIUM", str(tmp_path / "none"))
    at = AppTest.from_function(_actions_page, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert any("needs Chromium" in caption.value for caption in at.caption)
    enabled = {e.proto.label: not e.proto.disabled for e in at.get("download_button")}
    assert enabled == {
        "PNG": False,
        "SVG": False,
        "PDF": False,
        "HTML": True,
        "Data CSV": True,
        "Data Parquet": True,
    }
