"""Vectors of free-standing texts (not a stored corpus) through the same embedding cache.

The table properties embed serialisations that belong to no corpus; caching them by text hash
like every other text means a second run, another property or the CLI never encodes the same
serialisation twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from analysis.arrow_vectors import arrow_to_matrix, query_arrow
from analysis.embedding import Representation, cached_hashes, upsert_model, write_cache
from analysis.encoders import Encoder, ProgressFn
from analysis.store import Store


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fetch(store: Store, model_key: str, dim: int, rep: Representation, hashes: list[str]):
    cur = store.cursor()
    table = store.ensure_cache_table(cur, dim)
    cur.register("wanted_text_hashes", pa.table({"h": pa.array(hashes, pa.string())}))
    try:
        result = query_arrow(
            cur,
            f"""
            SELECT c.text_sha256, c.vector FROM {table} c
            JOIN wanted_text_hashes w ON c.text_sha256 = w.h
            WHERE c.model_key = ? AND c.layer = ? AND c.pooling = ? AND c.max_length = ?
              AND c.temperature = ?
            """,
            [model_key, *rep.params()],
        )
    finally:
        cur.unregister("wanted_text_hashes")
    found = arrow_to_matrix(result.column("vector"), dim)
    return dict(zip(result.column("text_sha256").to_pylist(), found, strict=True))


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
    hashes = [text_hash(t) for t in unique]
    have = cached_hashes(store, info.model_key, info.dim, rep, hashes)
    missing = [i for i, h in enumerate(hashes) if h not in have]
    vectors = _fetch(store, info.model_key, info.dim, rep, [h for h in hashes if h in have])
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
