"""Tables as text for a sentence encoder (observatory.md, "Embeddings of a table").

Column text ``"h: v1, v2, ..."``, row text ``"h1: v1; h2: v2; ..."``, table text = column texts
joined with ``" | "``. A serialisation that does not fit the model is cut by rows, never inside a
cell: the largest number of leading rows that fits is found by binary search with the model's own
tokenizer, counting its special tokens. Word-piece counts are additive over cells, so a row or
column permutation of the kept rows fits too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

COLUMN = "column"
ROW = "row"
TABLE = "table"
CELL = "cell"
GRANULARITIES = (COLUMN, ROW, TABLE)


def column_text(header: str, values: Sequence[str]) -> str:
    return f"{header}: " + ", ".join(values)


def row_text(headers: Sequence[str], values: Sequence[str]) -> str:
    return "; ".join(f"{h}: {v}" for h, v in zip(headers, values, strict=True))


def column_texts(texts: pd.DataFrame) -> list[str]:
    return [column_text(str(c), texts[c].tolist()) for c in texts.columns]


def row_texts(texts: pd.DataFrame) -> list[str]:
    headers = [str(c) for c in texts.columns]
    return [row_text(headers, row) for row in texts.itertuples(index=False)]


def table_text(texts: pd.DataFrame) -> str:
    return " | ".join(column_texts(texts))


def texts_for(granularity: str, texts: pd.DataFrame) -> list[str]:
    """The items of one granularity: a text per column, per row, or one for the table."""
    if granularity == COLUMN:
        return column_texts(texts)
    if granularity == ROW:
        return row_texts(texts)
    if granularity == TABLE:
        return [table_text(texts)]
    raise ValueError(f"unknown granularity {granularity!r}")


class TokenCounter:
    """Token counts with a model's tokenizer, special tokens included, memoised per text."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.special = len(tokenizer("")["input_ids"])  # e.g. [CLS] and [SEP]
        self._memo: dict[str, int] = {}

    def __call__(self, texts: Sequence[str]) -> list[int]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            encoded = self.tokenizer(
                missing,
                add_special_tokens=False,
                truncation=False,
                return_attention_mask=False,
                return_token_type_ids=False,
                verbose=False,
            )
            for text, ids in zip(missing, encoded["input_ids"], strict=True):
                self._memo[text] = len(ids) + self.special
        return [self._memo[t] for t in texts]


def largest_fit(fits: Callable[[int], bool], n_rows: int) -> int:
    """The largest r in [0, n_rows] with fits(r), for a monotone predicate (fits(0) assumed)."""
    low, high = 0, n_rows
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


@dataclass(frozen=True)
class Fitted:
    """How many leading rows of a table one granularity can use, or why none."""

    granularity: str
    rows: int
    total_rows: int
    skipped: str | None = None

    @property
    def truncated(self) -> bool:
        return self.skipped is None and self.rows < self.total_rows


def fit_rows(
    texts: pd.DataFrame, granularity: str, count: Callable[[Sequence[str]], list[int]], limit: int
) -> Fitted:
    """Leading rows whose serialisation of this granularity fits ``limit`` tokens.

    Rows are independent items, so every row must fit on its own; a row that does not is
    reported (it would have to be cut inside a cell), never silently truncated.
    """
    n = len(texts)
    if granularity == ROW:
        lengths = count(row_texts(texts))
        too_long = [i for i, length in enumerate(lengths) if length > limit]
        if too_long:
            first = too_long[0]
            return Fitted(
                ROW,
                0,
                n,
                f"row {first + 1} needs {lengths[first]} tokens, more than the {limit} allowed "
                f"({len(too_long)} row(s) too long); pick fewer columns or a longer maximum",
            )
        return Fitted(ROW, n, n)

    def fits(r: int) -> bool:
        return max(count(texts_for(granularity, texts.iloc[:r]))) <= limit

    if not fits(0):
        return Fitted(
            granularity,
            0,
            n,
            f"the headers alone need more than {limit} tokens as {granularity} text",
        )
    rows = largest_fit(fits, n)
    if rows == 0:
        return Fitted(
            granularity,
            0,
            n,
            f"not even the first row fits in {limit} tokens as {granularity} text",
        )
    return Fitted(granularity, rows, n)
