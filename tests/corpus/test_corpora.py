"""Ingest: column choice, cleaning, transactional writes, listing and deletion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.corpus import building as building_module
from analysis.corpus.corpora import (
    IngestOptions,
    delete_corpus,
    get_corpus,
    list_corpora,
    load_documents,
)
from analysis.corpus.readers import read_bytes, read_path
from analysis.vectors.ingest import ingest
from tests.shared import store_snapshot


def _table(text: str, name: str = "t.csv"):
    return read_bytes(text.encode("utf-8"), name, Limits())


def test_ingest_detects_columns_and_keeps_metadata_types(store: Store, tiny_csv: Path) -> None:
    corpus, _ = ingest(store, [read_path(tiny_csv, Limits())], IngestOptions(name="tiny"))
    assert corpus.text_column == "text"
    assert corpus.label_columns == ["topic"]
    assert {c["name"]: c["type"] for c in corpus.metadata_columns} == {
        "topic": "VARCHAR",
        "score": "BIGINT",
    }
    docs = load_documents(store, corpus)
    assert len(docs) == corpus.n_rows == 12
    assert docs["doc_id"].tolist() == list(range(12))
    assert docs.loc[0, "text"] == "The cat sat on the warm mat."
    assert docs.loc[0, "n_tokens"] == 8  # the cat sat on the warm mat .
    assert docs["score"].tolist() == list(range(1, 13))
    assert docs.loc[0, "source"] == "tiny.csv" and docs.loc[0, "source_row"] == 1


def test_empty_texts_are_dropped_and_duplicates_counted(store: Store) -> None:
    table = _table('text,label\nhello there,a\n"  ",b\n,a\nhello there,b\nsecond text,a\n')
    corpus, _ = ingest(store, [table], IngestOptions(name="c"))
    assert (corpus.n_rows, corpus.dropped_empty, corpus.duplicates) == (3, 2, 1)
    assert any("empty" in n for n in corpus.notices)
    assert load_documents(store, corpus)["source_row"].tolist() == [1, 4, 5]


def test_hostile_cells_are_stored_verbatim(store: Store) -> None:
    cells = ["=SUM(A1:A9)", "<script>alert(1)</script>", "'; DROP TABLE corpora; --", "+1-2"]
    body = "text\n" + "\n".join(f'"{c}"' for c in cells) + "\n"
    corpus, _ = ingest(store, [_table(body)], IngestOptions(name="hostile"))
    assert load_documents(store, corpus)["text"].tolist() == cells
    assert [c.name for c in list_corpora(store)] == ["hostile"]


def test_sql_looking_header_is_safe_end_to_end(store: Store) -> None:
    body = 'text,"x""; DROP TABLE corpora; --"\nfirst text,1\nsecond text,2\n'
    corpus, _ = ingest(store, [_table(body)], IngestOptions(name="h", label_columns=[]))
    docs = load_documents(store, corpus)
    assert len(docs) == 2 and corpus.metadata_names[0] in docs.columns
    assert list_corpora(store)[0].name == "h"


def test_several_files_form_one_corpus_with_their_sources(store: Store) -> None:
    a = _table("text,label\nalpha text,x\nbeta text,y\n", "a.csv")
    b = _table("text,label,extra\ngamma text,x,1\n", "b.csv")
    corpus, _ = ingest(store, [a, b], IngestOptions(name="ab"))
    docs = load_documents(store, corpus)
    assert docs["source"].tolist() == ["a.csv", "a.csv", "b.csv"]
    assert corpus.sources == ["a.csv", "b.csv"]
    assert pd.isna(docs.loc[0, "extra"]) and docs.loc[2, "extra"] == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (IngestOptions(name="ok", text_column="nope"), "Text column 'nope' is not in"),
        (IngestOptions(name="bad name!"), "not allowed"),
        (IngestOptions(name="ok", label_columns=["missing"]), "Label column 'missing'"),
        (IngestOptions(name="ok", metadata_columns=["ghost"]), "ghost"),
    ],
)
def test_bad_choices_are_explained(store: Store, options: IngestOptions, message: str) -> None:
    before = store_snapshot(store)
    with pytest.raises(UserError, match=message):
        ingest(store, [_table("text,label\nsome text,a\nmore text,b\n")], options)
    assert store_snapshot(store) == before


def test_text_over_the_limit_names_file_row_and_column(store: Store) -> None:
    long_text = "word " * 50
    table = _table(f"text\nshort\n{long_text}\n", "big.csv")
    with pytest.raises(UserError) as error:
        ingest(store, [table], IngestOptions(name="x"), Limits(max_chars_per_text=100))
    assert "big.csv row 2" in error.value.message and "EMBEDLENS_MAX_CHARS" in error.value.message


def test_all_empty_texts_are_refused(store: Store) -> None:
    with pytest.raises(UserError, match="empty"):
        ingest(store, [_table('text,l\n" ",a\n"",b\n')], IngestOptions(name="x"))
    assert list_corpora(store) == []


def test_duplicate_name_is_refused_and_store_unchanged(store: Store, tiny_csv: Path) -> None:
    ingest(store, [read_path(tiny_csv, Limits())], IngestOptions(name="tiny"))
    before = store_snapshot(store)
    with pytest.raises(UserError, match="already exists"):
        ingest(store, [read_path(tiny_csv, Limits())], IngestOptions(name="tiny"))
    assert store_snapshot(store) == before


def test_failure_during_write_leaves_nothing(store: Store, tiny_csv: Path, monkeypatch) -> None:
    before = store_snapshot(store)

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(building_module, "metadata_arrow", explode)
    with pytest.raises(RuntimeError):
        ingest(store, [read_path(tiny_csv, Limits())], IngestOptions(name="tiny"))
    assert store_snapshot(store) == before


def test_imported_vectors_become_a_model(store: Store, tmp_path: Path) -> None:
    from analysis.vectors.catalogue import corpus_models, load_model_vectors

    csv = tmp_path / "docs.csv"
    csv.write_text("text\nfirst\nsecond\nthird\n")
    matrix = np.arange(12, dtype=np.float32).reshape(3, 4)
    npy = tmp_path / "docs.npy"
    np.save(npy, matrix)
    table = read_path(csv, Limits(), npy_path=npy)
    corpus, _ = ingest(store, [table], IngestOptions(name="vec", vector_model="my-model"))
    models = corpus_models(store, corpus)
    assert [(m.name, m.kind, m.dim) for m in models] == [("my-model", "external", 4)]
    _, _, vectors = load_model_vectors(store, "vec", "my-model")
    np.testing.assert_array_equal(vectors, matrix)


def test_delete_removes_corpus_and_metadata_table(store: Store, tiny_csv: Path) -> None:
    before = store_snapshot(store)
    corpus, _ = ingest(store, [read_path(tiny_csv, Limits())], IngestOptions(name="tiny"))
    delete_corpus(store, "tiny")
    assert list_corpora(store) == []
    assert store_snapshot(store) == before
    with pytest.raises(UserError, match="No corpus named 'tiny'"):
        get_corpus(store, "tiny")
    assert corpus.corpus_id == 1
