"""Heterogeneous context: which sub-tables make each context, purity by hand, the skip for
models without token states, then the real MiniLM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.tables.data import Table, demo_tables
from analysis.tables.encoding import CONTEXTUAL, TableEncoder
from analysis.tables.hetero_context import (
    ALONE,
    CONTEXTS,
    WHOLE,
    context_columns,
    kmeans_purity,
    purity,
    reading_heterogeneous_context,
    run_heterogeneous_context,
)
from analysis.tables.scores import OK, SKIPPED
from analysis.tables.serialise import COLUMN
from tests.tables.context import property_context
from tests.tables.doubles import BagOfWordsEncoder


def run(tables, encoders, seed: int = 0):
    ctx = property_context("heterogeneous-context", tables, encoders, seed=seed)
    return run_heterogeneous_context(ctx)


def test_context_sub_tables_keep_table_order_and_the_subject_has_no_subject_context():
    plan = context_columns(["a", "b", "c", "d"], subject="b")
    assert plan["alone"] == {"a": ["a"], "b": ["b"], "c": ["c"], "d": ["d"]}
    assert plan["with subject"] == {"a": ["a", "b"], "c": ["b", "c"], "d": ["b", "d"]}
    assert plan["with neighbours"] == {
        "a": ["a", "b"],
        "b": ["a", "b", "c"],
        "c": ["b", "c", "d"],
        "d": ["c", "d"],
    }
    assert plan["whole table"] == {c: ["a", "b", "c", "d"] for c in "abcd"}


def test_purity_by_hand():
    # Cluster 0 holds x, x, y (majority 2), cluster 1 holds y (1): 3 of 4.
    assert purity(["x", "x", "y", "y"], [0, 0, 0, 1]) == 0.75
    assert purity(["x", "y", "x", "y"], [5, 7, 5, 7]) == 1.0


def test_kmeans_purity_separates_well_separated_types_and_chance_is_lower():
    vectors = np.array([[1, 0.01], [1, 0.02], [1, -0.01], [0.01, 1], [0.02, 1], [-0.01, 1]])
    result = kmeans_purity(vectors, ["a", "a", "a", "b", "b", "b"], seed=0)
    assert result["purity"] == 1.0 and (result["k"], result["n_columns"]) == (2, 6)
    assert 0.5 <= result["chance"] < 0.9


def test_models_without_token_states_are_skipped_per_table(store):
    tables = [t for t in demo_tables() if t.name in ("products", "cities")]
    output = run(tables, [TableEncoder(store, BagOfWordsEncoder())])
    assert [(g.table, g.status) for g in output.groups] == [
        ("cities", SKIPPED),
        ("products", SKIPPED),
    ]
    assert "no token states" in output.groups[0].note
    assert output.extra["purity"] == {}
    assert "not measured" in reading_heterogeneous_context(output.groups, output.extra)


# --- the real bundled MiniLM ------------------------------------------------------------------


def small_countries() -> Table:
    table = next(t for t in demo_tables() if t.name == "countries")
    return Table(
        "countries",
        table.frame.iloc[:12][["country", "capital", "continent", "currency"]],
        table.source,
        subject_column="country",
        semantic_types={"country": "country", "capital": "city", "continent": "continent"},
    )


def small_cities() -> Table:
    table = next(t for t in demo_tables() if t.name == "cities")
    return Table(
        "cities",
        table.frame.iloc[:12][["city", "country", "continent"]],
        table.source,
        subject_column="city",
        semantic_types={"city": "city", "country": "country", "continent": "continent"},
    )


@pytest.fixture
def minilm_output(store, default_encoder):
    encoder = TableEncoder(store, default_encoder)
    return encoder, run([small_countries(), small_cities()], [encoder])


@pytest.mark.slow
def test_minilm_gives_six_context_pairs_per_table_with_the_columns_they_share(minilm_output):
    encoder, output = minilm_output
    groups = [g for g in output.groups if g.table == "countries"]
    assert len(groups) == 6 and all(g.status == OK for g in groups)
    assert all((g.granularity, g.mode) == (COLUMN, CONTEXTUAL) for g in groups)
    by_condition = {g.condition: g for g in groups}
    assert set(by_condition) == {
        f"{a} vs {b}" for i, a in enumerate(CONTEXTS) for b in CONTEXTS[i + 1 :]
    }
    # The subject column has no "with subject" context.
    assert [i["item"] for i in by_condition["alone vs with subject"].items] == [
        "capital",
        "continent",
        "currency",
    ]
    alone_whole = by_condition[f"{ALONE} vs {WHOLE}"]
    assert [i["item"] for i in alone_whole.items] == ["country", "capital", "continent", "currency"]
    assert all(0.3 < i["cosine"] < 0.9999 for i in alone_whole.items)  # context moves them
    assert alone_whole.rows_used == encoder.context_fit(small_countries().texts).rows


@pytest.mark.slow
def test_minilm_alone_is_the_one_column_contextual_encoding(minilm_output):
    encoder, output = minilm_output
    table = small_countries()
    rows = encoder.context_fit(table.texts).rows
    texts = table.texts.iloc[:rows]
    alone, whole = encoder.contextual_columns([texts[["capital"]], texts])  # [C, dim] each
    expected = float(alone[0] @ whole[1] / (np.linalg.norm(alone[0]) * np.linalg.norm(whole[1])))
    group = next(
        g for g in output.groups if g.table == "countries" and g.condition == "alone vs whole table"
    )
    capital = next(i for i in group.items if i["item"] == "capital")
    assert capital["cosine"] == pytest.approx(expected, abs=1e-5)


@pytest.mark.slow
def test_minilm_purity_is_reported_per_context_over_all_labelled_columns(minilm_output):
    encoder, output = minilm_output
    purities = output.extra["purity"][encoder.name]
    assert set(purities) == set(CONTEXTS)
    assert purities[ALONE]["k"] == 3 and purities[ALONE]["n_columns"] == 6
    assert purities["with subject"]["n_columns"] == 4  # the two subject columns have none
    assert all(0 < p["purity"] <= 1 for p in purities.values())
    assert output.extra["subject_columns"] == {"countries": "country", "cities": "city"}
    reading = reading_heterogeneous_context(output.groups, output.extra)
    assert "mean cosine over columns alone vs with subject" in reading
    assert "alone vs whole table 0." in reading and "k-means purity" in reading


def test_a_table_too_wide_for_one_sequence_is_skipped_with_the_reason(store, default_encoder):
    wide = Table("wide", pd.DataFrame({f"header {i} " * 30: ["v"] for i in range(6)}), "test")
    [group] = run([wide], [TableEncoder(store, default_encoder)]).groups
    assert group.status == SKIPPED and "contextual sequence" in group.note
