"""Which column holds the text and which hold labels, guessed from names and values.

A guess the user can overrule: the Corpora page pre-selects it and the CLI takes --text-column and
--label-column; names that say 'text' or 'label' win over what the values look like.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

_TEXT_HINTS = (
    "text",
    "content",
    "body",
    "review",
    "comment",
    "sentence",
    "document",
    "message",
    "description",
    "abstract",
    "summary",
    "question",
    "answer",
    "prompt",
    "title",
)


_LABEL_HINTS = (
    "label",
    "labels",
    "category",
    "class",
    "topic",
    "sentiment",
    "intent",
    "genre",
    "tag",
    "group",
    "type",
    "language",
    "source",
)


_MAX_LABELS = 50


_MAX_LABEL_CHARS = 60


_DETECT_SAMPLE = 1000


def detect_text_column(frame: pd.DataFrame) -> str | None:
    """Guess the free-text column: long values with spaces beat ids and labels."""
    best: str | None = None
    best_score = 0.0
    for name in frame.columns:
        values = _string_sample(frame[name])
        if values is None:
            continue
        spaced = values.str.contains(" ", regex=False).mean()
        score = float(values.str.len().mean()) * (0.25 + float(spaced))
        if _matches_hint(name, _TEXT_HINTS) < len(_TEXT_HINTS):
            score *= 1.5
        if score > best_score:
            best, best_score = str(name), score
    return best


def detect_label_columns(frame: pd.DataFrame, text_column: str) -> list[str]:
    """Columns worth colouring a plot by: few distinct short values, label-like names first."""
    found = [
        str(name) for name in frame.columns if name != text_column and _is_label_like(frame[name])
    ]
    return rank_label_columns(found)


def _string_sample(column: pd.Series) -> pd.Series | None:
    """The leading string values, or None when the column is not mostly text."""
    values = column.head(_DETECT_SAMPLE).dropna()
    if values.empty:
        return None
    is_text = values.map(lambda value: isinstance(value, str)).astype(bool)
    if is_text.mean() < 0.9:
        return None
    texts = values[is_text].astype(str)
    return texts if (texts.str.len() > 0).any() else None


def _matches_hint(name: object, hints: Sequence[str]) -> int:
    """Index of the first hint that is a word of the column name; len(hints) when none is."""
    words = set(re.split(r"[^0-9a-z]+", str(name).lower()))
    return next((index for index, hint in enumerate(hints) if hint in words), len(hints))


def _is_label_like(column: pd.Series) -> bool:
    values = column.dropna()
    sample = values.head(_DETECT_SAMPLE)
    if values.empty or not all(isinstance(v, str | int | float | np.generic) for v in sample):
        return False
    try:
        n_unique = values.nunique()
    except TypeError:
        return False
    numeric = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
    return label_like(len(values), n_unique, numeric, values.astype(str).str.len().mean)


def label_like(
    n_values: int, n_unique: int, numeric: bool, mean_chars: Callable[[], float]
) -> bool:
    """Few distinct values (at least 2, at most 50 and half the values), short unless numbers.

    Takes counts so that a column stored in DuckDB is judged without loading it.
    """
    if not 2 <= n_unique <= min(_MAX_LABELS, max(2, n_values // 2)):
        return False
    return numeric or float(mean_chars()) <= _MAX_LABEL_CHARS


def rank_label_columns(names: Sequence[str]) -> list[str]:
    """Label-like names first (in hint order), the rest in column order."""
    return sorted(names, key=lambda name: _matches_hint(name, _LABEL_HINTS))
