"""The Corpora page under Streamlit's AppTest, with a real store and the real model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.core.jobs import job_runner
from analysis.core.store import open_store
from analysis.corpus.corpora import list_corpora
from analysis.output.style import literal
from tests.pages.apptest import APP

pytestmark = pytest.mark.slow  # AppTest with the real model


@pytest.fixture
def app(tmp_path: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("EMBEDLENS_DB", str(tmp_path / "app.duckdb"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _store(tmp_path: Path):
    return open_store(tmp_path / "app.duckdb")


def _listing(at: AppTest):
    """The 'Your corpora' table (AppTest does not expose dataframe keys)."""
    return next(df.value for df in at.dataframe if "models" in df.value.columns)


def _upload(at: AppTest, name: str, content: bytes) -> None:
    at.radio(key="source").set_value("Upload files").run()
    at.file_uploader[0].set_value((name, content, "text/plain")).run()


def test_demo_corpus_loads_and_is_listed(app: AppTest, tmp_path: Path) -> None:
    assert app.title[0].value == "Corpora"
    app.selectbox(key="demo_name").set_value("stdlib_docs_small").run()
    assert app.selectbox(key="text_column").value == "text"
    app.checkbox[0].uncheck().run()
    app.button(key="create").click().run()
    assert not app.exception and not app.error
    assert literal("Created 'stdlib_docs_small': 300 texts") in app.success[0].value
    assert [c.name for c in list_corpora(_store(tmp_path))] == ["stdlib_docs_small"]
    listing = _listing(app)
    assert listing["corpus"].tolist() == ["stdlib_docs_small"]
    assert listing["models"].tolist() == ["not embedded"]


def test_upload_and_embed_in_the_background(app: AppTest, tmp_path: Path, tiny_csv) -> None:
    _upload(app, "tiny.csv", tiny_csv.read_bytes())
    assert app.multiselect(key="label_columns").value == ["topic"]
    app.text_input(key="corpus_name").set_value("tiny").run()
    app.button(key="create").click().run()
    assert not app.error, [e.value for e in app.error]
    job = job_runner().get(app.session_state["job_embed"])
    assert job is not None
    job_runner().wait(job.job_id)
    app.run()
    assert job.status == "done", job.error
    embedded = literal("Embedded tiny with all-MiniLM-L6-v2: 12 texts")
    assert any(embedded in s.value for s in app.success)
    assert any("0 duplicates of another text" in s.value for s in app.success)
    assert _listing(app)["models"].tolist() == ["all-MiniLM-L6-v2"]
    inspected = next(df.value for df in app.dataframe if "backend" in df.value.columns)
    assert inspected["backend"].tolist() == ["PyTorch fp32 (sentence-transformers)"]


def test_broken_upload_shows_a_specific_error(app: AppTest, tmp_path: Path) -> None:
    _upload(app, "broken.jsonl", b'{"text": "fine"}\n{"text": "also fine"}\n{"text": oops}\n')
    assert not app.exception
    assert literal("broken.jsonl line 3") in app.error[0].value
    assert list_corpora(_store(tmp_path)) == []


def test_hostile_cells_render_as_text(app: AppTest, tmp_path: Path) -> None:
    body = b'text,label\n"<script>alert(1)</script> hello",a\n"=1+1 formula",b\n'
    _upload(app, "hostile.csv", body)
    app.checkbox[0].uncheck().run()
    app.button(key="create").click().run()
    assert not app.exception and not app.error
    assert "Created 'hostile': 2 texts" in app.success[0].value
    assert not any("<script>" in m.value for m in app.markdown)


MARKUP = "[click here](https:evil.example) **BOLD**"


def _unescaped_markup(markdown: str) -> bool:
    """Link or emphasis syntax that Markdown would render (not backslash-escaped)."""
    return re.search(r"(?<!\\)[\[\]()*]", markdown) is not None


def test_markup_in_file_and_column_names_shows_as_typed(app: AppTest, tmp_path: Path) -> None:
    _upload(app, f"{MARKUP}.csv", f'"{MARKUP}",topic\nfirst text,a\nsecond text,b\n'.encode())
    column = app.selectbox(key="text_column").value  # the reader tidies headers: "_click here_(…"
    assert "(https" in column and "BOLD" in column
    app.checkbox[0].uncheck().run()
    app.button(key="create").click().run()  # the file's stem is not an allowed corpus name
    (error,) = app.error
    assert error.value.startswith(literal(f"Corpus name '{MARKUP}' is not allowed"))
    assert not _unescaped_markup(error.value)
    app.text_input(key="corpus_name").set_value("safe").run()
    app.button(key="create").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    sources = next(m.value for m in app.markdown if m.value.startswith("**Sources:**"))
    assert literal(f"{MARKUP}.csv") in sources and sources.endswith(literal(column))
    assert not _unescaped_markup(sources.removeprefix("**Sources:**"))


def test_delete_asks_for_confirmation(app: AppTest, tmp_path: Path) -> None:
    app.selectbox(key="demo_name").set_value("stdlib_docs_small").run()
    app.checkbox[0].uncheck().run()
    app.button(key="create").click().run()
    app.button(key="delete").click().run()
    assert "cannot be undone" in app.warning[0].value
    app.button(key="delete_no").click().run()
    assert len(list_corpora(_store(tmp_path))) == 1
    app.button(key="delete").click().run()
    app.button(key="delete_yes").click().run()
    assert list_corpora(_store(tmp_path)) == []
    assert not app.exception


def test_pasted_paragraphs_become_documents(app: AppTest, tmp_path: Path) -> None:
    app.radio(key="source").set_value("Paste text").run()
    app.text_area(key="pasted").set_value(
        "First paragraph\nstill the first.\n\nSecond paragraph.\n\nThird one here."
    ).run()
    assert any("paragraph" in info.value for info in app.info)
    app.text_input(key="corpus_name").set_value("notes").run()
    app.checkbox[0].uncheck().run()
    app.button(key="create").click().run()
    assert not app.exception and not app.error
    assert "Created 'notes': 3 texts" in app.success[0].value


def test_csv_with_npy_uploads_import_vectors(app: AppTest, tmp_path: Path) -> None:
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, np.eye(3, 4, dtype=np.float32))
    app.radio(key="source").set_value("Upload files").run()
    app.file_uploader[0].set_value(
        [
            ("vecs.csv", b"text,label\nalpha,a\nbeta,b\ngamma,a\n", "text/csv"),
            ("vecs.npy", buffer.getvalue(), "application/octet-stream"),
        ]
    ).run()
    assert any(literal("4-dimensional vectors") in info.value for info in app.info)
    app.checkbox[0].uncheck().run()
    app.button(key="create").click().run()
    assert not app.exception and not app.error
    assert _listing(app)["models"].tolist() == ["imported"]


def test_orphan_npy_is_explained(app: AppTest) -> None:
    app.radio(key="source").set_value("Upload files").run()
    app.file_uploader[0].set_value(("lonely.npy", b"\x93NUMPY", "application/octet-stream")).run()
    assert literal("lonely.npy has no CSV/TSV of the same name") in app.error[0].value


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "empty.csv is empty"),
        ("header.csv", b"text,label\n", "no rows"),
        ("bad.parquet", b"PAR1garbagePAR1", "bad.parquet"),
        ("quote.csv", b'text\n"never closed\nmore\n', "quote"),
    ],
)
def test_rejected_uploads_leave_the_store_empty(
    app: AppTest, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    _upload(app, name, content)
    assert not app.exception
    assert literal(expected).lower() in app.error[0].value.lower()
    assert list_corpora(_store(tmp_path)) == []


def test_text_over_the_limit_is_refused_at_creation(app, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EMBEDLENS_MAX_CHARS", "40")
    _upload(app, "long.csv", b"text\nshort text\n" + b"y" * 60 + b"\n")
    app.checkbox[0].uncheck().run()
    app.button(key="create").click().run()
    assert literal("long.csv row 2") in app.error[0].value
    assert list_corpora(_store(tmp_path)) == []
