"""Per-layer pooled representations of a corpus, through the same content-addressed cache.

Probes, length diagnostics and layer comparisons all need every layer of every text; each
(model, layer, pooling, max length) is cached like the model's own output, so a second analysis
of the same corpus never runs the transformer again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, load_documents
from analysis.models.encoders import Encoder, ModelInfo, load_encoder
from analysis.models.pooling import POOLINGS
from analysis.models.throughput import observe
from analysis.vectors.cache import (
    Representation,
    cached_hashes,
    cached_vectors,
    upsert_model,
    write_cache,
)


@dataclass(frozen=True)
class LayerVectors:
    """float32 [layers + 1, n_texts, dim] in the order asked for (a corpus: doc_id order); index 0
    = embedding-layer output."""

    tensor: np.ndarray
    model: ModelInfo
    pooling: str
    max_length: int
    encoded: int  # texts the transformer ran on (0 when everything came from the cache)

    @property
    def n_layers(self) -> int:
        return self.tensor.shape[0] - 1


def _layer_encoder(
    model_spec: str, pooling: str, max_length: int
) -> tuple[Encoder, list[Representation]]:
    """The encoder for a per-layer analysis and the cache keys of its layers (checked)."""
    if pooling not in POOLINGS:
        raise UserError(f"Unknown pooling '{pooling}'; choose {', '.join(POOLINGS)}.")
    encoder = load_encoder(model_spec)
    info = encoder.info
    if info.n_layers is None:
        raise UserError(f"{info.name} has no layers; choose a transformer model.")
    reps = [Representation(layer, pooling, max_length) for layer in range(info.n_layers + 1)]
    return encoder, reps


def cached_layer_vectors(
    store: Store,
    hashes: Sequence[str],
    texts: Sequence[str],
    model_spec: str = "default",
    pooling: str = "mean",
    max_length: int = 0,
    progress: ProgressFn | None = None,
) -> LayerVectors:
    """Every layer's pooled states of these texts, [layers + 1, len(hashes), dim] in their order.

    The one path every per-layer analysis takes, whatever the texts belong to: the texts not yet
    cached at every layer run through the model once (a repeated hash once), all their layers
    are written in one transaction, and the tensor is read back from the cache. ``hashes`` are
    the texts' sha256, ``texts`` the matching texts in the same order.
    """
    encoder, reps = _layer_encoder(model_spec, pooling, max_length)
    info = encoder.info
    first_text = dict(zip(hashes, texts, strict=True))
    have = set(first_text)
    for rep in reps:
        have &= cached_hashes(store, info.model_key, info.dim, rep, list(first_text))
    missing = [h for h in first_text if h not in have]
    if missing:
        run = [first_text[h] for h in missing]
        start = time.perf_counter()
        tensor = encoder.encode_layers(run, pooling, max_length or None, progress)
        observe(model_spec, "layers", run, time.perf_counter() - start)  # later estimates
        with store.transaction() as cur:
            upsert_model(cur, info)
            for rep, layer in zip(reps, tensor, strict=True):
                write_cache(cur, store, info.model_key, rep, missing, layer)
    elif progress is not None:
        progress(len(first_text), len(first_text))
    stacked = np.stack(
        [cached_vectors(store, info.model_key, info.dim, rep, list(hashes)) for rep in reps]
    )
    return LayerVectors(stacked, info, pooling, max_length, encoded=len(missing))


def layer_vectors(
    store: Store,
    corpus: Corpus,
    model_spec: str = "default",
    pooling: str = "mean",
    max_length: int = 0,
    progress: ProgressFn | None = None,
) -> LayerVectors:
    """Every layer's pooled states for the corpus in doc_id order (max_length 0 = the model's
    own limit)."""
    documents = load_documents(store, corpus, with_metadata=False)
    return cached_layer_vectors(
        store,
        documents["text_sha256"].tolist(),
        documents["text"].tolist(),
        model_spec,
        pooling,
        max_length,
        progress,
    )
