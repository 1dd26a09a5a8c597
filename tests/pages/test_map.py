"""The Map page under Streamlit's AppTest, with a real store, the real model and real UMAP."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analysis.core.config import Limits
from analysis.core.jobs import Job, job_runner
from analysis.core.store import Store, open_store
from analysis.corpus.corpora import Corpus, IngestOptions, get_corpus
from analysis.corpus.readers import read_bytes
from analysis.map import projection as projection_module
from analysis.map.cluster_analysis import ClusteringAnalysis
from analysis.map.cluster_runs import ClusterRequest
from analysis.map.projection import ProjectionParams
from analysis.map.projection_analysis import ProjectionAnalysis
from analysis.output.style import literal
from analysis.vectors.catalogue import CorpusModel, corpus_models
from analysis.vectors.embedding import embed_corpus
from analysis.vectors.ingest import ingest
from tests.pages.apptest import app_db, finish_job, open_app_page
from tests.shared import ANIMAL_TEXTS, FINANCE_TEXTS, closed_store, topics_csv

pytestmark = pytest.mark.slow  # AppTest with the real model and real UMAP

HOSTILE = "<script>alert('map')</script> My cat sleeps on the sofa all day."
ANIMALS = [*ANIMAL_TEXTS, HOSTILE]
FINANCE = FINANCE_TEXTS


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    """A closed DuckDB file: 'topics' (40 embedded texts) and 'single' (1 embedded text).

    Built once per module (the model runs once); each test works on its own copy.
    """

    def fill(store: Store) -> None:
        rows = [(t, "animals") for t in ANIMALS] + [(t, "finance") for t in FINANCE]
        tables = [read_bytes(topics_csv(rows), "topics.csv", Limits())]
        ingest(store, tables, IngestOptions(name="topics", label_columns=["topic"]))
        embed_corpus(store, "topics")
        single = [read_bytes(topics_csv([(ANIMALS[0], "animals")]), "single.csv", Limits())]
        ingest(store, single, IngestOptions(name="single"))
        embed_corpus(store, "single")  # every text is cached: the model does not run again

    return closed_store(tmp_path_factory.mktemp("map_template") / "template.duckdb", fill)


@pytest.fixture
def db(tmp_path: Path, template_db: Path, monkeypatch) -> Path:
    return app_db(template_db, tmp_path / "map.duckdb", monkeypatch)


def _map_page(corpus: str | None = None) -> AppTest:
    """The app opened on the Map page, on ``corpus`` when given."""
    return open_app_page("map", "Map", None if corpus is None else {"map_corpus_last": corpus})


def _figure(at: AppTest) -> dict:
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def _array(value: object) -> list:
    """A trace array from the spec: plotly writes numeric arrays as base64 typed arrays."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def _trace_names(figure: dict) -> list[str]:
    return [trace.get("name") for trace in figure["data"]]


def _topics(db: Path) -> tuple[Store, Corpus, CorpusModel]:
    """The app's own store (one per file and process), its 'topics' corpus and model."""
    store = open_store(db)
    corpus = get_corpus(store, "topics")
    return store, corpus, corpus_models(store, corpus)[0]


def _job(at: AppTest, slot: str) -> Job:
    job = job_runner().get(at.session_state[f"job_{slot}"])
    assert job is not None
    return job


def _umap_map(db: Path) -> AppTest:
    """The Map page on 'topics' after its background UMAP job has finished."""
    at = _map_page("topics")
    assert "PCA preview" in at.info[0].value
    title = _figure(at)["layout"]["title"]["text"]
    assert title.startswith("PCA map — topics"), title
    # The job is the engine's: keyed and named by the bound analysis, not by the page.
    requested = ProjectionAnalysis(*_topics(db), ProjectionParams())
    job = _job(at, "project")
    assert job.key == requested.job_key and job.label == "UMAP map of topics"
    finish_job(at, "project")
    return at


def test_no_embedded_corpus_shows_the_info(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EMBEDLENS_DB", str(tmp_path / "empty.duckdb"))
    at = _map_page()
    assert [i.value for i in at.info] == [
        "No embedded corpus yet. Add and embed one on the Corpora page."
    ]
    assert not at.get("plotly_chart")
    assert not at.error


def test_pca_preview_then_umap_with_faithfulness_and_colours(db: Path) -> None:
    at = _umap_map(db)
    assert not at.error, [e.value for e in at.error]
    assert not any("PCA preview" in i.value for i in at.info)
    figure = _figure(at)
    assert figure["layout"]["title"]["text"].startswith("UMAP map — topics")
    assert sorted(_trace_names(figure)) == ["animals", "finance"]
    drawn = [doc for trace in figure["data"] for doc in _array(trace["customdata"])]
    assert sorted(drawn) == list(range(40))
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"Trustworthiness@10", "Continuity", "kNN recall@10"}
    assert 0.0 <= float(metrics["Trustworthiness@10"]) <= 1.0
    assert 0.0 <= float(metrics["Continuity"]) <= 1.0
    options = at.selectbox(key="map_colour").options
    assert options == ["topic", "token length", "(none)"]
    at.selectbox(key="map_colour").set_value("token length").run()
    assert not at.exception
    numeric = _figure(at)["data"]
    assert len(numeric) == 1 and numeric[0]["marker"]["showscale"] is True
    assert at.subheader[-1].value == "Selected documents (0)"


def test_search_and_kmeans_clusters(db: Path) -> None:
    at = _umap_map(db)
    at.text_input(key="map_query").input("stock market and interest rates").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    results = next(df.value for df in at.dataframe if "score" in df.value.columns)
    assert len(results) == 10
    assert list(results.columns) == ["doc_id", "topic", "text", "score"]
    assert results["score"].is_monotonic_decreasing
    assert set(results["topic"].head(3)) == {"finance"}
    top_three = results["text"].head(3).tolist()
    assert all(text in FINANCE for text in top_three), top_three
    figure = _figure(at)
    assert "search results" in _trace_names(figure)
    ring = next(t for t in figure["data"] if t["name"] == "search results")
    assert sorted(_array(ring["customdata"])) == sorted(results["doc_id"].tolist())

    at.selectbox(key="cl_method").set_value("kmeans").run()
    at.number_input(key="cl_k").set_value(2).run()
    at.button(key="cl_run").click().run()
    assert not at.exception, at.exception
    request = ClusterRequest(method="kmeans", k=2)
    assert _job(at, "cluster").key == ClusteringAnalysis(*_topics(db), request).job_key
    finish_job(at, "cluster")
    assert not at.error, [e.value for e in at.error]
    clusters = next(df.value for df in at.dataframe if "keywords" in df.value.columns)
    assert clusters["cluster"].tolist() == [0, 1]
    assert clusters["size"].sum() == 40
    assert any(
        c.value.startswith(literal("k-means (k 2, ")) and "2 clusters" in c.value
        for c in at.caption
    )
    options = at.selectbox(key="map_colour").options
    assert options == ["topic", "token length", "cluster", "(none)"]
    at.selectbox(key="map_colour").set_value("cluster").run()
    assert not at.exception
    names = [n for n in _trace_names(_figure(at)) if n != "search results"]
    assert len(names) == 2 and all(n.startswith(("0: ", "1: ")) for n in names), names


def test_search_k_and_the_number_of_coloured_classes(db: Path) -> None:
    at = _map_page("topics")
    at.number_input(key="map_search_k").set_value(3).run()
    at.text_input(key="map_query").input("stock market and interest rates").run()
    results = next(df.value for df in at.dataframe if "score" in df.value.columns)
    assert len(results) == 3 and "topic" in results.columns
    ring = next(t for t in _figure(at)["data"] if t["name"] == "search results")
    assert sorted(_array(ring["customdata"])) == sorted(results["doc_id"].tolist())
    assert at.number_input(key="map_categories").value == 20
    at.number_input(key="map_categories").set_value(1).run()
    traces = sorted(_figure(at)["data"], key=lambda trace: trace.get("legendrank", 1000))
    names = [trace["name"] for trace in traces if trace["name"] != "search results"]
    assert names == ["animals", "other (1 value)"]  # a tie in size: value order; grey last
    finish_job(at, "project")


def test_hdbscan_settings_are_suggested_and_all_noise_is_said_plainly(db: Path) -> None:
    at = _map_page("topics")
    size = at.number_input(key="cl_min_cluster_size")
    assert size.value is None and size.placeholder == "5 (suggested)"
    assert "n / 200 rounded" in size.help
    assert at.number_input(key="cl_min_samples").placeholder == "2 (suggested)"
    at.number_input(key="cl_min_cluster_size").set_value(40).run()  # one group of 40: no split
    at.button(key="cl_run").click().run()
    request = ClusterRequest(min_cluster_size=40, min_samples=10)
    assert _job(at, "cluster").key == ClusteringAnalysis(*_topics(db), request).job_key
    finish_job(at, "cluster")
    reading = next(c.value for c in at.caption if literal("min_cluster_size 40") in c.value)
    (warning,) = [w.value for w in at.warning if "noise" in w.value]
    assert warning.startswith(literal("HDBSCAN found no cluster: all 40 documents are noise"))
    reading = next(c.value for c in at.caption if "min\\_cluster\\_size 40" in c.value)
    assert "{" not in reading and literal("Silhouette: undefined (it needs") in reading
    finish_job(at, "project")


def test_hostile_text_is_escaped_in_the_hover(db: Path) -> None:
    at = _map_page("topics")  # the PCA preview carries the same hover text as the UMAP map
    spec = at.get("plotly_chart")[0].proto.spec
    hover = [text for trace in json.loads(spec)["data"] for text in trace["text"]]
    assert len(hover) == 40
    assert not any("<script" in text.lower() for text in hover)
    assert any("&lt;script&gt;alert('map')&lt;/script&gt;" in text for text in hover)
    assert "<script" not in json.dumps(json.loads(spec)).lower()
    finish_job(at, "project")  # let the background job end inside this test's store
    spec = at.get("plotly_chart")[0].proto.spec
    assert "<script" not in json.dumps(json.loads(spec)).lower()


def test_one_document_corpus_gives_a_clear_error(db: Path) -> None:
    at = _map_page("single")
    assert at.selectbox(key="map_corpus").value == "single"
    assert [e.value for e in at.error] == [
        literal("A map needs at least 3 documents; this corpus has 1. Add texts first.")
    ]
    assert not at.get("plotly_chart")
    assert "job_project" not in at.session_state


def test_the_corpus_is_the_largest_embedded_then_the_one_last_used_on_the_map(db: Path) -> None:
    at = open_app_page("map", "Map", {"inspect": "single"})  # inspected on the Corpora page
    assert at.selectbox(key="map_corpus").value == "topics"  # 40 texts, not the 1-text one
    finish_job(at, "project")
    at.selectbox(key="map_corpus").set_value("single").run()
    at.switch_page("pages/corpora.py").run()
    at.selectbox(key="inspect_select").set_value("topics").run()
    at.switch_page("pages/map.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="map_corpus").value == "single"


def test_a_failed_map_job_is_reported_not_restarted(db: Path, monkeypatch) -> None:
    def broken_umap(*args, **kwargs):
        raise RuntimeError("layout exploded")

    real_umap = projection_module._run_umap
    monkeypatch.setattr(projection_module, "_run_umap", broken_umap)
    at = _map_page("topics")
    first = at.session_state["job_project"]
    assert job_runner().wait(first).status == "failed"
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["job_project"] == first, "the failed job was silently restarted"
    assert [e.value for e in at.error] == ["Internal error: RuntimeError: layout exploded"]
    assert "could not be made" in at.info[0].value
    assert _figure(at)["layout"]["title"]["text"].startswith("PCA map — topics")
    assert not job_runner().active()

    monkeypatch.setattr(projection_module, "_run_umap", real_umap)
    at.button(key="map_retry").click().run()
    assert at.session_state["job_project"] != first
    finish_job(at, "project")
    assert not at.error, [e.value for e in at.error]
    assert _figure(at)["layout"]["title"]["text"].startswith("UMAP map — topics")


def _stored_pca(db: Path) -> None:
    """The 'topics' PCA map stored, as the page (or the CLI) leaves it."""
    store, corpus, record = _topics(db)
    projection_module.project(store, corpus, record, ProjectionParams(method="pca"))


def test_a_stored_map_reopens_without_reading_vectors_or_every_document(
    db: Path, monkeypatch
) -> None:
    _stored_pca(db)

    def refused(*args, **kwargs):
        raise AssertionError("the Map page read every vector or every document")

    from analysis.corpus import corpora
    from analysis.map import projection_analysis
    from analysis.vectors import search

    at = open_app_page("map", "Map", {"map_corpus_last": "topics", "map_method": "pca"})
    for module, name in [
        (search, "load_vectors"),
        (projection_module, "load_vectors"),
        (corpora, "load_documents"),
        (projection_analysis, "load_documents"),
    ]:
        monkeypatch.setattr(module, name, refused)
    st.cache_resource.clear()  # as in a new server process: nothing of the map kept
    st.cache_data.clear()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.run()  # a rerun too
    assert not at.exception and not at.error, [e.value for e in at.error]
    figure = _figure(at)
    assert figure["layout"]["title"]["text"].startswith("PCA map — topics")
    hover = [text for trace in figure["data"] for text in trace["text"]]
    assert len(hover) == 40 and any(text.startswith("Owls hunt") for text in hover)


def test_a_large_map_shows_the_density_of_every_point(db: Path, monkeypatch) -> None:
    from analysis.map import map_drawing

    _stored_pca(db)
    monkeypatch.setattr(map_drawing, "DENSITY_ABOVE", 10)  # 'topics' (40) counts as large
    monkeypatch.setattr(map_drawing, "VIEW_POINTS", 5)
    at = open_app_page("map", "Map", {"map_corpus_last": "topics", "map_method": "pca"})
    at.text_input(key="map_query").input("stock market and interest rates").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    figure = _figure(at)
    assert figure["data"][0]["type"] == "image"
    assert figure["data"][0]["source"].startswith("data:image/png;base64,")
    assert {"animals", "finance", "search results"} <= set(_trace_names(figure))
    ring = next(t for t in figure["data"] if t["name"] == "search results")
    results = next(df.value for df in at.dataframe if "score" in df.value.columns)
    assert sorted(_array(ring["customdata"])) == sorted(results["doc_id"].tolist())
    assert any("Showing the density of all 40 points" in c.value for c in at.caption)
    assert any(c.value.startswith("Search: exact cosine search over 40") for c in at.caption)
    assert at.subheader[-1].value == "Selected documents (0)"
