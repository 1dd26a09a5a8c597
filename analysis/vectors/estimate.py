"""How long encoding a corpus will take, said before it starts, from throughput measured here.

Only texts missing from the cache count (a repeated text once), each by the positions the model
computes (stored word pieces + [CLS]/[SEP], cut at the window, padded to the longest text of its
batch), at the rate ``models.throughput`` measured on this machine for the model's own output or
for the all-layers forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.core.analysis import Estimate
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, load_documents, sha256_texts
from analysis.models.encoders import expected_key
from analysis.models.throughput import Mode, padded_positions, throughput
from analysis.models.tokens import count_tokens
from analysis.vectors.cache import Representation, cached_hashes, stored_model

DEFAULT_SHAPE = (6, 384)  # layers, dimension of the bundled MiniLM (known without loading it)
WINDOW = 256  # the bundled model's window; other models are counted alike
LSA_SECONDS_PER_TEXT = 0.0005  # TF-IDF + SVD fit and transform: seconds for a few thousand texts


@dataclass(frozen=True)
class EncodingCost:
    """What must run through the model, and how long that takes on this machine."""

    texts: int
    tokens: int
    seconds: float
    basis: str


NOTHING = EncodingCost(0, 0, 0.0, "every vector needed is cached")


def _positions(unique: pd.DataFrame, max_length: int) -> int:
    """Positions the batches compute, padding included ([CLS]/[SEP] counted, cut at the window)."""
    window = min(max_length, WINDOW) if max_length else WINDOW
    own = np.minimum(unique["n_tokens"].to_numpy(dtype=np.int64) + 2, window)
    return padded_positions(unique["text"].str.len().to_numpy(), own)


def _cost(spec: str, mode: Mode, unique: pd.DataFrame, max_length: int) -> EncodingCost:
    if unique.empty:
        return NOTHING
    tokens = _positions(unique, max_length)
    measured = throughput(spec, mode)
    return EncodingCost(
        len(unique),
        tokens,
        measured.seconds(len(unique), tokens),
        measured.describe(len(unique), tokens),
    )


def encoding_estimate(
    store: Store,
    corpus: Corpus,
    model_spec: str,
    pooling: str,
    max_length: int = 0,
    documents: pd.DataFrame | None = None,
    rate_of: str | None = None,
) -> EncodingCost:
    """Encoding the per-layer vectors of a corpus (or of ``documents``, some of its rows) that
    the cache lacks, on this machine.

    Exact for the bundled model and the random control; for another model every text is
    counted, since its key is only known once it is loaded. ``rate_of``: the model whose
    measured speed to use, when it has the same architecture and is calibrated already (the
    random control runs as fast as the bundled model; no need to load it to offer it).
    """
    if documents is None:
        documents = load_documents(store, corpus, with_metadata=False)
    return _layers_cost(store, documents, model_spec, pooling, max_length, rate_of)


def texts_encoding_estimate(
    store: Store, texts: Sequence[str], model_spec: str, pooling: str, max_length: int = 0
) -> EncodingCost:
    """The same for free texts (the second texts of sentence pairs), counted here."""
    first = dict(zip(sha256_texts(list(texts)), texts, strict=True))
    frame = pd.DataFrame({"text_sha256": list(first), "text": list(first.values())})
    frame["n_tokens"] = count_tokens(list(first.values()))
    return _layers_cost(store, frame, model_spec, pooling, max_length)


def _layers_cost(
    store: Store,
    documents: pd.DataFrame,
    model_spec: str,
    pooling: str,
    max_length: int,
    rate_of: str | None = None,
) -> EncodingCost:
    unique = documents.drop_duplicates("text_sha256")
    key = expected_key(model_spec)
    if model_spec in ("default", "random") and key is not None:
        rep = Representation(DEFAULT_SHAPE[0], pooling, max_length)
        have = cached_hashes(store, key, DEFAULT_SHAPE[1], rep, unique["text_sha256"].tolist())
        unique = unique[~unique["text_sha256"].isin(have)]
    return _cost(rate_of or model_spec, "layers", unique, max_length)


def embedding_estimate(store: Store, corpus: Corpus, model_spec: str) -> Estimate:
    """Embedding a corpus with a model's own output: only the texts the cache lacks."""
    documents = load_documents(store, corpus, with_metadata=False)
    unique = documents.drop_duplicates("text_sha256")
    if model_spec == "lsa":
        seconds = len(unique) * LSA_SECONDS_PER_TEXT
        return Estimate(seconds, f"LSA fits TF-IDF and SVD on {len(unique):,} texts")
    info = stored_model(store, expected_key(model_spec))
    if info is not None:
        have = cached_hashes(
            store, info.model_key, info.dim, Representation(), unique["text_sha256"].tolist()
        )
        unique = unique[~unique["text_sha256"].isin(have)]
    cost = _cost(model_spec, "output", unique, 0)
    return Estimate(cost.seconds, cost.basis)
