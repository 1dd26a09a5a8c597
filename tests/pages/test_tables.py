"""The Tables page under Streamlit's AppTest, with a real store and the real model (small runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.core.store import Store, open_store
from analysis.output.style import literal
from analysis.tables.context import TablesRequest
from analysis.tables.data import demo_tables
from analysis.tables.property_run import TablePropertyRun
from tests.pages.apptest import chart_titles, finish_job, open_app_page

pytestmark = pytest.mark.slow  # AppTest with the real model


@pytest.fixture
def db(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "tables.duckdb"
    monkeypatch.setenv("EMBEDLENS_DB", str(path))
    return path


def _tables_page() -> AppTest:
    return open_app_page("tables", "Tables")


def _choose(at: AppTest, tables: list[str], properties: list[str]) -> None:
    at.multiselect(key="tab_tables").set_value(tables).run()
    at.multiselect(key="tab_properties").set_value(properties).run()
    assert not at.exception, at.exception


def test_page_opens_with_demo_tables_and_an_estimate(db: Path) -> None:
    at = _tables_page()
    assert at.multiselect(key="tab_tables").value == ["countries", "employees"]
    assert "products" in at.multiselect(key="tab_tables").options
    assert any("Estimated time" in caption.value for caption in at.caption)
    assert at.button(key="tab_row-order_run")


def test_column_order_run_shows_reading_figures_and_invariance(db: Path) -> None:
    at = _tables_page()
    _choose(at, ["products"], ["column-order"])
    at.button(key="tab_column-order_run").click().run()
    finish_job(at, "tab_column-order", timeout=300)
    assert at.subheader[0].value == "Column order insignificance"
    assert "column order" in at.success[0].value.lower()
    titles = chart_titles(at)
    assert any("Column order insignificance: mean cosine" in t for t in titles)
    assert any("MCV" in t for t in titles)
    # per-item column embeddings are invariant by construction, and the page says so
    assert any("invariant to this change by design" in w.value for w in at.warning)
    summary = next(df.value for df in at.dataframe if "status" in df.value.columns)
    per_item = summary[(summary["granularity"] == "column") & (summary["mode"] == "per-item")]
    assert set(per_item["status"]) == {"invariant by design"}
    rows = summary[(summary["granularity"] == "row") & (summary["status"] == "ok")]
    assert len(rows) == 1 and rows["cosine"].iloc[0] < 0.999


def test_a_stored_run_reopens_without_running(db: Path) -> None:
    table = next(t for t in demo_tables() if t.name == "products")
    store = Store(db)
    TablePropertyRun(store, [table], TablesRequest(property="row-order", permutations=2)).run()
    store.close()
    at = _tables_page()
    _choose(at, ["products"], ["row-order"])
    at.number_input(key="tab_k").set_value(2).run()
    assert not any("Estimated time" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key == "tab_row-order_run"]
    assert at.subheader[0].value == "Row order insignificance"
    assert "Stored result" in at.caption[-1].value or any(
        "Stored result" in c.value for c in at.caption
    )
    at.selectbox(key="tab_reopen").select_index(0).run()
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader].count("Row order insignificance") == 2


def test_an_uploaded_table_is_chosen_right_after_the_upload(db: Path) -> None:
    at = _tables_page()
    assert at.multiselect(key="tab_tables").value == ["countries", "employees"]
    content = b"item,warehouse\nLaptop,North\nPhone,South\nDesk,North\nLamp,East\n"
    at.file_uploader(key="tab_upload").set_value(("stock.csv", content, "text/csv")).run()
    at.button(key="tab_add").click().run()
    assert not at.exception, at.exception
    assert at.multiselect(key="tab_tables").value == ["stock"]  # not the previous choice
    assert any("Added 'stock' (4 rows × 2 cols) and chose it below." in s.value for s in at.success)
    at.multiselect(key="tab_tables").set_value(["stock", "products"]).run()  # still free to change
    assert at.multiselect(key="tab_tables").value == ["stock", "products"]


def test_functional_dependencies_list_every_dependency_found(db: Path) -> None:
    at = _tables_page()
    _choose(at, ["employees"], ["functional-dependencies"])
    at.multiselect(key="tab_models").set_value(["LSA baseline (TF-IDF + SVD)"]).run()
    at.button(key="tab_functional-dependencies_run").click().run()
    finish_job(at, "tab_functional-dependencies", timeout=300)
    assert not at.exception, at.exception
    reading = at.success[0].value  # Markdown source: names are shown literally
    found = next(df.value for df in at.dataframe if "determinant" in df.value.columns)
    pairs = list(zip(found["determinant"], found["dependent"], strict=True))
    assert ("job_title", "office_country") in pairs and len(pairs) == 11
    assert reading.startswith(literal("11 exact FD(s) discovered in 1 table(s) (employees: "))
    assert literal("employees: job_title -> office_country") in reading


def test_an_uploaded_table_can_be_picked_and_deleted_after_confirmation(db: Path) -> None:
    from analysis.tables.data import read_table_bytes
    from analysis.tables.store import save_table, stored_tables

    store = Store(db)
    save_table(store, read_table_bytes(b"item,stock\nLaptop,3\nDesk,5\n", "stock.csv"))
    store.close()
    at = _tables_page()
    assert "stock" in at.multiselect(key="tab_tables").options
    at.button(key="tab_delete").click().run()
    assert any("Delete the uploaded table 'stock'?" in w.value for w in at.warning)
    at.button(key="tab_delete_no").click().run()
    assert "stock" in at.multiselect(key="tab_tables").options
    at.button(key="tab_delete").click().run()
    at.button(key="tab_delete_yes").click().run()
    assert not at.exception, at.exception
    assert "stock" not in at.multiselect(key="tab_tables").options
    assert stored_tables(open_store(db)) == []
