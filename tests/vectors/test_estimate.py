"""Encoding estimates count only what the cache lacks, at the throughput measured here."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.core.store import Store
from analysis.models.throughput import throughput
from analysis.vectors.embedding import embed_corpus
from analysis.vectors.estimate import (
    embedding_estimate,
    encoding_estimate,
    texts_encoding_estimate,
)
from analysis.vectors.layers import layer_vectors
from tests.probe_corpus import NAME, ingest_frame, probe_frame

pytestmark = pytest.mark.slow  # calibrates and runs the bundled model on 20 texts


def test_layers_estimate_counts_only_uncached_texts(tmp_path: Path) -> None:
    store = Store(tmp_path / "estimate.duckdb")
    frame = probe_frame().head(20)
    frame.loc[5, "text"] = frame.loc[2, "text"]  # a repeated text is encoded once
    corpus = ingest_frame(store, frame)
    cold = encoding_estimate(store, corpus, "default", "mean")
    assert cold.texts == 19 and cold.tokens > 19 * 2
    measured = throughput("default", "layers")
    assert cold.seconds == pytest.approx(measured.seconds(cold.texts, cold.tokens))
    assert "tokens/s on this machine" in cold.basis

    layer_vectors(store, corpus)
    warm = encoding_estimate(store, corpus, "default", "mean")
    assert (warm.texts, warm.tokens, warm.seconds) == (0, 0, 0.0)
    # another pooling is another cache entry: still to encode
    assert encoding_estimate(store, corpus, "default", "last").texts == 19
    # free texts: the cached ones count nothing, a new one counts
    texts = [*frame["text"].head(3), "A text nobody has encoded yet."]
    assert texts_encoding_estimate(store, texts, "default", "mean").texts == 1
    store.close()


def test_embedding_estimate_is_zero_once_embedded(tmp_path: Path) -> None:
    store = Store(tmp_path / "embed.duckdb")
    corpus = ingest_frame(store, probe_frame().head(12))
    before = embedding_estimate(store, corpus, "default")
    assert before.seconds > 0 and "(output) measured at" in before.basis
    embed_corpus(store, NAME)
    after = embedding_estimate(store, corpus, "default")
    assert after.seconds == 0 and "every vector needed is cached" in after.basis
    assert "LSA" in embedding_estimate(store, corpus, "lsa").basis
    store.close()
