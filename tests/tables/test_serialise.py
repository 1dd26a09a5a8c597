"""Tests for analysis.tables.serialise: the text of each granularity and row-wise truncation with
the real MiniLM tokenizer (a table is cut between rows, never inside a cell)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.models.tokens import default_tokenizer
from analysis.tables.data import demo_tables
from analysis.tables.serialise import (
    COLUMN,
    GRANULARITIES,
    ROW,
    TABLE,
    Fitted,
    TokenCounter,
    column_text,
    column_texts,
    fit_rows,
    largest_fit,
    row_text,
    row_texts,
    table_text,
    texts_for,
)

LIMIT = 128  # the default maximum for column text
CONTEXT = 256  # MiniLM's window, used for row and table text


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    return TokenCounter(default_tokenizer())


def demo_texts(name: str) -> pd.DataFrame:
    return next(t for t in demo_tables() if t.name == name).texts


def small() -> pd.DataFrame:
    return pd.DataFrame({"city": ["Paris", "Rome", ""], "country": ["France", "Italy", "Spain"]})


# --- the texts ---------------------------------------------------------------------------------


def test_column_row_and_table_texts_follow_the_spec():
    texts = small()
    assert column_text("city", ["Paris", "Rome"]) == "city: Paris, Rome"
    assert row_text(["city", "country"], ["Paris", "France"]) == "city: Paris; country: France"
    assert column_texts(texts) == ["city: Paris, Rome, ", "country: France, Italy, Spain"]
    assert row_texts(texts) == [
        "city: Paris; country: France",
        "city: Rome; country: Italy",
        "city: ; country: Spain",
    ]
    assert table_text(texts) == "city: Paris, Rome,  | country: France, Italy, Spain"


def test_texts_for_gives_one_item_per_column_row_or_table():
    texts = small()
    assert texts_for(COLUMN, texts) == column_texts(texts)
    assert texts_for(ROW, texts) == row_texts(texts)
    assert texts_for(TABLE, texts) == [table_text(texts)]
    with pytest.raises(ValueError, match="unknown granularity"):
        texts_for("cell", texts)


def test_texts_of_no_rows_are_the_headers_alone():
    empty = small().iloc[:0]
    assert column_texts(empty) == ["city: ", "country: "]
    assert row_texts(empty) == []


# --- token counts ------------------------------------------------------------------------------


def test_token_counter_counts_what_the_model_sees_including_special_tokens(counter):
    tokenizer = default_tokenizer()
    texts = ["city: Paris, Rome", "", "Córdoba; São Paulo", "city: Paris, Rome"]
    expected = [len(tokenizer(t)["input_ids"]) for t in texts]
    assert counter(texts) == expected
    assert counter([""]) == [2]  # [CLS] [SEP]


def test_token_counts_are_additive_over_cells(counter):
    """What makes row truncation safe under permutation: a column text's count is the header's
    plus each cell's plus the separators, whatever the order of the cells."""
    texts = demo_texts("countries").iloc[:20]
    for name in texts.columns:
        values = texts[name].tolist()
        forward = counter([column_text(name, values)])[0]
        backward = counter([column_text(name, values[::-1])])[0]
        assert forward == backward, name


# --- largest_fit -------------------------------------------------------------------------------


@pytest.mark.parametrize(("threshold", "n", "expected"), [(7, 20, 7), (0, 5, 0), (50, 20, 20)])
def test_largest_fit_finds_the_boundary_of_a_monotone_predicate(threshold, n, expected):
    asked: list[int] = []

    def fits(r: int) -> bool:
        asked.append(r)
        return r <= threshold

    assert largest_fit(fits, n) == expected
    assert len(asked) <= int(np.ceil(np.log2(n + 1))) + 1  # a binary search, not a scan


def test_largest_fit_of_no_rows():
    assert largest_fit(lambda r: True, 0) == 0


# --- truncation by rows ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "granularity", "limit"),
    [
        ("employees", COLUMN, LIMIT),
        ("orders", COLUMN, LIMIT),
        ("countries", COLUMN, LIMIT),
        ("employees", TABLE, CONTEXT),
        ("cities", TABLE, CONTEXT),
    ],
)
def test_fit_rows_keeps_the_largest_number_of_whole_rows_that_fits(
    counter, name, granularity, limit
):
    texts = demo_texts(name)
    fitted = fit_rows(texts, granularity, counter, limit)
    r = fitted.rows
    assert fitted.skipped is None
    assert 0 < r < len(texts), "these demo tables are longer than one sequence"
    assert fitted.truncated
    assert fitted.total_rows == len(texts)
    tokenizer = default_tokenizer()
    kept = texts_for(granularity, texts.iloc[:r])
    assert max(len(tokenizer(t)["input_ids"]) for t in kept) <= limit
    one_more = texts_for(granularity, texts.iloc[: r + 1])
    assert max(len(tokenizer(t)["input_ids"]) for t in one_more) > limit


def test_truncated_column_text_holds_every_kept_cell_whole(counter):
    texts = demo_texts("employees")
    fitted = fit_rows(texts, COLUMN, counter, LIMIT)
    for name, text in zip(texts.columns, column_texts(texts.iloc[: fitted.rows]), strict=True):
        header, _, body = text.partition(": ")
        assert header == name
        assert body.split(", ") == texts[name].iloc[: fitted.rows].tolist()


def test_permutations_of_the_kept_rows_fit_too(counter):
    texts = demo_texts("orders")
    for granularity, limit in ((COLUMN, LIMIT), (TABLE, CONTEXT)):
        r = fit_rows(texts, granularity, counter, limit).rows
        kept = texts.iloc[:r]
        rng = np.random.default_rng(0)
        for _ in range(5):
            rows = kept.iloc[rng.permutation(r)]
            columns = kept[list(rng.permutation(kept.columns))]
            assert max(counter(texts_for(granularity, rows))) <= limit
            assert max(counter(texts_for(granularity, columns))) <= limit


def test_small_table_fits_whole_at_every_granularity(counter):
    texts = small()
    for granularity in GRANULARITIES:
        fitted = fit_rows(texts, granularity, counter, LIMIT)
        assert fitted == Fitted(granularity, 3, 3)
        assert not fitted.truncated


def test_row_granularity_keeps_all_rows_when_each_fits(counter):
    texts = demo_texts("employees")  # 200 rows: row texts are independent items
    fitted = fit_rows(texts, ROW, counter, CONTEXT)
    assert (fitted.rows, fitted.total_rows, fitted.skipped) == (200, 200, None)
    assert not fitted.truncated


def test_a_row_too_long_is_reported_with_its_number(counter):
    long_cell = " ".join(["wordy"] * 300)
    texts = pd.DataFrame({"a": ["x", "y", long_cell, long_cell], "b": ["p", "q", "r", "s"]})
    fitted = fit_rows(texts, ROW, counter, LIMIT)
    assert fitted.rows == 0
    assert fitted.skipped is not None
    assert fitted.skipped.startswith("row 3 needs ")
    assert "2 row(s) too long" in fitted.skipped
    assert not fitted.truncated


def test_a_table_whose_headers_alone_do_not_fit_is_skipped_with_the_reason(counter):
    header = " ".join(f"word{i}" for i in range(80))  # far more than 128 word pieces
    texts = pd.DataFrame({header: ["a", "b"], "b": ["c", "d"]})
    for granularity in (COLUMN, TABLE):
        fitted = fit_rows(texts, granularity, counter, LIMIT)
        assert fitted.rows == 0
        assert fitted.skipped == (
            f"the headers alone need more than {LIMIT} tokens as {granularity} text"
        )
        assert not fitted.truncated


def test_a_first_row_too_long_for_column_text_is_skipped_not_cut(counter):
    texts = pd.DataFrame({"a": [" ".join(["wordy"] * 200), "b"], "c": ["d", "e"]})
    fitted = fit_rows(texts, COLUMN, counter, LIMIT)
    assert fitted.rows == 0
    assert fitted.skipped == f"not even the first row fits in {LIMIT} tokens as column text"
