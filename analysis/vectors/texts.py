"""Vectors of free-standing texts (not a stored corpus) through the same embedding cache.

The table properties embed serialisations that belong to no corpus; caching them by text hash
like every other text means a second run, another property or the CLI never encodes the same
serialisation twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis.core.progress import ProgressFn
from analysis.core.store import Store
from analysis.corpus.corpora import sha256_texts
from analysis.models.encoders import Encoder
from analysis.vectors.cache import (
    Representation,
    cached_hashes,
    cached_vectors,
    upsert_model,
    write_cache,
)


def encode_texts(
    store: Store,
    encoder: Encoder,
    texts: Sequence[str],
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """The model's own (normalised) embedding of each text, float32 [n, dim], in input order.

    Only texts missing from the cache reach the model, all of them in one encode call.
    """
    info = encoder.info
    rep = Representation()
    unique = list(dict.fromkeys(texts))
    hashes = sha256_texts(unique)
    have = cached_hashes(store, info.model_key, info.dim, rep, hashes)
    missing = [i for i, h in enumerate(hashes) if h not in have]
    found = [h for h in hashes if h in have]
    cached = cached_vectors(store, info.model_key, info.dim, rep, found)
    vectors = dict(zip(found, cached, strict=True))
    if missing:
        fresh = encoder.encode([unique[i] for i in missing], progress)
        with store.transaction() as cur:
            upsert_model(cur, info)
            write_cache(cur, store, info.model_key, rep, [hashes[i] for i in missing], fresh)
        vectors.update(zip((hashes[i] for i in missing), fresh, strict=True))
    elif progress is not None:
        progress(len(unique), len(unique))
    by_text = {t: vectors[h] for t, h in zip(unique, hashes, strict=True)}
    if not texts:
        return np.empty((0, info.dim), np.float32)
    return np.stack([by_text[t] for t in texts]).astype(np.float32)
