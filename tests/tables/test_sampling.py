"""Sample fidelity: seeded samples, exact values with the bag-of-words double, the truncation
cap, and the rise with the ratio on the demo tables with the real MiniLM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.tables.data import Table, demo_tables
from analysis.tables.encoding import CONTEXTUAL, PER_ITEM, TableEncoder
from analysis.tables.measures import mcv
from analysis.tables.readings import window_text
from analysis.tables.sampling import reading_sample_fidelity, run_sample_fidelity, sample_rows
from analysis.tables.scores import OK, SKIPPED, ScoreGroup
from analysis.tables.serialise import COLUMN, column_text
from tests.tables.context import property_context
from tests.tables.doubles import BagOfWordsEncoder


def run(tables, encoder, **request) -> list[ScoreGroup]:
    ctx = property_context("sample-fidelity", tables, [encoder], **request)
    return run_sample_fidelity(ctx).groups


def fruit() -> Table:
    frame = pd.DataFrame(
        {
            "fruit": ["apple", "pear", "plum", "fig", "kiwi", "lime", "date", "peach"],
            "colour": ["red", "green", "purple", "brown", "green", "green", "brown", "orange"],
        }
    )
    return Table("fruit", frame, "test")


def test_samples_keep_row_order_have_no_repeats_and_the_asked_size():
    seed = (0, 12345)
    for n, ratio, size in [(10, 0.25, 2), (10, 0.75, 8), (3, 0.1, 1), (200, 0.5, 100)]:
        samples = sample_rows(n, ratio, 3, seed)
        assert len(samples) == 3
        for rows in samples:
            assert len(rows) == size == len(set(rows.tolist()))
            assert (np.diff(rows) > 0).all() and rows.min() >= 0 and rows.max() < n
    again = sample_rows(200, 0.5, 3, seed)
    assert all((a == b).all() for a, b in zip(sample_rows(200, 0.5, 3, seed), again, strict=True))
    other = sample_rows(200, 0.5, 3, (1, 12345))
    assert not all((a == b).all() for a, b in zip(other, again, strict=True))


def test_fidelity_is_the_cosine_of_each_sample_column_to_the_full_column(store):
    table = fruit()
    double = BagOfWordsEncoder()
    groups = run([table], TableEncoder(store, double), ratios=(0.5,), samples=2, seed=3)
    group = next(g for g in groups if g.mode == PER_ITEM)
    assert (group.condition, group.granularity, group.k, group.rows_used) == (
        "ratio 0.5",
        COLUMN,
        2,
        8,
    )
    assert group.extra == {
        "ratio": 0.5,
        "sample_size": 4,
        "sample_rows_used": [4, 4],
        "total_rows": 8,
    }
    samples = sample_rows(8, 0.5, 2, (3, int(table.sha, 16)))
    embed = BagOfWordsEncoder().encode
    for item, column in zip(group.items, table.columns, strict=True):
        values = table.texts[column]
        full = embed([column_text(column, values.tolist())])[0]
        parts = embed([column_text(column, values.iloc[rows].tolist()) for rows in samples])
        assert item["item"] == column
        assert item["cosine"] == pytest.approx(float(np.mean(parts @ full)), abs=1e-6)
        assert item["mcv"] == pytest.approx(mcv(np.vstack([full, parts])), abs=1e-6)
    assert group.cosine < 1
    assert len(double.calls) == 1  # the full table and every sample in one encode call


def test_a_sample_never_gets_more_rows_than_the_full_table_could_use(store):
    long = " ".join(["alpha"] * 58)
    frame = pd.DataFrame({"a": [long, long] + ["x"] * 20, "b": [f"v{i}" for i in range(22)]})
    table = Table("skewed", frame, "test")
    encoder = TableEncoder(store, BagOfWordsEncoder())
    full_rows = encoder.fit(table.texts, COLUMN).rows
    assert full_rows < 11  # the two long rows use up the budget
    group = next(g for g in run([table], encoder, ratios=(0.5,)) if g.mode == PER_ITEM)
    assert group.rows_used == full_rows
    assert group.extra["sample_size"] == 11
    assert max(group.extra["sample_rows_used"]) <= full_rows
    # Samples without the long rows would fit all 11 rows; the cap keeps them comparable.
    assert any(encoder.fit(table.texts.iloc[rows], COLUMN).rows == 11 for rows in _drawn(table))


def _drawn(table: Table) -> list[np.ndarray]:
    return sample_rows(table.n_rows, 0.5, 3, (0, int(table.sha, 16)))


def test_contextual_mode_without_token_states_is_skipped_per_ratio(store):
    groups = run([fruit()], TableEncoder(store, BagOfWordsEncoder()))
    contextual = [g for g in groups if g.mode == CONTEXTUAL]
    assert [g.condition for g in contextual] == ["ratio 0.25", "ratio 0.5", "ratio 0.75"]
    assert all(g.status == SKIPPED and "no token states" in g.note for g in contextual)
    assert [g.extra["ratio"] for g in contextual] == [0.25, 0.5, 0.75]


def test_reading_lists_fidelity_per_ratio(store):
    groups = run([fruit()], TableEncoder(store, BagOfWordsEncoder()), ratios=(0.75, 0.25))
    text = reading_sample_fidelity(groups, {})
    measured = {g.extra["ratio"]: g.cosine for g in groups if g.status == OK}
    shown = f"per-item {measured[0.25]:.3f} / {measured[0.75]:.3f}"
    assert "bag-of-words column embeddings at ratios 0.25 / 0.75" in text and shown in text
    assert "3 samples each" in text and "2 of 4 groups were skipped" in text


# --- the real bundled MiniLM ------------------------------------------------------------------


def _fidelity_by_ratio(store, default_encoder, names: set[str]) -> dict[str, list[float]]:
    """Per table, its mean per-item fidelity at ratios 0.25 / 0.5 / 0.75, checked to rise."""
    tables = [t for t in demo_tables() if t.name in names]
    groups = run(tables, TableEncoder(store, default_encoder), contextual=False)
    out = {}
    for table in tables:
        ratios = [g for g in groups if g.table == table.name and g.mode == PER_ITEM]
        cosines = [g.cosine for g in sorted(ratios, key=lambda g: g.extra["ratio"])]
        assert len(cosines) == 3
        assert cosines[0] < cosines[1] < cosines[2], (table.name, cosines)
        out[table.name] = cosines
    return out


@pytest.mark.slow
def test_minilm_sample_fidelity_rises_with_the_ratio(store, default_encoder):
    cosines = _fidelity_by_ratio(store, default_encoder, {"products", "customers"})
    assert cosines["products"][0] < 0.9  # a quarter of 23 rows is visibly not the table


@pytest.mark.slow
def test_minilm_sample_fidelity_rises_with_the_ratio_on_every_demo_table(store, default_encoder):
    _fidelity_by_ratio(store, default_encoder, {t.name for t in demo_tables()})


def test_a_ratio_whose_sample_is_the_whole_table_is_skipped_not_scored_as_perfect(store):
    two = Table("two", pd.DataFrame({"fruit": ["apple", "pear"], "n": [1, 2]}), "test")
    groups = run([two], TableEncoder(store, BagOfWordsEncoder()), ratios=(0.25, 0.75))
    per_item = {g.condition: g for g in groups if g.mode == PER_ITEM}
    assert per_item["ratio 0.75"].status == SKIPPED
    assert "is the whole table" in per_item["ratio 0.75"].note
    assert per_item["ratio 0.25"].status == OK


def test_the_model_window_is_said_when_it_limits_the_rows_compared(store):
    employees = next(t for t in demo_tables() if t.name == "employees")
    encoder = TableEncoder(store, BagOfWordsEncoder())
    groups = run([employees], encoder, ratios=(0.5,), samples=1, contextual=False)
    [group] = [g for g in groups if g.status == OK]
    assert group.rows_used < 200 and f"{group.rows_used} of the table's 200 rows" in group.note
    said = window_text(groups, [{"name": "employees", "rows": 200}])
    assert said.startswith(f"The model saw only {group.rows_used} of 200 rows of employees ")
    assert "The model saw" not in reading_sample_fidelity(groups, {})  # said once, before it
