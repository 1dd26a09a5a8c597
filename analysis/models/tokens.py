"""Token counts with the default model's tokenizer.

Lengths are stored with every document so that maps, filters and the length diagnostics agree on
one definition: word pieces of the bundled all-MiniLM-L6-v2 tokenizer, special tokens not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from analysis.models.encoders import default_model_path


@lru_cache(maxsize=1)
def default_tokenizer() -> object:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(default_model_path())


def count_tokens(texts: Sequence[str], batch: int = 4096) -> np.ndarray:
    """Word-piece counts without [CLS]/[SEP], not truncated (the model itself stops at 256)."""
    return np.asarray(word_pieces(default_tokenizer(), texts, batch), dtype=np.int32)


def word_pieces(tokenizer: Any, texts: Sequence[str], batch: int) -> list[int]:
    """Word pieces per text with this tokenizer, in batches: no special tokens, no truncation."""
    counts: list[int] = []
    for start in range(0, len(texts), batch):
        encoded = tokenizer(
            list(texts[start : start + batch]),
            add_special_tokens=False,
            truncation=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,
        )
        counts.extend(len(ids) for ids in encoded["input_ids"])
    return counts
