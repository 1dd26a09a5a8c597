"""How long encoding a corpus at every layer will take, said before it starts.

Measured on a shared 2-core CPU: the bundled MiniLM with every hidden state kept runs at about
0.9 ms per token (2,000 docstrings, ~60 tokens each: 100 s). Only texts missing from the cache
count; the figure is rounded and said as "about".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, load_documents
from analysis.models.encoders import expected_key
from analysis.vectors.cache import Representation, cached_hashes

SECONDS_PER_TOKEN = 0.0009
DEFAULT_SHAPE = (6, 384)  # layers, dimension of the bundled MiniLM (known without loading it)


def encoding_estimate(
    store: Store,
    corpus: Corpus,
    model_spec: str,
    pooling: str,
    max_length: int = 0,
    documents: pd.DataFrame | None = None,
) -> tuple[int, float]:
    """(texts whose per-layer vectors are not cached yet, seconds to encode them).

    Exact for the bundled model and the random control; for another model every text is
    counted, since its key is only known once it is loaded.
    """
    if documents is None:
        documents = load_documents(store, corpus, with_metadata=False)
    unique = documents.drop_duplicates("text_sha256")
    tokens = np.minimum(unique["n_tokens"].to_numpy() + 2, 256)
    per_text = float(tokens.mean()) * SECONDS_PER_TOKEN if tokens.size else 0.0
    key = expected_key(model_spec)
    missing = len(unique)
    if model_spec in ("default", "random") and key is not None:
        rep = Representation(DEFAULT_SHAPE[0], pooling, max_length)
        hashes = unique["text_sha256"].tolist()
        missing -= len(cached_hashes(store, key, DEFAULT_SHAPE[1], rep, hashes))
    return missing, missing * per_text
