"""Per-layer pooled representations of texts that are not a whole corpus, through the same cache.

``layer_vectors`` reads a stored corpus end to end. Two analyses need per-layer vectors of other
texts: the stratified subsample a probe of a very large corpus works on (encoding 100k texts to
probe 2,000 of them would waste an hour), and the second sentence of each pair in a sentence-pair
corpus. Both go through the content-addressed cache with the same keys, so vectors computed here
and by ``layer_vectors`` are shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from analysis.core.progress import ProgressFn
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, sha256_texts
from analysis.vectors.layers import LayerVectors, cached_layer_vectors, layer_vectors


def text_layer_vectors(
    store: Store,
    texts: Sequence[str],
    model_spec: str = "default",
    pooling: str = "mean",
    max_length: int = 0,
    progress: ProgressFn | None = None,
) -> LayerVectors:
    """Every layer's pooled states of these texts, float32 [layers + 1, len(texts), dim]."""
    texts = list(texts)
    return cached_layer_vectors(
        store, sha256_texts(texts), texts, model_spec, pooling, max_length, progress
    )


def corpus_rows_layer_vectors(
    store: Store,
    corpus: Corpus,
    rows: np.ndarray,
    texts: Sequence[str],
    model_spec: str = "default",
    pooling: str = "mean",
    max_length: int = 0,
    progress: ProgressFn | None = None,
) -> LayerVectors:
    """Per-layer vectors of some rows of a corpus, [layers + 1, len(rows), dim].

    All rows: ``layer_vectors`` (the corpus's own path); a subset: only those texts are encoded.
    ``texts`` are the rows' texts, in the same order.
    """
    if rows.size == corpus.n_rows:
        whole = layer_vectors(store, corpus, model_spec, pooling, max_length, progress)
        return replace(whole, tensor=whole.tensor[:, rows])
    return text_layer_vectors(store, texts, model_spec, pooling, max_length, progress)
