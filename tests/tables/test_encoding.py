"""Tests for analysis.tables.encoding, analysis.vectors.texts and the token-state surface of
analysis.models.encoders: per-item texts through the cache, and Observatory's contextual encoding
with the real bundled MiniLM (special tokens, [CLS] per column, context, cell spans, row packing).

Real-model tests use small tables (or three columns of a 200-row table) to stay fast.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from analysis.core.errors import UserError
from analysis.tables.data import demo_tables
from analysis.tables.encoding import (
    DEFAULT_MAX_LENGTH,
    THOROUGH_MAX_LENGTH,
    TableEncoder,
    load_table_encoders,
    lsa_fit_texts,
)
from analysis.tables.serialise import COLUMN, ROW, TABLE, column_texts, fit_rows, row_texts
from analysis.vectors.texts import encode_texts
from tests.tables.doubles import DIM, BagOfWordsEncoder


class Recording:
    """Stands in for the encoder inside a TableEncoder: records every token_states input."""

    def __init__(self, encoder, fake_states: bool = False) -> None:
        self.encoder = encoder
        self.info = encoder.info
        self.fake_states = fake_states
        self.calls: list[list[list[int]]] = []

    def encode(self, texts, progress=None):
        return self.encoder.encode(texts, progress)

    def token_states(self, input_ids: Sequence[Sequence[int]]) -> list[np.ndarray]:
        self.calls.append([list(ids) for ids in input_ids])
        if not self.fake_states:
            return self.encoder.token_states(input_ids)
        # 7 "layers"; per token: its position, its id, and the layer number.
        out = []
        for ids in input_ids:
            states = np.zeros((7, len(ids), 3), dtype=np.float64)
            states[:, :, 0] = np.arange(len(ids))
            states[:, :, 1] = ids
            states[:, :, 2] = np.arange(7)[:, None]
            out.append(states)
        return out

    @property
    def sequences(self) -> list[list[int]]:
        return [ids for call in self.calls for ids in call]


def recording(store, encoder, fake_states: bool = False) -> tuple[TableEncoder, Recording]:
    table_encoder = TableEncoder(store, encoder)
    recorder = Recording(encoder, fake_states)
    table_encoder.encoder = recorder
    return table_encoder, recorder


def cities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "city": ["Paris", "Rome", "Oslo"],
            "country": ["France", "Italy", "Norway"],
            "river": ["Seine", "Tiber", ""],
        }
    )


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def employees(columns: Sequence[str] | None = None) -> pd.DataFrame:
    texts = next(t for t in demo_tables() if t.name == "employees").texts
    return texts if columns is None else texts[list(columns)]


# --- per-item texts through the cache ----------------------------------------------------------


def test_second_call_with_the_same_texts_does_not_reach_the_encoder(store):
    encoder = BagOfWordsEncoder()
    texts = ["city: Paris, Rome", "country: France, Italy"]
    first = encode_texts(store, encoder, texts)
    assert encoder.calls == [2]
    second = encode_texts(store, encoder, texts)
    assert encoder.calls == [2]
    np.testing.assert_array_equal(first, second)


def test_duplicates_are_encoded_once_and_the_order_is_kept(store):
    encoder = BagOfWordsEncoder()
    texts = ["b b", "a", "b b", "c", "a"]
    vectors = encode_texts(store, encoder, texts)
    assert encoder.calls == [3]
    assert vectors.shape == (5, DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, BagOfWordsEncoder().encode(texts), atol=1e-7)


def test_only_the_new_texts_are_encoded_and_cached_ones_come_back_in_place(store):
    encoder = BagOfWordsEncoder()
    encode_texts(store, encoder, ["one", "two"])
    vectors = encode_texts(store, encoder, ["three", "two", "one"])
    assert encoder.calls == [2, 1]
    np.testing.assert_allclose(vectors, BagOfWordsEncoder().encode(["three", "two", "one"]))


def test_the_cache_is_per_model(store):
    first, second = BagOfWordsEncoder("first"), BagOfWordsEncoder("second")
    encode_texts(store, first, ["same text"])
    encode_texts(store, second, ["same text"])
    assert (first.calls, second.calls) == ([1], [1])


def test_no_texts_give_an_empty_matrix(store):
    encoder = BagOfWordsEncoder()
    assert encode_texts(store, encoder, []).shape == (0, DIM)


def test_table_encoder_encode_equals_the_model_and_is_cached(store, default_encoder):
    table_encoder, _ = recording(store, default_encoder)
    texts = column_texts(cities())
    direct = default_encoder.encode(texts)
    np.testing.assert_allclose(table_encoder.encode(texts), direct, atol=1e-6)
    np.testing.assert_allclose(table_encoder.encode(texts), direct, atol=1e-6)


# --- row limits --------------------------------------------------------------------------------


def test_column_text_uses_the_chosen_maximum_and_rows_the_model_window(store, default_encoder):
    default = TableEncoder(store, default_encoder, DEFAULT_MAX_LENGTH)
    thorough = TableEncoder(store, default_encoder, THOROUGH_MAX_LENGTH)
    assert (default.max_length, default.context_length) == (128, 256)
    assert TableEncoder(store, default_encoder, 10_000).max_length == 256  # the model's limit
    texts = employees()
    assert default.fit(texts, COLUMN) == fit_rows(texts, COLUMN, default.count, 128)
    assert thorough.fit(texts, COLUMN).rows > default.fit(texts, COLUMN).rows
    assert default.fit(texts, TABLE) == fit_rows(texts, TABLE, default.count, 256)
    assert default.fit(texts, ROW).rows == 200


# --- the model's token states ------------------------------------------------------------------


def test_token_states_are_the_model_the_sentence_embedding_pools(default_encoder):
    text = "city: Paris, Rome, Oslo"
    ids = default_encoder.tokenizer(text)["input_ids"]
    (states,) = default_encoder.token_states([ids])
    assert states.shape == (7, len(ids), 384)
    pooled = states[-1].mean(axis=0)
    assert cosine(pooled, default_encoder.encode([text])[0]) > 0.99999


def test_token_states_of_a_padded_batch_equal_those_of_each_sequence(default_encoder):
    tokenizer = default_encoder.tokenizer
    short = tokenizer("Rome")["input_ids"]
    long = tokenizer("a much longer sequence of words than the other one")["input_ids"]
    together = default_encoder.token_states([short, long])
    alone = default_encoder.token_states([short])[0]
    assert together[0].shape == alone.shape == (7, len(short), 384)
    np.testing.assert_allclose(together[0], alone, atol=1e-4)


def test_an_encoder_without_tokens_has_no_token_states():
    encoder = BagOfWordsEncoder()
    assert encoder.tokenizer is None
    with pytest.raises(UserError, match="no token states"):
        encoder.token_states([[101, 102]])


# --- contextual sequences ----------------------------------------------------------------------


def test_contextual_sequence_uses_the_tokenizers_real_special_tokens(store, default_encoder):
    table_encoder, recorder = recording(store, default_encoder)
    tokenizer = default_encoder.tokenizer
    table_encoder.contextual_columns([cities()])
    (ids,) = recorder.sequences
    assert ids[0] == tokenizer.cls_token_id
    assert ids[-1] == tokenizer.sep_token_id
    assert ids.count(tokenizer.cls_token_id) == 3  # one [CLS] per column
    assert ids.count(tokenizer.sep_token_id) == 1
    # fmt: off
    assert tokenizer.convert_ids_to_tokens(ids) == [
        "[CLS]", "city", ":", "paris", ",", "rome", ",", "oslo",
        "[CLS]", "country", ":", "france", ",", "italy", ",", "norway",
        "[CLS]", "river", ":", "seine", ",", "ti", "##ber", ",", "[SEP]",
    ]
    # fmt: on


def test_column_embedding_is_the_last_layer_state_at_its_cls(store, default_encoder):
    table_encoder, recorder = recording(store, default_encoder)
    (columns,) = table_encoder.contextual_columns([cities()])
    assert columns.shape == (3, 384)
    (ids,) = recorder.sequences
    positions = [
        i for i, token in enumerate(ids) if token == default_encoder.tokenizer.cls_token_id
    ]
    (states,) = default_encoder.token_states([ids])
    np.testing.assert_allclose(columns, states[-1, positions], atol=1e-4)


def test_contextual_column_embedding_depends_on_the_other_columns(store, default_encoder):
    table_encoder = TableEncoder(store, default_encoder)
    original = cities()
    changed = original.assign(country=["Japan", "Peru", "Egypt"], river=["Sumida", "Rimac", "Nile"])
    reordered = original[["river", "country", "city"]]
    before, after, moved = table_encoder.contextual_columns([original, changed, reordered])
    # The city column's own values are the same in all three tables ...
    assert cosine(before[0], after[0]) < 0.9999  # ... but its context changed
    assert cosine(before[0], moved[2]) < 0.9999  # ... or its position did
    # Per-item, the city column text is the same text, so the same vector.
    per_item = table_encoder.encode(column_texts(original)[:1] + column_texts(changed)[:1])
    np.testing.assert_array_equal(per_item[0], per_item[1])


def test_contextual_columns_refuse_a_table_that_does_not_fit(store, default_encoder):
    table_encoder = TableEncoder(store, default_encoder)
    with pytest.raises(ValueError, match="fit rows first"):
        table_encoder.contextual_columns([employees()])


def test_context_fit_keeps_the_most_rows_that_fit_in_one_sequence(store, default_encoder):
    table_encoder, recorder = recording(store, default_encoder)
    texts = employees()
    fitted = table_encoder.context_fit(texts)
    r = fitted.rows
    assert 0 < r < 200
    assert (fitted.total_rows, fitted.skipped) == (200, None)
    table_encoder.contextual_columns([texts.iloc[:r]])
    assert len(recorder.sequences[0]) <= default_encoder.info.max_length == 256
    with pytest.raises(ValueError, match="exceed 256"):
        table_encoder.contextual_columns([texts.iloc[: r + 1]])


def test_context_fit_counts_every_token_of_the_sequence_exactly(store, default_encoder):
    # Two columns of one-token cells: R rows take 2 [CLS] + 4 header tokens ("x", ":", "y", ":")
    # + 2R cells + 2(R - 1) commas + 1 [SEP] = 4R + 5 tokens: 62 rows = 253, 63 rows = 257.
    table_encoder, recorder = recording(store, default_encoder)
    texts = pd.DataFrame({"x": ["a"] * 70, "y": ["b"] * 70})
    assert table_encoder.context_fit(texts).rows == 62
    table_encoder.contextual_columns([texts.iloc[:62]])
    assert len(recorder.sequences[0]) == 253
    table_encoder.contextual_cells(texts)
    assert [len(ids) for ids in recorder.sequences[1:]] == [253, 4 * 8 + 5]


def test_context_fit_of_a_row_too_long_says_why(store, default_encoder):
    table_encoder = TableEncoder(store, default_encoder)
    texts = pd.DataFrame({"a": [" ".join(["wordy"] * 300), "x"], "b": ["y", "z"]})
    fitted = table_encoder.context_fit(texts)
    assert fitted.rows == 0
    assert "need more than 256 tokens" in fitted.skipped
    with pytest.raises(UserError, match="Row 1 alone needs more than 256 tokens"):
        table_encoder.contextual_cells(texts)


# --- cells in context --------------------------------------------------------------------------


def test_cell_vectors_have_one_entry_per_layer_row_and_column_and_nan_when_empty(
    store, default_encoder
):
    table_encoder = TableEncoder(store, default_encoder)
    texts = cities()
    cells = table_encoder.contextual_cells(texts, layers=(0, -1))
    assert cells.shape == (2, 3, 3, 384)
    empty = texts.to_numpy() == ""
    assert np.isnan(cells[:, empty]).all()
    assert np.isfinite(cells[:, ~empty]).all()
    assert not np.allclose(cells[0], cells[1], equal_nan=True)  # two different layers
    np.testing.assert_array_equal(
        table_encoder.cell_vectors(texts), table_encoder.contextual_cells(texts)
    )


def test_each_cell_is_the_mean_over_exactly_its_own_tokens(store, default_encoder):
    """With states that encode each token's position, a cell's vector gives the mean position of
    its span; the span must hold exactly the cell's own word pieces, no special token."""
    table_encoder, recorder = recording(store, default_encoder, fake_states=True)
    tokenizer = default_encoder.tokenizer
    texts = pd.DataFrame(
        {"name": ["Ada Lovelace", "Alan", "Grace Hopper"], "born": ["1815", "", "New York City"]}
    )
    cells = table_encoder.contextual_cells(texts, layers=(0, 3, -1))
    (ids,) = recorder.sequences
    for i in range(3):
        for j in range(2):
            value = texts.iat[i, j]
            own = tokenizer(value, add_special_tokens=False)["input_ids"]
            if not own:
                assert np.isnan(cells[:, i, j]).all()
                continue
            start = cells[0, i, j, 0] - (len(own) - 1) / 2
            assert start == int(start)
            span = ids[int(start) : int(start) + len(own)]
            assert span == own, (value, tokenizer.convert_ids_to_tokens(span))
            assert cells[:, i, j, 2].tolist() == [0, 3, 6]  # the layers asked for


def test_long_tables_are_packed_into_greedy_chunks_covering_every_row(store, default_encoder):
    table_encoder, recorder = recording(store, default_encoder)
    tokenizer = default_encoder.tokenizer
    texts = employees(["first_name", "department_name", "office_city"])
    cells = table_encoder.contextual_cells(texts)
    assert cells.shape == (1, 200, 3, 384)
    assert np.isfinite(cells).all()  # every row of every chunk, no empty cells here
    sequences = recorder.sequences
    assert len(sequences) > 1
    for ids in sequences:
        assert len(ids) <= 256
        assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
        assert ids.count(tokenizer.cls_token_id) == 3
    # Greedy packing: each chunk holds as many rows as fit from where it starts.
    starts, start = [], 0
    while start < 200:
        starts.append(start)
        start += table_encoder.context_fit(texts.iloc[start:]).rows
    assert len(sequences) == len(starts)
    # A row's vector is the one it gets when its own chunk is encoded on its own.
    a, b = starts[1], starts[2]
    alone = table_encoder.contextual_cells(texts.iloc[a:b].reset_index(drop=True))
    np.testing.assert_allclose(cells[:, a:b], alone, atol=1e-4)


# --- models without tokens ---------------------------------------------------------------------


def test_an_encoder_without_tokens_has_per_value_cells_and_no_contextual_mode(store):
    table_encoder = TableEncoder(store, BagOfWordsEncoder())
    assert not table_encoder.contextual
    assert table_encoder.describe()["context_length"] is None
    # Rows are still counted with MiniLM's tokenizer, so every model sees equal content.
    assert table_encoder.tokenizer.cls_token_id == 101
    texts = cities()
    with pytest.raises(UserError, match="no contextual mode"):
        table_encoder.context_fit(texts)
    with pytest.raises(UserError, match="no contextual mode"):
        table_encoder.contextual_columns([texts])
    cells = table_encoder.cell_vectors(texts, layers=(-1, 0))
    assert cells.shape == (2, 3, 3, DIM)
    assert np.isnan(cells[:, 2, 2]).all()
    direct = BagOfWordsEncoder().encode(["Rome", "Norway"])
    np.testing.assert_allclose(cells[0, 1, 0], direct[0], atol=1e-6)
    np.testing.assert_allclose(cells[1, 2, 1], direct[1], atol=1e-6)


def test_load_table_encoders_deduplicates_and_fits_lsa_on_the_tables(store, default_encoder):
    frames = [cities(), employees(["first_name", "job_title"]).iloc[:20]]
    fit_texts = lsa_fit_texts(frames)
    assert fit_texts[:3] == column_texts(frames[0])
    assert row_texts(frames[0])[0] in fit_texts
    assert len(fit_texts) == 3 + 3 + 2 + 20
    encoders = load_table_encoders(store, ["default", "lsa", "default"], fit_texts)
    assert [e.info.kind for e in encoders] == ["sentence-transformers", "lsa"]
    assert encoders[0].contextual and not encoders[1].contextual
    assert encoders[1].encode(["city: Paris, Rome, Oslo"]).shape[0] == 1
    with pytest.raises(UserError, match="at least one model"):
        load_table_encoders(store, [], fit_texts)
