"""Embedding through the cache: parity, reuse across corpora, atomicity, vector export."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.corpus.corpora import IngestOptions, load_documents
from analysis.corpus.readers import read_bytes, read_path
from analysis.vectors import embedding as embedding_module
from analysis.vectors.catalogue import corpus_models, load_model_vectors
from analysis.vectors.embedding import embed_corpus
from analysis.vectors.export import export_vectors
from analysis.vectors.ingest import ingest


@pytest.fixture
def tiny(store: Store, tiny_csv: Path) -> str:
    ingest(store, [read_path(tiny_csv, Limits())], IngestOptions(name="tiny"))
    return "tiny"


def test_embed_stores_vectors_equal_to_plain_encode(store, tiny, default_encoder) -> None:
    result = embed_corpus(store, tiny)
    assert (result.rows, result.dim, result.encoded, result.cached) == (12, 384, 12, 0)
    corpus, record, vectors = load_model_vectors(store, tiny)
    texts = load_documents(store, corpus)["text"].tolist()
    expected = default_encoder.model.encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    assert record.name == "all-MiniLM-L6-v2" and record.n_layers == 6


def test_second_embed_and_other_corpora_reuse_the_cache(store, tiny, monkeypatch) -> None:
    embed_corpus(store, tiny)
    overlap = "text\nThe cat sat on the warm mat.\nA brand new sentence.\n"
    ingest(store, [read_bytes(overlap.encode(), "o.csv", Limits())], IngestOptions(name="o"))

    calls: list[int] = []
    original = embedding_module.load_encoder

    def counting(spec, corpus_texts=None):
        encoder = original(spec, corpus_texts)
        real_encode = encoder.encode

        class Spy:
            info = encoder.info

            def encode(self, texts, progress=None):
                calls.append(len(texts))
                return real_encode(texts, progress)

        return Spy()

    monkeypatch.setattr(embedding_module, "load_encoder", counting)
    again = embed_corpus(store, tiny)
    assert (again.cached, again.encoded) == (12, 0) and calls == []
    other = embed_corpus(store, "o")
    assert (other.cached, other.encoded) == (1, 1) and calls == [1]


def test_duplicate_texts_are_counted_so_the_numbers_add_up(store: Store) -> None:
    body = "text\nSame words.\nSame words.\nSame words.\nOther words.\nThird one.\n"
    ingest(store, [read_bytes(body.encode(), "d.csv", Limits())], IngestOptions(name="d"))
    result = embed_corpus(store, "d", "lsa")
    assert (result.rows, result.encoded, result.cached, result.duplicates) == (5, 3, 0, 2)


def test_failed_embedding_records_nothing(store, tiny, monkeypatch) -> None:
    class Broken:
        info = embedding_module.load_encoder("default").info

        def encode(self, texts, progress=None):
            raise RuntimeError("out of memory")

    monkeypatch.setattr(embedding_module, "load_encoder", lambda *a, **k: Broken())
    with pytest.raises(RuntimeError):
        embed_corpus(store, tiny)
    assert store.fetch_all("SELECT count(*) FROM corpus_embeddings") == [(0,)]
    assert store.fetch_all("SELECT count(*) FROM models") == [(0,)]


def test_baselines_embed_and_are_listed(store, tiny) -> None:
    lsa = embed_corpus(store, tiny, "lsa")
    random = embed_corpus(store, tiny, "random")
    assert lsa.dim == 11 and random.dim == 384
    kinds = [m.kind for m in corpus_models(store, load_model_vectors(store, tiny)[0])]
    assert kinds == ["lsa", "random"]
    _, record, vectors = load_model_vectors(store, tiny, "lsa")
    assert record.kind == "lsa" and vectors.shape == (12, 11)


def test_unknown_model_for_a_corpus_is_explained(store, tiny) -> None:
    with pytest.raises(UserError, match="no embeddings yet"):
        load_model_vectors(store, tiny)
    embed_corpus(store, tiny)
    with pytest.raises(UserError, match="is not embedded with 'lsa'"):
        load_model_vectors(store, tiny, "lsa")


def test_export_parquet_and_npy(store, tiny, tmp_path) -> None:
    embed_corpus(store, tiny)
    out = export_vectors(store, tiny, tmp_path / "v.parquet", None)
    table = pq.read_table(tmp_path / "v.parquet")
    assert out["rows"] == 12 and table.column_names == ["doc_id", "text", "vector"]
    assert table.schema.metadata[b"embedlens_model"].startswith(b"st:all-MiniLM-L6-v2@")
    export_vectors(store, tiny, tmp_path / "v.npy", None)
    matrix = np.load(tmp_path / "v.npy")
    assert matrix.shape == (12, 384)
    np.testing.assert_array_equal(np.stack(table.column("vector").to_numpy(False)), matrix)
    with pytest.raises(UserError, match=r"\.parquet or \.npy"):
        export_vectors(store, tiny, tmp_path / "v.csv", None)


def test_vectors_load_right_after_a_single_row_lookup(store, tiny) -> None:
    """DuckDB refuses a query while a one-row result is unfinished on the same cursor."""
    from analysis.corpus.corpora import get_corpus
    from analysis.vectors.catalogue import load_vectors, resolve_corpus_model

    embed_corpus(store, tiny)
    corpus = get_corpus(store, tiny)
    record = resolve_corpus_model(store, corpus, None)
    corpus = get_corpus(store, tiny)
    vectors = load_vectors(store, corpus, record.model_key, record.dim)
    assert vectors.shape == (12, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_an_unreachable_ray_cluster_is_a_clear_error_in_seconds(
    store, tiny, default_encoder
) -> None:
    start = time.monotonic()
    with pytest.raises(UserError, match=r"Cannot reach the Ray cluster at 127\.0\.0\.1:1 "):
        embed_corpus(store, tiny, engine="ray", address="127.0.0.1:1")
    assert time.monotonic() - start < 10
    assert store.fetch_all("SELECT count(*) FROM corpus_embeddings") == [(0,)]
