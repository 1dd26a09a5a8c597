"""How far ``default-int8`` is from fp32 on a corpus's own first texts, through the cache.

Both models' vectors of those texts go through the content-addressed cache, so the measurement
costs model time once per corpus and store (about 10 s for 500 texts on 2 cores) and is then read
back in a moment, by the page and by every later ``embed``; the fp32 vectors it makes are the
ones a later fp32 embedding would make, so that work is not lost either.
"""

from __future__ import annotations

from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus
from analysis.models.encoders import load_encoder
from analysis.models.int8_encoder import FIDELITY_TEXTS, INT8_SPEC, Fidelity, compare
from analysis.vectors.corpus_texts import corpus_text_hashes, texts_of
from analysis.vectors.texts import encode_texts


def corpus_int8_fidelity(store: Store, corpus: Corpus, limit: int = FIDELITY_TEXTS) -> Fidelity:
    """Fidelity of default-int8 to default on the corpus's first ``limit`` distinct texts."""
    texts = texts_of(store, corpus, corpus_text_hashes(store, corpus)[:limit])
    if len(texts) < 2:
        raise UserError(
            f"Measuring int8 fidelity needs at least 2 distinct texts; "
            f"'{corpus.name}' has {len(texts)}."
        )
    exact = encode_texts(store, load_encoder("default"), texts)
    quantized = encode_texts(store, load_encoder(INT8_SPEC), texts)
    return compare(exact, quantized)
