"""The Probes page under AppTest: run a probe in the background, see the reading and the charts,
reopen the stored result instantly, and get a clear message for a label that cannot be probed."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.core.store import Store
from analysis.output.style import literal
from tests.pages.apptest import chart_titles, finish_job, open_app_page
from tests.probe_corpus import NAME, ingest_pairs

pytestmark = pytest.mark.slow  # AppTest on the 'docs' store; the real model runs


def probes_page() -> AppTest:
    return open_app_page("probes", "Probes")


def test_no_labelled_corpus_shows_the_info(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EMBEDLENS_DB", str(tmp_path / "empty.duckdb"))
    at = probes_page()
    assert "No corpus with a label column yet" in at.info[0].value
    assert not at.get("plotly_chart")


def test_probe_runs_in_the_background_and_reopens_stored(docs_db: Path) -> None:
    at = probes_page()
    assert at.selectbox(key="probe_corpus").value == NAME
    assert at.selectbox(key="probe_label").value == "topic"
    assert any("all layers are cached" in c.value for c in at.caption)
    assert any(literal("random-weight encoder: about") in c.value for c in at.caption)
    at.button(key="probe_run").click().run()
    finish_job(at, "probe")
    assert not at.error, [e.value for e in at.error]
    assert "'topic' is decodable" in at.success[0].value
    assert chart_titles(at) == [
        "Where is 'topic' decodable? Probe accuracy per layer",
        "Selectivity per layer",
        "Accuracy by number of dimensions",
    ]
    assert at.button(key="probe_accuracy_pin") is not None  # chart actions under each chart
    assert len(at.dataframe) >= 3

    reopened = probes_page()  # a new session: the stored result, no job
    assert any("Stored result from" in c.value for c in reopened.caption)
    assert "job_probe" not in reopened.session_state
    assert len(reopened.get("plotly_chart")) == 3


def test_a_label_with_classes_too_small_is_refused_before_running(docs_db: Path) -> None:
    at = probes_page()
    at.selectbox(key="probe_label").set_value("kind").run()
    assert not at.exception, at.exception
    assert len(at.error) == 1 and "too few for 5 folds" in at.error[0].value  # before any run
    assert literal("'module' (8), 'class' (14), 'function' (24).") in at.error[0].value
    assert not at.get("plotly_chart")
    assert "probe_run" not in [b.key for b in at.button]
    assert at.button(key="probe_small_drop").label == "Drop these 3 classes"
    at.button(key="probe_small_merge").click().run()  # the way out, right under the message
    assert not at.error, [e.value for e in at.error]
    assert at.number_input(key="probe_min_class_size").value == 25
    assert at.radio(key="probe_small_classes").value == "merge"
    assert "probe_run" in [b.key for b in at.button]
    assert any("2 classes" in c.value for c in at.caption)  # the estimate: method and other
    at.number_input(key="probe_min_class_size").set_value(0).run()
    assert "too few for 5 folds" in at.error[0].value  # back to every class: refused again
    at.selectbox(key="probe_label").set_value("topic").run()
    assert not at.error
    assert "probe_run" in [b.key for b in at.button]


def test_lsa_has_no_layers_to_probe(docs_db: Path) -> None:
    at = probes_page()
    at.selectbox(key="probe_model").set_value("LSA baseline (TF-IDF + SVD)").run()
    assert "no layers to probe" in at.info[0].value
    assert not at.button


def test_paper_mode(docs_db: Path) -> None:
    at = probes_page()
    at.radio(key="probe_mode").set_value("Paper mode (Concept Depth replication)").run()
    at.button(key="paper_run").click().run()
    finish_job(at, "paper")
    assert not at.error, [e.value for e in at.error]
    assert literal("Paper mode (0.6/0.4, random_state 42)") in at.success[0].value
    assert chart_titles(at) == ["Concept Depth (paper mode)"]


def test_layer_by_dimension_heatmap_option(docs_db: Path) -> None:
    at = probes_page()
    at.multiselect(key="probe_dims").set_value([16])
    at.checkbox(key="probe_heatmap").check().run()
    assert any("plus heatmap about" in c.value for c in at.caption)
    at.button(key="probe_run").click().run()
    finish_job(at, "probe")
    assert chart_titles(at)[-1] == "Layer × dimension"
    at.toggle(key="probe_heatmap_relative").set_value(True).run()
    assert chart_titles(at)[-1] == "Layer × dimension (% of full model)"


def test_sentence_pairs(docs_db: Path) -> None:
    store = Store(docs_db)
    ingest_pairs(store)
    store.close()
    at = probes_page()
    at.selectbox(key="probe_corpus").set_value("pairs").run()
    at.radio(key="probe_mode").set_value("Sentence pairs").run()
    at.selectbox(key="pairs_b").set_value("text_b")
    at.selectbox(key="pairs_score").set_value("score").run()
    at.button(key="pairs_run").click().run()
    finish_job(at, "pairs")
    assert not at.error, [e.value for e in at.error]
    assert "Spearman ρ × 100" in at.success[0].value
    assert chart_titles(at) == ["Layer × dimension"]


def test_output_only_models_are_not_offered_where_layers_are_read(docs_db: Path) -> None:
    probes = probes_page().selectbox(key="probe_model").options
    assert any("bundled" in option for option in probes)
    assert not any("int8" in option for option in probes)
    corpora = open_app_page("corpora", "Corpora").selectbox(key="embed_model").options
    assert any("int8" in option for option in corpora)
