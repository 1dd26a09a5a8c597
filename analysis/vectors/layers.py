"""Per-layer pooled representations of a corpus, through the same content-addressed cache.

Probes, length diagnostics and layer comparisons all need every layer of every text; each
(model, layer, pooling, max length) is cached like the model's own output, so a second analysis
of the same corpus never runs the transformer again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, load_documents
from analysis.models.encoders import Encoder, ModelInfo, load_encoder
from analysis.models.pooling import POOLINGS
from analysis.vectors.cache import Representation, cached_hashes, upsert_model, write_cache
from analysis.vectors.catalogue import load_vectors


@dataclass(frozen=True)
class LayerVectors:
    """float32 [layers + 1, n_docs, dim] in doc_id order; index 0 = embedding-layer output."""

    tensor: np.ndarray
    model: ModelInfo
    pooling: str
    max_length: int
    encoded: int  # texts the transformer ran on (0 when everything came from the cache)

    @property
    def n_layers(self) -> int:
        return self.tensor.shape[0] - 1


def layer_encoder(
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


def fill_layer_cache(
    store: Store,
    encoder: Encoder,
    reps: list[Representation],
    hashes: list[str],
    texts: list[str],
    progress: ProgressFn | None = None,
) -> int:
    """Encode and cache every layer of the texts not yet cached at all layers; how many ran.

    ``hashes`` are distinct, ``texts`` the matching texts in the same order.
    """
    info = encoder.info
    pooling, max_length = reps[0].pooling, reps[0].max_length
    have = set(hashes)
    for rep in reps:
        have &= cached_hashes(store, info.model_key, info.dim, rep, hashes)
    missing = [i for i, h in enumerate(hashes) if h not in have]
    if missing:
        tensor = encoder.encode_layers(
            [texts[i] for i in missing], pooling, max_length or None, progress
        )
        with store.transaction() as cur:
            upsert_model(cur, info)
            for rep, layer in zip(reps, tensor, strict=True):
                write_cache(cur, store, info.model_key, rep, [hashes[i] for i in missing], layer)
    elif progress is not None:
        progress(len(hashes), len(hashes))
    return len(missing)


def layer_vectors(
    store: Store,
    corpus: Corpus,
    model_spec: str = "default",
    pooling: str = "mean",
    max_length: int = 0,
    progress: ProgressFn | None = None,
) -> LayerVectors:
    """Every layer's pooled states for the corpus (max_length 0 = the model's own limit)."""
    encoder, reps = layer_encoder(model_spec, pooling, max_length)
    info = encoder.info
    documents = load_documents(store, corpus, with_metadata=False).drop_duplicates("text_sha256")
    encoded = fill_layer_cache(
        store,
        encoder,
        reps,
        documents["text_sha256"].tolist(),
        documents["text"].tolist(),
        progress,
    )
    stacked = np.stack([load_vectors(store, corpus, info.model_key, info.dim, rep) for rep in reps])
    return LayerVectors(stacked, info, pooling, max_length, encoded=encoded)
