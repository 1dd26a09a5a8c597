"""Tests for the measures (cosine to the original, MCV), permutations and score groups.

The MCV and cosine values are checked against numbers computed by hand, so a change of formula
(all pairs instead of original-vs-variant, population instead of sample covariance, a missing
square root) fails here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.tables.data import demo_tables
from analysis.tables.measures import cosine_to_original, item_scores, mcv
from analysis.tables.permutations import (
    MAX_PERMUTATIONS,
    expected_count,
    inverse,
    permutations,
)
from analysis.tables.scores import INVARIANT, OK, SKIPPED, ScoreGroup, unmeasured

# --- MCV ---------------------------------------------------------------------------------------

# z0 = (1, 0), z1 = (0, 1), z2 = (1, 1)
# mu = (2/3, 2/3); centred rows: (1/3, -2/3), (-2/3, 1/3), (1/3, 1/3)
# S (n - 1 = 2) = 1/2 * [[6/9, -3/9], [-3/9, 6/9]] = [[1/3, -1/6], [-1/6, 1/3]]
# mu' S mu = (4/9) * (1/3 + 1/3 - 2/6) = 4/27;  mu' mu = 8/9
# MCV = sqrt(4/27) / (8/9) = 0.3849001795 / 0.8888888889 = 0.4330127019 (= sqrt(3) / 4)
HAND_VECTORS = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
HAND_MCV = 0.4330127018922193


def test_mcv_matches_the_hand_computed_example():
    assert mcv(HAND_VECTORS) == pytest.approx(HAND_MCV, abs=1e-12)
    assert math.isclose(HAND_MCV, math.sqrt(3) / 4, abs_tol=1e-15)


def test_mcv_uses_the_sample_covariance_not_the_population_one():
    # With the population covariance (divide by n = 3) the value would be sqrt(2/3) times smaller.
    population = math.sqrt((4 / 27) * 2 / 3) / (8 / 9)
    assert mcv(HAND_VECTORS) != pytest.approx(population, abs=1e-6)


def test_mcv_is_zero_for_identical_vectors():
    vector = np.array([0.3, -1.2, 4.0, 0.5])
    assert mcv(np.tile(vector, (6, 1))) == pytest.approx(0.0, abs=1e-12)


def test_mcv_is_positive_when_the_vectors_differ():
    assert mcv(np.array([[1.0, 0.0], [1.0, 0.1]])) > 0


@pytest.mark.parametrize("scale", [0.001, 3.0, 250.0])
def test_mcv_is_scale_invariant(scale):
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((6, 12)) + 2.0
    assert mcv(scale * vectors) == pytest.approx(mcv(vectors), rel=1e-10)


@pytest.mark.parametrize(("n", "dim", "seed"), [(2, 5, 0), (6, 384, 1), (40, 8, 2)])
def test_mcv_equals_the_explicit_covariance_formula(n, dim, seed):
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim)) + rng.standard_normal(dim)
    mu = vectors.mean(axis=0)
    covariance = np.cov(vectors, rowvar=False, ddof=1)
    expected = math.sqrt(mu @ covariance @ mu) / (mu @ mu)
    assert mcv(vectors) == pytest.approx(expected, abs=1e-10)


def test_mcv_refuses_a_single_vector():
    with pytest.raises(ValueError, match="at least two"):
        mcv(np.ones((1, 3)))


def test_mcv_of_a_zero_mean_is_nan_not_a_crash():
    assert math.isnan(mcv(np.array([[1.0, -1.0], [-1.0, 1.0]])))


# --- cosine to the original ------------------------------------------------------------------


def test_cosine_to_original_matches_the_hand_computed_example():
    # cos((1,0), (2,0)) = 1; cos((1,0), (0,5)) = 0; cos((1,0), (1,1)) = 1/sqrt(2) = 0.7071067812
    # mean = (1 + 0 + 0.7071067812) / 3 = 0.5690355937
    original = np.array([1.0, 0.0])
    variants = np.array([[2.0, 0.0], [0.0, 5.0], [1.0, 1.0]])
    assert cosine_to_original(original, variants) == pytest.approx(0.5690355937, abs=1e-9)


def test_cosine_compares_with_the_original_not_all_pairs():
    # Two identical variants orthogonal to the original: all pairs would give (0 + 0 + 1) / 3.
    original = np.array([1.0, 0.0])
    variants = np.array([[0.0, 1.0], [0.0, 1.0]])
    assert cosine_to_original(original, variants) == pytest.approx(0.0, abs=1e-12)


def test_cosine_refuses_no_variants():
    with pytest.raises(ValueError, match="no variants"):
        cosine_to_original(np.ones(3), np.empty((0, 3)))


def test_item_scores_put_the_original_into_the_mcv():
    original = HAND_VECTORS[0]
    scores = item_scores(original, HAND_VECTORS[1:])
    assert scores["mcv"] == pytest.approx(HAND_MCV, abs=1e-12)
    # cos((1,0),(0,1)) = 0, cos((1,0),(1,1)) = 0.7071067812 -> mean 0.3535533906
    assert scores["cosine"] == pytest.approx(0.3535533906, abs=1e-9)


# --- permutations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "k"), [(3, 10), (4, 5), (4, 20), (5, 100), (6, 5), (12, 20), (5, 119), (5, 200)]
)
def test_permutations_identity_first_then_distinct_non_identity(n, k):
    result = permutations(n, k, seed=0)
    identity = tuple(range(n))
    assert result[0] == identity
    assert identity not in result[1:]
    assert len(set(result)) == len(result)
    assert len(result) - 1 == min(k, math.factorial(n) - 1) == expected_count(n, k)
    for permutation in result:
        assert sorted(permutation) == list(range(n))


def test_permutations_of_three_items_with_k_10_are_all_five_others():
    result = permutations(3, 10, seed=0)
    assert len(result) == 6
    assert set(result) == {
        (0, 1, 2),
        (0, 2, 1),
        (1, 0, 2),
        (1, 2, 0),
        (2, 0, 1),
        (2, 1, 0),
    }


def test_permutations_of_two_and_one_items():
    assert permutations(2, 5, seed=0) == [(0, 1), (1, 0)]
    assert permutations(1, 5, seed=0) == [(0,)]
    assert expected_count(1, 5) == 0


def test_permutations_are_reproducible_and_depend_on_the_seed():
    assert permutations(8, 5, seed=3) == permutations(8, 5, seed=3)
    assert permutations(8, 5, seed=3) != permutations(8, 5, seed=4)


@pytest.mark.parametrize("k", [0, -1, MAX_PERMUTATIONS + 1])
def test_permutations_refuse_k_out_of_range(k):
    with pytest.raises(ValueError, match="K must be between"):
        permutations(5, k, seed=0)


def test_row_permutations_have_the_length_of_the_rows_not_the_columns():
    # products: 23 rows, 4 columns. Permuting rows by the column count (the reference-code
    # mix-up) would only ever shuffle the first four rows.
    table = next(t for t in demo_tables() if t.name == "products")
    n_rows, n_cols = table.frame.shape
    assert n_rows != n_cols
    result = permutations(n_rows, 5, seed=0)
    assert all(len(p) == n_rows for p in result)
    assert any(p[n_cols:] != tuple(range(n_cols, n_rows)) for p in result[1:])
    for permutation in result[1:]:
        shuffled = table.frame.iloc[list(permutation)]
        assert len(shuffled) == n_rows
        assert sorted(shuffled["product"]) == sorted(table.frame["product"])


def test_inverse_realigns_variants_to_the_original_order():
    original = np.array(["a", "b", "c", "d", "e"])
    for permutation in permutations(5, 10, seed=1)[1:]:
        variant = original[list(permutation)]
        back = inverse(permutation)
        assert [variant[back[i]] for i in range(5)] == original.tolist()
        assert (variant[back] == original).all()


def test_inverse_of_a_three_cycle():
    # permutation (2, 0, 1): position 0 holds item 2, position 1 item 0, position 2 item 1,
    # so item 0 is at 1, item 1 at 2, item 2 at 0.
    assert inverse((2, 0, 1)).tolist() == [1, 2, 0]


# --- score groups ------------------------------------------------------------------------------


def test_score_group_means_ignore_missing_and_nan_scores():
    group = ScoreGroup(
        property="row_order",
        model="m",
        table="t",
        granularity="column",
        mode="per-item",
        k=5,
        items=[
            {"item": "a", "cosine": 0.9, "mcv": 0.01},
            {"item": "b", "cosine": 0.7, "mcv": float("nan")},
            {"item": "c", "cosine": None, "mcv": 0.03},
        ],
    )
    assert group.cosine == pytest.approx(0.8)
    assert group.mcv == pytest.approx(0.02)


def test_score_group_round_trips_through_json_and_refuses_unknown_status():
    group = ScoreGroup(
        property="row_order",
        model="m",
        table="t",
        granularity="row",
        mode="contextual",
        status=OK,
        k=3,
        rows_used=10,
        items=[{"item": "r1", "cosine": 0.5, "mcv": 0.1}],
        extra={"seed": 0},
    )
    assert ScoreGroup.from_json(group.to_json()) == group
    with pytest.raises(ValueError, match="unknown status"):
        ScoreGroup(property="p", model="m", table="t", granularity="row", mode="x", status="bad")


def test_unmeasured_group_keeps_its_reason_and_has_no_scores():
    group = unmeasured("row_order", "m", "t", "row", "per-item", SKIPPED, "only 3 rows")
    assert (group.status, group.note, group.cosine, group.mcv) == (
        SKIPPED,
        "only 3 rows",
        None,
        None,
    )
    assert unmeasured("column_order", "m", "t", "column", "per-item", INVARIANT, "").status == (
        INVARIANT
    )
