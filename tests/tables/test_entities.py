"""Entity stability: which values are entities, overlap@K by hand, model and layer comparisons
with doubles, then the real MiniLM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.tables.data import Table, demo_tables
from analysis.tables.encoding import CONTEXTUAL, TableEncoder
from analysis.tables.entities import (
    entity_columns,
    overlap_at_k,
    reading_entity_stability,
    run_entity_stability,
)
from analysis.tables.fds import CONTEXT_FREE
from analysis.tables.joins import ALL_TABLES
from analysis.tables.scores import NOT_MEANINGFUL, OK, SKIPPED
from analysis.tables.serialise import CELL
from tests.tables.context import property_context
from tests.tables.doubles import BagOfWordsEncoder


def run(tables, encoders, k: int = 10):
    return run_entity_stability(property_context("entity-stability", tables, encoders, entity_k=k))


def at_angles(*degrees: float) -> np.ndarray:
    radians = np.deg2rad(degrees)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1)


# --- overlap@K ---------------------------------------------------------------------------------


def test_overlap_at_k_matches_the_hand_computation():
    # a: items at 0, 10, 90, 100 degrees; b swaps items 1 and 2 (0, 90, 10, 100).
    a, b = at_angles(0, 10, 90, 100), at_angles(0, 90, 10, 100)
    # k = 2: item 0 -> a {1, 2}, b {2, 1}; item 1 -> a {0, 2}, b {3, 2};
    #        item 2 -> a {3, 1}, b {0, 1}; item 3 -> a {2, 1}, b {1, 2}.
    np.testing.assert_allclose(overlap_at_k(a, b, 2), [1.0, 0.5, 0.5, 1.0])
    # k = 1: nearest neighbours are 1, 0, 3, 2 in a and 2, 3, 0, 1 in b: nothing shared.
    np.testing.assert_allclose(overlap_at_k(a, b, 1), [0.0, 0.0, 0.0, 0.0])


def test_the_query_is_never_its_own_neighbour():
    a = at_angles(0, 10, 90, 100)
    # With k = N - 1 every other item is a neighbour, whatever the geometry.
    np.testing.assert_allclose(overlap_at_k(a, at_angles(5, 200, 33, 80), 3), [1.0] * 4)
    np.testing.assert_allclose(overlap_at_k(a, a, 1), [1.0] * 4)


# --- which values are entities ----------------------------------------------------------------


def test_entity_columns_are_name_like_and_mostly_unique():
    texts = pd.DataFrame(
        {
            "id": ["E001", "E002", "E003", "E004", "E005"],  # digits outweigh letters
            "name": ["Ada", "Alan", "Grace", "Edsger", "Ada"],  # 4 of 5 distinct: key-like
            "team": ["red", "red", "blue", "blue", "red"],  # a category
            "joined": ["2020-01-02", "2021-03-04", "2022-05-06", "2023-07-08", "2024-09-10"],
            "salary": ["100", "200", "300", "400", "500"],
            "city": ["Paris", "Rome", "", "Oslo", "Lima"],  # empty cells do not count
        }
    )
    assert entity_columns(texts) == ["name", "city"]


def test_demo_entity_columns():
    columns = {t.name: entity_columns(t.texts) for t in demo_tables()}
    assert columns["countries"] == [
        "country",
        "iso_code",
        "capital",
        "currency",
        "official_language",
    ]
    assert columns["cities"] == ["city", "country"]
    # names are entities even when repeated; ids (digits), categories and dates are not
    assert columns["employees"] == ["first_name", "last_name", "job_title"]
    assert "segment" not in columns["customers"]


# --- comparisons with doubles -----------------------------------------------------------------


def cities() -> Table:
    frame = pd.DataFrame(
        {
            "city": ["Paris", "Rome", "Oslo", "Lima", "Kyiv", "Quito", "Bern"],
            "country": ["France", "Italy", "Norway", "Peru", "Ukraine", "Ecuador", "Swiss"],
            "size": [2, 3, 1, 9, 3, 2, 1],
        }
    )
    return Table("cities", frame, "test")


def capitals() -> Table:
    frame = pd.DataFrame({"capital": ["Paris", "Rome", "Accra"], "pop": [2, 3, 2]})
    return Table("capitals", frame, "test")


def test_two_equal_models_agree_completely_and_chance_is_k_over_n_minus_one(store):
    encoders = [TableEncoder(store, BagOfWordsEncoder(name)) for name in ("one", "two")]
    output = run([cities(), capitals()], encoders, k=3)
    [group] = output.groups
    # city (7) and country (7) of cities, capital of capitals; Paris and Rome occur twice.
    assert output.extra["entities"] == 15
    assert (group.status, group.model, group.table) == (OK, "one vs two", ALL_TABLES)
    assert (group.granularity, group.mode, group.k) == (CELL, CONTEXT_FREE, 3)
    assert group.extra["overlap_at_k"] == 1.0
    assert group.extra["chance"] == pytest.approx(3 / 14)
    assert [i["item"] for i in group.items][:3] == ["Paris", "Rome", "Oslo"]
    assert "each value embedded alone" in group.note


def test_every_pair_of_three_models_is_compared(store):
    encoders = [TableEncoder(store, BagOfWordsEncoder(n)) for n in ("a", "b", "c")]
    output = run([cities()], encoders, k=2)
    assert [g.model for g in output.groups] == ["a vs b", "a vs c", "b vs c"]
    assert output.extra["comparison"] == "models"


def test_k_reaching_every_other_entity_is_not_meaningful(store):
    encoders = [TableEncoder(store, BagOfWordsEncoder(n)) for n in ("a", "b")]
    [group] = run([capitals()], encoders, k=10).groups
    assert group.status == NOT_MEANINGFUL and group.cosine is None
    assert "only 3 entities" in group.note and "1 by construction" in group.note
    [group] = run([capitals()], encoders, k=1).groups
    assert group.status == OK and group.k == 1


def test_one_model_without_layers_is_skipped_asking_for_a_second(store):
    output = run([cities()], [TableEncoder(store, BagOfWordsEncoder())])
    [group] = output.groups
    assert group.status == SKIPPED and "choose a second model" in group.note
    assert reading_entity_stability(output.groups, output.extra).startswith(
        "Entity stability not measured: bag-of-words has no transformer layers"
    )


def test_tables_without_entities_are_skipped(store):
    frame = pd.DataFrame({"code": ["A1", "B2"], "n": [1, 2]})
    encoders = [TableEncoder(store, BagOfWordsEncoder(n)) for n in ("a", "b")]
    [group] = run([Table("codes", frame, "test")], encoders).groups
    assert group.status == SKIPPED and "reads as names" in group.note


# --- the real bundled MiniLM ------------------------------------------------------------------


@pytest.mark.slow
def test_minilm_middle_and_last_layer_agree_well_above_chance(store, default_encoder):
    table = next(t for t in demo_tables() if t.name == "countries").with_columns(
        ["country", "capital", "continent"]
    )
    output = run([table], [TableEncoder(store, default_encoder)])
    [group] = output.groups
    assert (group.status, group.mode, group.model) == (OK, CONTEXTUAL, default_encoder.info.name)
    assert group.condition == "layer 3 vs layer 6"
    assert output.extra["entities"] == 142  # 71 countries + 71 capitals, all distinct
    assert group.extra["chance"] == pytest.approx(10 / 141)
    assert 3 * group.extra["chance"] < group.extra["overlap_at_k"] < 1.0
    reading = reading_entity_stability(output.groups, output.extra)
    assert "layer 3 and layer 6 share" in reading and "over 142 entities" in reading.lower()


@pytest.mark.slow
def test_minilm_against_a_context_free_double(store, default_encoder):
    encoders = [TableEncoder(store, default_encoder), TableEncoder(store, BagOfWordsEncoder())]
    output = run([cities()], encoders, k=3)
    [group] = output.groups
    assert group.model == f"{default_encoder.info.name} vs bag-of-words"
    assert group.mode == CONTEXT_FREE and output.extra["context_free"] == ["bag-of-words"]
    assert 0.0 <= group.extra["overlap_at_k"] < 1.0
