"""A deterministic encoder double for exact-value tests of the table properties.

Each word is hashed to a fixed random direction and a text is the normalised sum of its words:
equal texts give equal vectors, word order does not matter, and the numbers are reproducible
without loading a model. It has no tokenizer, so TableEncoder counts rows with MiniLM's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from analysis.core.progress import ProgressFn
from analysis.models.encoders import Encoder, ModelInfo

DIM = 16


def word_vector(word: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(DIM)


class BagOfWordsEncoder(Encoder):
    def __init__(self, name: str = "bag-of-words") -> None:
        self.info = ModelInfo(
            model_key=f"test:{name}",
            name=name,
            kind="test",
            source="tests/tables/doubles.py",
            revision="1",
            dim=DIM,
            n_layers=None,
            pooling="sum",
            max_length=None,
        )
        self.calls: list[int] = []  # texts per encode call, to check batching and caching

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), DIM))
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i] += word_vector(word)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-12)).astype(np.float32)
