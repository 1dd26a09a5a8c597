"""Per-layer vectors: a corpus and free-standing texts take the same cached path, so each text
runs through the model once per setting, whatever asked for it first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.core.store import Store
from analysis.vectors.cache import Representation
from analysis.vectors.catalogue import load_vectors
from analysis.vectors.layers import layer_vectors
from analysis.vectors.text_layers import corpus_rows_layer_vectors, text_layer_vectors
from tests.probe_corpus import ingest_frame, probe_frame

pytestmark = pytest.mark.slow  # the bundled model runs on 20 texts


def test_corpus_and_texts_share_one_cache(tmp_path: Path) -> None:
    store = Store(tmp_path / "layers.duckdb")
    frame = probe_frame().head(20)
    frame.loc[5, "text"] = frame.loc[2, "text"]  # a repeated text runs once
    corpus = ingest_frame(store, frame)
    seen: list[tuple[int, int]] = []
    layers = layer_vectors(store, corpus, progress=lambda done, total: seen.append((done, total)))
    assert layers.tensor.shape == (7, 20, 384) and layers.tensor.dtype == np.float32
    assert layers.encoded == 19 and seen[-1] == (19, 19)
    assert np.array_equal(layers.tensor[:, 5], layers.tensor[:, 2])
    for layer in range(layers.n_layers + 1):  # doc_id order, as the cache holds them
        rep = Representation(layer, "mean", 0)
        stored = load_vectors(store, corpus, layers.model.model_key, layers.model.dim, rep)
        assert np.array_equal(stored, layers.tensor[layer])

    seen.clear()
    again = layer_vectors(store, corpus, progress=lambda done, total: seen.append((done, total)))
    assert again.encoded == 0 and seen == [(19, 19)]  # all cached: progress still ends
    texts = [*frame["text"].head(5), "A text no corpus holds."]
    free = text_layer_vectors(store, texts)
    assert free.encoded == 1 and np.array_equal(free.tensor[:, :5], layers.tensor[:, :5])
    rows = np.array([3, 7])
    subset = corpus_rows_layer_vectors(store, corpus, rows, frame["text"].iloc[rows].tolist())
    assert subset.encoded == 0 and np.array_equal(subset.tensor, layers.tensor[:, rows])
    store.close()
