"""The Length page under Streamlit's AppTest, with a real store and the real model (tiny runs)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis.core.config import Limits
from analysis.core.store import Store
from analysis.corpus.corpora import IngestOptions
from analysis.corpus.readers import read_bytes
from analysis.models.tokens import count_tokens
from analysis.output.style import literal
from analysis.vectors.ingest import ingest
from tests.pages.apptest import app_db, chart_titles, finish_job, open_app_page
from tests.shared import DEMO_DOCS, closed_store

pytestmark = pytest.mark.slow  # AppTest with the real model


def _csv(frame: pd.DataFrame) -> bytes:
    return frame[["text", "topic"]].to_csv(index=False).encode("utf-8")


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    """'docs': 12 long docstrings of two topics; 'short': 15 texts under 14 word pieces."""
    frame = pd.read_csv(DEMO_DOCS)
    frame["n"] = count_tokens(frame["text"].tolist())
    frame = frame[frame["topic"].isin(["concurrency", "files & OS"])]
    long = frame[frame["n"].between(40, 250)].groupby("topic").head(6)

    def fill(store: Store) -> None:
        for name, rows in (("docs", long), ("short", frame[frame["n"] < 14].head(15))):
            table = read_bytes(_csv(rows), f"{name}.csv", Limits())
            ingest(store, [table], IngestOptions(name=name, label_columns=["topic"]))

    return closed_store(tmp_path_factory.mktemp("length_template") / "template.duckdb", fill)


@pytest.fixture
def db(tmp_path: Path, template_db: Path, monkeypatch) -> Path:
    return app_db(template_db, tmp_path / "length.duckdb", monkeypatch)


def _length_page(corpus: str) -> AppTest:
    return open_app_page("length", "Length", {"len_corpus_last": corpus})


def _tiny_settings(at: AppTest) -> None:
    at.radio(key="len_mode").set_value("truncate").run()
    at.multiselect(key="len_lengths_truncate").set_value([8, 16, 32]).run()
    at.number_input(key="len_per_bucket").set_value(12).run()
    at.multiselect(key="len_taus").set_value([1.0, 0.8]).run()
    at.selectbox(key="len_label").set_value("topic").run()
    assert not at.exception, at.exception


def test_tiny_run_shows_the_finding_and_every_chart(db: Path) -> None:
    at = _length_page("docs")
    _tiny_settings(at)
    assert not at.error, [e.value for e in at.error]
    estimate = next(c.value for c in at.caption if "Estimated time" in c.value)
    assert "36 texts" in estimate and literal("2 temperature(s) to compute") in estimate
    assert not at.get("plotly_chart")
    at.button(key="len_run").click().run()
    finish_job(at, "len")
    assert not at.error, [e.value for e in at.error]
    finding = at.success[0].value
    assert "At τ = 1, the mean pairwise cosine" in finding and literal("τ = 0.8") in finding
    titles = chart_titles(at)
    assert titles[0] == "Length collapse: mean pairwise cosine by length"
    assert "Task accuracy by length (topic)" in titles and "TempScale sweep" in titles
    assert len(titles) == 9
    what = [c.value for c in at.caption if c.value.startswith("What it measures")]
    assert len(what) == 9
    assert at.button(key="len_collapse_pin") is not None

    at.selectbox(key="len_show_tau").set_value(0.8).run()
    assert "Pooled MPC by layer and length (τ = 0.8)" in chart_titles(at)

    reopened = _length_page("docs")
    _tiny_settings(reopened)
    assert any("Stored result, computed in" in c.value for c in reopened.caption)
    assert len(chart_titles(reopened)) == 9


def test_a_corpus_of_short_texts_names_the_bucket_and_count(db: Path) -> None:
    at = _length_page("short")
    assert at.radio(key="len_mode").value == "buckets"  # no long texts: natural buckets
    message = at.error[0].value
    assert "Too few texts per length bucket" in message
    assert literal("[0,16): 15 text(s); [16,32): 0 text(s)") in message
    assert not at.get("plotly_chart") and "job_len" not in at.session_state


def test_lsa_is_explained_not_run(db: Path) -> None:
    at = _length_page("docs")
    at.selectbox(key="len_model").set_value("LSA baseline (TF-IDF + SVD)").run()
    assert not at.exception
    assert any("need a transformer" in i.value for i in at.info)
    assert not at.error and not at.get("plotly_chart")
