"""The Compare page under AppTest: MiniLM against LSA (CKA, overlap, change map, documents that
moved most), and the layer x layer CKA heatmap."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.apptest import chart_titles, finish_job, open_app_page
from tests.probe_corpus import NAME

pytestmark = pytest.mark.slow  # AppTest on the 'docs' store; the real model runs


def compare_page() -> AppTest:
    return open_app_page("compare", "Compare")


def finish(at: AppTest, slot: str) -> None:
    finish_job(at, slot)
    assert not at.error, [e.value for e in at.error]


def test_no_embedded_corpus_shows_the_info(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EMBEDLENS_DB", str(tmp_path / "empty.duckdb"))
    at = compare_page()
    assert at.info[0].value == "No embedded corpus yet. Add and embed one on the Corpora page."


def test_minilm_against_lsa(docs_db: Path) -> None:
    at = compare_page()
    assert at.selectbox(key="cmp_corpus").value == NAME
    assert at.selectbox(key="cmp_a").value == "all-MiniLM-L6-v2 (output)"
    assert at.selectbox(key="cmp_b").value.startswith("LSA")
    assert any("every vector needed is stored" in c.value for c in at.caption)
    at.button(key="compare_run").click().run()
    finish(at, "compare")
    assert at.success[0].value.startswith("Linear CKA")
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"Linear CKA", "Mean kNN overlap@10", "Spearman of distances"}
    assert 0 < float(metrics["Linear CKA"]) < 1
    assert chart_titles(at)[0] == "Neighbourhood overlap per text"
    assert chart_titles(at)[1].startswith("Where A and B disagree — PCA map of docs")
    changed = at.dataframe[-1].value
    assert len(changed) == 20 and {"doc_id", "change", "drift", "text"} <= set(changed.columns)
    assert changed["change"].is_monotonic_decreasing and (changed["change"] > 0).all()
    note = next(c.value for c in at.caption if "Ranked by change" in c.value)
    assert "changed texts listed" in note and "unchanged texts" in note


def test_layer_by_layer_cka(docs_db: Path) -> None:
    at = compare_page()
    at.radio(key="cmp_mode").set_value("Layer × layer CKA").run()
    at.button(key="layers_run").click().run()
    finish(at, "layers")
    assert "Adjacent layers have CKA" in at.success[0].value
    assert chart_titles(at) == ["Layer × layer CKA — all-MiniLM-L6-v2"]
