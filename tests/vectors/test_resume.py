"""Embedding commits chunk by chunk: a killed run keeps its finished chunks, and the next run
encodes only what is missing and ends with the same vectors as an uninterrupted one."""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.corpus.corpora import IngestOptions, get_corpus
from analysis.corpus.readers import read_bytes
from analysis.vectors.catalogue import corpus_models, load_vectors
from analysis.vectors.embedding import embed_corpus
from analysis.vectors.ingest import ingest
from tests.shared import DEMO_DOCS, spawn_python

TEXTS = pd.read_csv(DEMO_DOCS)["text"].iloc[::7].head(240).tolist()
CHUNK = 40


def docs_store(path: Path) -> Store:
    store = Store(path)
    csv = pd.DataFrame({"text": TEXTS}).to_csv(index=False).encode("utf-8")
    ingest(store, [read_bytes(csv, "docs.csv", Limits())], IngestOptions(name="docs"))
    return store


def cached_count(store: Store) -> int:
    tables = {row[0] for row in store.fetch_all("SHOW TABLES")}
    if "embedding_cache_d384" not in tables:
        return 0
    return store.fetch_all("SELECT count(*) FROM embedding_cache_d384")[0][0]


def test_progress_counts_across_chunks_and_each_chunk_is_committed(
    store: Store, tiny_csv: Path, default_encoder
) -> None:
    ingest(store, [read_bytes(tiny_csv.read_bytes(), "tiny.csv", Limits())], IngestOptions("t"))
    reports: list[tuple[int, int, int]] = []

    def progress(done: int, total: int) -> None:
        reports.append((done, total, cached_count(store)))

    result = embed_corpus(store, "t", "default", progress, chunk_texts=5)
    assert result.encoded == 12
    assert reports[0] == (0, 12, 0) and reports[-1][:2] == (12, 12)
    assert [done for done, _, _ in reports] == sorted(done for done, _, _ in reports)
    # While the third chunk runs, the first two are in the cache already.
    assert {cached for done, _, cached in reports if done > 10} == {10}


def test_a_chunk_must_hold_a_text(store: Store, tiny_csv: Path) -> None:
    ingest(store, [read_bytes(tiny_csv.read_bytes(), "tiny.csv", Limits())], IngestOptions("t"))
    with pytest.raises(UserError, match="at least 1 text"):
        embed_corpus(store, "t", chunk_texts=0)


@pytest.mark.slow
def test_a_killed_embed_resumes_and_ends_like_an_uninterrupted_one(tmp_path: Path) -> None:
    killed_db = tmp_path / "killed.duckdb"
    store = docs_store(killed_db)
    chunks_before_kill = random.Random().randint(1, 4)  # a random point, said on failure
    child = spawn_python(
        "-m", "analysis", "--db", str(killed_db), "embed", "docs", "--chunk", str(CHUNK)
    )
    deadline = time.monotonic() + 300
    while cached_count(store) < chunks_before_kill * CHUNK:
        assert child.poll() is None, child.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    kept = cached_count(store)
    assert chunks_before_kill * CHUNK <= kept < len(TEXTS), chunks_before_kill
    assert kept % CHUNK == 0  # whole chunks only
    corpus = get_corpus(store, "docs")
    assert corpus_models(store, corpus) == []  # not embedded until every vector is in

    again = spawn_python("-m", "analysis", "--db", str(killed_db), "embed", "docs")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    summary = json.loads(out)
    assert summary["cached"] == kept and summary["encoded"] == len(TEXTS) - kept
    (model,) = corpus_models(store, corpus)
    resumed = load_vectors(store, corpus, model.model_key, model.dim)

    whole = docs_store(tmp_path / "whole.duckdb")
    embed_corpus(whole, "docs")
    whole_corpus = get_corpus(whole, "docs")
    uninterrupted = load_vectors(whole, whole_corpus, model.model_key, model.dim)
    # Other batch neighbours pad differently: equal up to float32 rounding.
    np.testing.assert_allclose(resumed, uninterrupted, atol=1e-5)
