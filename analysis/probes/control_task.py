"""The control task of Hewitt & Liang (2019), carried from word types to texts.

A probe that reaches high accuracy may have found the concept in the representation, or may just
memorise a surface feature. The control task keeps the surface structure and destroys the concept:
each text gets a key (its most frequent content word), and each key one random label drawn from
the real label distribution. A probe can only do well on it by memorising key -> label, so
selectivity = accuracy - control accuracy shows how much of the accuracy is more than that.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

KEY_DEFINITION = (
    "key = the text's most frequent content word (English stop words removed; ties go to the "
    "word rarest in the corpus, then alphabetical)"
)
_WORD = re.compile(r"[^\W\d_]{2,}")  # letters only, two or more


def _content_words(text: str) -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return [w for w in _WORD.findall(text.lower()) if w not in ENGLISH_STOP_WORDS]


def surface_keys(texts: Sequence[str]) -> list[str]:
    """One key per text; ties go to the rarer word, which is the more specific surface cue.

    Breaking ties by first occurrence would key most short docstrings by their first verb
    ('return'), giving one huge key whose single random label a probe learns for free.
    """
    words = [_content_words(text) for text in texts]
    document_frequency = Counter(w for ws in words for w in set(ws))
    keys = []
    for ws in words:
        if not ws:
            keys.append("")  # texts without a content word share one key
            continue
        counts = Counter(ws)
        top = max(counts.values())
        tied = (w for w, c in counts.items() if c == top)
        keys.append(min(tied, key=lambda w: (document_frequency[w], w)))
    return keys


def control_labels(
    keys: Sequence[str], labels: np.ndarray, n_classes: int, seed: int
) -> np.ndarray:
    """One label per key, drawn from the empirical label distribution with a fixed seed."""
    rng = np.random.default_rng(seed)
    distribution = np.bincount(labels, minlength=n_classes) / labels.size
    unique = sorted(set(keys))
    drawn = dict(zip(unique, rng.choice(n_classes, size=len(unique), p=distribution), strict=True))
    return np.array([drawn[key] for key in keys], dtype=np.int64)
