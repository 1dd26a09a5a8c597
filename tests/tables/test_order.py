"""Row and column order insignificance: exact values with doubles, then the real MiniLM."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from analysis.core.progress import ProgressFn
from analysis.models.tokens import default_tokenizer
from analysis.tables.data import Table, demo_tables
from analysis.tables.encoding import CONTEXTUAL, PER_ITEM, TableEncoder
from analysis.tables.order import (
    MAX_ROW_ITEMS,
    reading_column_order,
    reading_row_order,
    run_column_order,
    run_row_order,
)
from analysis.tables.scores import INVARIANT, OK, SKIPPED, ScoreGroup
from analysis.tables.serialise import COLUMN, ROW, TABLE, row_text, table_text
from tests.tables.context import property_context
from tests.tables.doubles import DIM, BagOfWordsEncoder, word_vector


class WholeTextEncoder(BagOfWordsEncoder):
    """Every distinct text gets its own random direction, so any reordering is visible."""

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        self.calls.append(len(texts))
        return np.stack([unit(word_vector(t)) for t in texts]).astype(np.float32)


class _ColumnLocalStates:
    """Token states where each column's [CLS] holds the bag of that column's own tokens."""

    def __init__(self) -> None:
        self.tokenizer = default_tokenizer()

    def states_of_ids(self, input_ids: Sequence[Sequence[int]]) -> list[np.ndarray]:
        starts = (self.tokenizer.cls_token_id, self.tokenizer.sep_token_id)
        out = []
        for ids in input_ids:
            states = np.zeros((1, len(ids), DIM), np.float32)
            for position, token in enumerate(ids):
                if token != self.tokenizer.cls_token_id:
                    continue
                following = itertools.takewhile(lambda t: t not in starts, ids[position + 1 :])
                for t in following:
                    states[0, position] += word_vector(str(t))
            out.append(states)
        return out


class ColumnLocalEncoder(BagOfWordsEncoder):
    """A contextual double whose column states ignore every other column and their order."""

    def __init__(self) -> None:
        super().__init__("column-local")
        self._hidden = _ColumnLocalStates()


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def cities(rows: int = 5) -> Table:
    frame = pd.DataFrame(
        {
            "city": ["Paris", "Rome", "Oslo", "Lima", "Kyiv", "Quito"][:rows],
            "country": ["France", "Italy", "Norway", "Peru", "Ukraine", "Ecuador"][:rows],
            "population": [2100, 2800, 700, 9700, 2900, 2800][:rows],
        }
    )
    return Table(name=f"cities{rows}", frame=frame, source="test")


def run(prop_run, tables, encoder, **request) -> list[ScoreGroup]:
    prop = {run_row_order: "row-order", run_column_order: "column-order"}[prop_run]
    return prop_run(property_context(prop, tables, [encoder], **request)).groups


def by_kind(groups: list[ScoreGroup]) -> dict[tuple[str, str], ScoreGroup]:
    return {(g.granularity, g.mode): g for g in groups}


def test_row_order_with_a_word_order_invariant_encoder_is_exactly_one(store):
    double = BagOfWordsEncoder()
    groups = by_kind(run(run_row_order, [cities()], TableEncoder(store, double)))
    assert list(groups) == [
        (COLUMN, PER_ITEM),
        (COLUMN, CONTEXTUAL),
        (ROW, PER_ITEM),
        (TABLE, PER_ITEM),
    ]
    for key in [(COLUMN, PER_ITEM), (TABLE, PER_ITEM)]:
        group = groups[key]
        assert group.status == OK
        assert group.k == 5 and group.rows_used == 5
        assert group.cosine == pytest.approx(1.0, abs=1e-6)
        assert group.mcv == pytest.approx(0.0, abs=1e-3)
    assert [i["item"] for i in groups[(COLUMN, PER_ITEM)].items] == [
        "city",
        "country",
        "population",
    ]
    assert groups[(ROW, PER_ITEM)].status == INVARIANT and groups[(ROW, PER_ITEM)].cosine is None
    assert groups[(COLUMN, CONTEXTUAL)].status == SKIPPED
    assert "no token states" in groups[(COLUMN, CONTEXTUAL)].note
    assert len(double.calls) == 1


def test_all_variants_of_a_table_reach_the_model_in_one_encode_call(store):
    double = BagOfWordsEncoder()
    encoder = TableEncoder(store, double)
    run(run_row_order, [cities()], encoder)
    run(run_column_order, [cities()], encoder)
    assert len(double.calls) == 2


def test_row_order_uses_every_non_identity_order_of_four_rows_and_never_the_identity(store):
    table = cities(4)
    groups = by_kind(
        run(run_row_order, [table], TableEncoder(store, WholeTextEncoder("w")), permutations=30)
    )
    group = groups[(TABLE, PER_ITEM)]
    assert group.k == 23 and "all 23 non-identity orders of 4 rows" in group.note
    original = unit(word_vector(table_text(table.texts)))
    others = [p for p in itertools.permutations(range(4)) if p != (0, 1, 2, 3)]
    expected = np.mean(
        [unit(word_vector(table_text(table.texts.iloc[list(p)]))) @ original for p in others]
    )
    assert group.cosine == pytest.approx(expected, abs=1e-6)
    assert group.cosine < 0.9  # an order-sensitive encoder sees every reordering


def test_column_order_compares_each_row_with_itself(store):
    table = cities(4)
    groups = by_kind(run(run_column_order, [table], TableEncoder(store, WholeTextEncoder("w"))))
    group = groups[(ROW, PER_ITEM)]
    assert group.k == 5  # 3! - 1 column orders, all of them
    headers = table.columns
    for i, item in enumerate(group.items):
        values = table.texts.iloc[i].tolist()
        original = unit(word_vector(row_text(headers, values)))
        expected = np.mean(
            [
                unit(word_vector(row_text([headers[j] for j in p], [values[j] for j in p])))
                @ original
                for p in itertools.permutations(range(3))
                if p != (0, 1, 2)
            ]
        )
        assert item["item"] == f"row {i + 1}"
        assert item["cosine"] == pytest.approx(expected, abs=1e-6)


def test_column_order_per_item_columns_are_invariant_by_design_not_one(store):
    groups = by_kind(run(run_column_order, [cities()], TableEncoder(store, BagOfWordsEncoder())))
    column = groups[(COLUMN, PER_ITEM)]
    assert column.status == INVARIANT and column.items == [] and column.cosine is None
    assert "embedded on its own" in column.note
    assert groups[(ROW, PER_ITEM)].cosine == pytest.approx(1.0, abs=1e-6)
    assert groups[(TABLE, PER_ITEM)].cosine == pytest.approx(1.0, abs=1e-6)


def test_contextual_columns_are_realigned_to_the_original_order(store):
    # Each [CLS] state depends on its own column only: once put back in the original order,
    # every column must match itself exactly, whatever the column order.
    encoder = TableEncoder(store, ColumnLocalEncoder())
    groups = by_kind(run(run_column_order, [cities()], encoder))
    group = groups[(COLUMN, CONTEXTUAL)]
    assert group.status == OK and group.k == 5
    assert [i["item"] for i in group.items] == ["city", "country", "population"]
    for item in group.items:
        assert item["cosine"] == pytest.approx(1.0, abs=1e-6)


def test_two_columns_give_one_order_and_no_mcv(store):
    table = cities().with_columns(["city", "country"])
    groups = by_kind(run(run_column_order, [table], TableEncoder(store, WholeTextEncoder("w"))))
    group = groups[(TABLE, PER_ITEM)]
    assert group.k == 1 and group.mcv is None and "no MCV" in group.note
    assert group.items[0]["mcv"] is None and group.items[0]["cosine"] < 1


def test_tables_with_fewer_than_four_rows_are_skipped_for_row_order(store):
    groups = run(run_row_order, [cities(3)], TableEncoder(store, BagOfWordsEncoder()))
    assert len(groups) == 4
    assert all(g.status == SKIPPED and "at least 4 rows" in g.note for g in groups)


def test_rows_that_fit_are_cut_before_permuting(store):
    words = " ".join(["alpha"] * 50)
    frame = pd.DataFrame({"a": [words] * 6, "b": [words.replace("alpha", "beta")] * 6})
    groups = by_kind(
        run(run_row_order, [Table("long", frame, "test")], TableEncoder(store, BagOfWordsEncoder()))
    )
    assert groups[(TABLE, PER_ITEM)].status == SKIPPED
    assert "only 2 of 6 rows fit" in groups[(TABLE, PER_ITEM)].note
    assert groups[(COLUMN, PER_ITEM)].status == SKIPPED


def test_a_header_that_does_not_fit_is_skipped_with_the_reason(store):
    header = " ".join(f"word{i}" for i in range(300))
    frame = pd.DataFrame({header: ["x"] * 5, "b": ["y"] * 5})
    groups = by_kind(
        run(
            run_column_order,
            [Table("wide", frame, "test")],
            TableEncoder(store, BagOfWordsEncoder()),
        )
    )
    assert groups[(TABLE, PER_ITEM)].status == SKIPPED
    assert "headers alone" in groups[(TABLE, PER_ITEM)].note
    assert (
        groups[(ROW, PER_ITEM)].status == SKIPPED and "row 1 needs" in groups[(ROW, PER_ITEM)].note
    )


def test_row_embeddings_are_measured_on_the_leading_rows_only(store):
    n = MAX_ROW_ITEMS + 6
    frame = pd.DataFrame({"k": [f"r{i}" for i in range(n)], "v": list(range(n))})
    groups = by_kind(
        run(
            run_column_order,
            [Table("many", frame, "test")],
            TableEncoder(store, BagOfWordsEncoder()),
        )
    )
    rows = groups[(ROW, PER_ITEM)]
    assert rows.rows_used == MAX_ROW_ITEMS == len(rows.items)
    assert f"first {MAX_ROW_ITEMS} rows" in rows.note


def test_contextual_mode_not_requested_is_said_so(store):
    groups = by_kind(
        run(run_row_order, [cities()], TableEncoder(store, ColumnLocalEncoder()), contextual=False)
    )
    assert groups[(COLUMN, CONTEXTUAL)].status == SKIPPED
    assert "not requested" in groups[(COLUMN, CONTEXTUAL)].note


def test_readings_state_the_numbers(store):
    encoder = TableEncoder(store, BagOfWordsEncoder())
    row = reading_row_order(run(run_row_order, [cities(), cities(3)], encoder), {})
    assert "Row order barely moves bag-of-words column embeddings (mean cosine 1.000" in row
    assert "K = 5" in row and "row embeddings are invariant by design" in row
    assert "5 of 8 groups were skipped: 3 rows; row order needs at least 4 rows (x4); " in row
    column = reading_column_order(run(run_column_order, [cities()], encoder), {})
    assert "row embeddings (mean cosine 1.000" in column
    assert "per-item column embeddings are invariant by design" in column


# --- the real bundled MiniLM ------------------------------------------------------------------


@pytest.fixture
def products() -> Table:
    return next(t for t in demo_tables() if t.name == "products")


@pytest.mark.slow
def test_minilm_column_embeddings_barely_move_under_row_order(store, default_encoder, products):
    groups = by_kind(run(run_row_order, [products], TableEncoder(store, default_encoder)))
    column = groups[(COLUMN, PER_ITEM)]
    assert column.status == OK and column.k == 5
    assert column.cosine >= 0.95 and column.mcv < 0.01
    assert groups[(COLUMN, CONTEXTUAL)].cosine >= 0.95


@pytest.mark.slow
def test_minilm_row_and_table_embeddings_change_with_column_order(store, default_encoder, products):
    groups = by_kind(run(run_column_order, [products], TableEncoder(store, default_encoder)))
    assert groups[(COLUMN, PER_ITEM)].status == INVARIANT
    assert groups[(ROW, PER_ITEM)].cosine < 0.99
    assert groups[(TABLE, PER_ITEM)].cosine < 0.98
    contextual = groups[(COLUMN, CONTEXTUAL)]
    assert contextual.status == OK and contextual.cosine < 0.995
