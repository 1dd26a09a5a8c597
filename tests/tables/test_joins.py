"""Join relationship: hand-computed overlaps, the pairs that are scored, cosines with the
bag-of-words double, then the real MiniLM on the demo join of countries and cities."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from analysis.tables.context import MAX_JOIN_COLUMNS
from analysis.tables.data import Table, demo_tables
from analysis.tables.encoding import PER_ITEM, TableEncoder
from analysis.tables.joins import (
    ALL_TABLES,
    column_pairs,
    documented_joins,
    overlaps,
    reading_join,
    run_join,
    spearman,
    value_counts,
)
from analysis.tables.scores import OK
from analysis.tables.serialise import COLUMN, column_text
from tests.tables.context import property_context
from tests.tables.doubles import BagOfWordsEncoder


def run(tables, encoders):
    return run_join(property_context("join", tables, encoders))


def demo(*names: str) -> list[Table]:
    return [t for t in demo_tables() if t.name in names]


# --- overlaps ----------------------------------------------------------------------------------


def test_overlaps_match_the_hand_computation():
    a = Counter({"x": 2, "y": 1, "z": 1})
    b = Counter({"x": 1, "y": 3, "w": 2})
    # common {x, y}, union {x, y, z, w}; both have 3 distinct values.
    # weighted: min 1 + 1 + 0 + 0 = 2, max 2 + 3 + 1 + 2 = 8.
    assert overlaps(a, b) == {"containment": 2 / 3, "jaccard": 0.5, "weighted_jaccard": 0.25}


def test_containment_is_of_the_column_with_fewer_distinct_values_in_either_order():
    small = Counter({"p": 1, "q": 5})
    large = Counter({"p": 1, "q": 1, "r": 1, "s": 1})
    assert overlaps(small, large)["containment"] == 1.0
    assert overlaps(large, small)["containment"] == 1.0
    assert overlaps(small, large)["jaccard"] == 0.5
    assert overlaps(small, large)["weighted_jaccard"] == pytest.approx(2 / 8)


def test_disjoint_and_empty_columns_overlap_zero():
    assert overlaps(Counter({"a": 1}), Counter({"b": 1})) == {
        "containment": 0.0,
        "jaccard": 0.0,
        "weighted_jaccard": 0.0,
    }
    assert overlaps(Counter(), Counter({"b": 1}))["containment"] == 0.0


def test_value_counts_use_the_canonical_texts_and_skip_empty_cells():
    frame = pd.DataFrame({"n": [1.0, 1, None, 2.0], "s": ["a", "a", "b", "c"]})
    assert value_counts(Table("t", frame, "test"), "n") == Counter({"1": 2, "2": 1})


# --- which pairs ------------------------------------------------------------------------------


def test_one_table_pairs_its_columns_and_several_tables_only_pair_across():
    assert column_pairs({"t": ["a", "b", "c"]}) == [
        (("t", "a"), ("t", "b")),
        (("t", "a"), ("t", "c")),
        (("t", "b"), ("t", "c")),
    ]
    assert column_pairs({"s": ["a", "b"], "t": ["c"], "u": ["d"]}) == [
        (("s", "a"), ("t", "c")),
        (("s", "b"), ("t", "c")),
        (("s", "a"), ("u", "d")),
        (("s", "b"), ("u", "d")),
        (("t", "c"), ("u", "d")),
    ]


def test_documented_joins_come_from_the_manifest_for_demo_tables_only():
    joins = documented_joins(demo("countries", "cities"))
    assert frozenset({("countries", "country"), ("cities", "country")}) in joins
    assert frozenset({("countries", "capital"), ("cities", "city")}) in joins
    lookalike = Table("countries", demo("countries")[0].frame, "upload: countries.csv")
    assert documented_joins([lookalike, demo("cities")[0]]) == set()


def test_at_most_twenty_columns_per_table_are_paired_and_the_rest_is_counted(store):
    wide = Table(
        "wide", pd.DataFrame({f"c{i}": [f"v{i}", "w"] for i in range(23)}), "test"
    )  # every column shares "w"
    other = Table("other", pd.DataFrame({"k": ["w", "z"], "m": ["v0", "q"]}), "test")
    output = run([wide, other], [TableEncoder(store, BagOfWordsEncoder())])
    assert output.extra["columns_left_out"] == {"wide": 3, "other": 0}
    assert output.extra["pairs"] == MAX_JOIN_COLUMNS * 2
    assert len(output.groups[0].items) == 40
    assert "3 column(s) beyond the first 20 left out" in reading_join(output.groups, output.extra)


# --- scores with the double ---------------------------------------------------------------------


def people() -> Table:
    frame = pd.DataFrame({"name": ["Ada", "Alan", "Grace"], "city": ["London", "Paris", "Paris"]})
    return Table("people", frame, "test")


def places() -> Table:
    frame = pd.DataFrame({"city": ["Paris", "Rome", "Oslo"], "country": ["France", "Italy", "NO"]})
    return Table("places", frame, "test")


def test_cosines_are_those_of_the_column_texts_and_overlaps_are_attached(store):
    encoder = BagOfWordsEncoder()
    output = run([people(), places()], [TableEncoder(store, encoder)])
    assert encoder.calls == [2, 2]  # one encode call per (model, table)
    [group] = output.groups
    assert (group.status, group.table, group.granularity, group.mode) == (
        OK,
        ALL_TABLES,
        COLUMN,
        PER_ITEM,
    )
    items = {i["item"]: i for i in group.items}
    assert list(items) == [
        "people.name ~ places.city",
        "people.name ~ places.country",
        "people.city ~ places.city",
        "people.city ~ places.country",
    ]
    pair = items["people.city ~ places.city"]
    texts = [
        column_text("city", ["London", "Paris", "Paris"]),
        column_text("city", ["Paris", "Rome", "Oslo"]),
    ]
    vectors = BagOfWordsEncoder().encode(texts)
    assert pair["cosine"] == pytest.approx(float(vectors[0] @ vectors[1]), abs=1e-6)
    # {London, Paris} vs {Paris, Rome, Oslo}: containment 1/2, Jaccard 1/4, weighted 1/(2+1+1+1).
    assert (pair["containment"], pair["jaccard"]) == (0.5, 0.25)
    assert pair["weighted_jaccard"] == pytest.approx(1 / 5)
    assert pair["documented_join"] is False
    assert group.extra["rows_used"] == {"people": 3, "places": 3}


def test_spearman_is_scipys_and_top_pairs_are_the_most_similar(store):
    output = run(demo("products", "orders"), [TableEncoder(store, BagOfWordsEncoder())])
    [group] = output.groups
    stats = output.extra["spearman"]["bag-of-words"]
    cosines = [i["cosine"] for i in group.items]
    for measure in ("containment", "jaccard", "weighted_jaccard"):
        expected = spearmanr(cosines, [i[measure] for i in group.items])
        assert stats[measure]["rho"] == pytest.approx(expected.statistic)
        assert stats[measure]["p_value"] == pytest.approx(expected.pvalue)
        assert stats[measure]["n"] == 4 * 8
    top = [i["cosine"] for i in output.extra["top_pairs"]["bag-of-words"]]
    assert top == sorted(cosines, reverse=True)[:10]
    documented = [i["item"] for i in group.items if i["documented_join"]]
    assert documented == ["products.product ~ orders.product"]


def test_spearman_is_undefined_with_a_reason_when_one_side_is_constant():
    assert spearman([0.1, 0.5, 0.3], [0.0, 0.0, 0.0]) == {
        "rho": None,
        "p_value": None,
        "n": 3,
        "note": "one of the two is constant over the pairs",
    }
    assert spearman([0.1, 0.5], [0.0, 1.0])["note"] == "fewer than 3 pairs"


def test_reading_names_each_measure_and_the_top_pair(store):
    output = run([people(), places()], [TableEncoder(store, BagOfWordsEncoder())])
    reading = reading_join(output.groups, output.extra)
    assert reading.startswith("4 column pairs across tables; bag-of-words: Spearman ρ of cosine")
    assert "weighted jaccard" in reading and "the most similar pair is" in reading


def test_reading_gives_the_reason_once_when_no_pair_shares_a_value(store):
    table = next(t for t in demo_tables() if t.name == "employees")
    table = table.with_columns(["first_name", "office_city", "job_title", "salary"])
    output = run([table], [TableEncoder(store, BagOfWordsEncoder())])
    assert output.groups[0].table == "employees"
    assert reading_join(output.groups, output.extra) == (
        "6 column pairs within one table; bag-of-words: ρ undefined for containment, jaccard, "
        "weighted jaccard (one of the two is constant over the pairs); the most similar pair is "
        + "{item} (cosine {cosine:.3f}, containment 0.00).".format(
            **output.extra["top_pairs"]["bag-of-words"][0]
        )
    )


# --- the real bundled MiniLM ------------------------------------------------------------------


@pytest.mark.slow
def test_minilm_ranks_the_documented_join_columns_high_and_cosine_follows_overlap(
    store, default_encoder
):
    tables = [
        t.with_columns(["country", "capital", "continent", "currency"]) for t in demo("countries")
    ]
    tables += [t.with_columns(["city", "country", "population_thousands"]) for t in demo("cities")]
    output = run(tables, [TableEncoder(store, default_encoder)])
    [group] = output.groups
    items = {i["item"]: i for i in group.items}
    join = items["countries.country ~ cities.country"]
    assert join["documented_join"] and join["containment"] == 1.0
    others = [i["cosine"] for i in group.items if i["containment"] == 0]
    assert join["cosine"] > max(others)
    rho = output.extra["spearman"][default_encoder.info.name]["containment"]
    assert rho["rho"] > 0.3 and rho["n"] == 12
    assert np.isfinite([i["cosine"] for i in group.items]).all()


def test_no_asymptotic_p_value_for_a_handful_of_pairs():
    few = spearman([0.1, 0.5, 0.9], [0.0, 0.4, 1.0])
    assert few["rho"] == pytest.approx(1.0) and few["p_value"] is None
    assert "no p-value below 10 pairs" in few["note"]
    many = spearman(list(range(12)), [x * x for x in range(12)])
    assert many["p_value"] is not None and many["p_value"] < 0.01
