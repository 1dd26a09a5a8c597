"""Functional dependencies: exact discovery, size-matched baselines, hand-computed variances with
a contextual double, then the real MiniLM."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from analysis.tables.data import Table, demo_tables
from analysis.tables.encoding import CONTEXTUAL, TableEncoder
from analysis.tables.fds import (
    CONTEXT_FREE,
    discover_fds,
    discovered_frame,
    discovered_text,
    fd_listing,
    match_groups,
    non_fd_pairs,
    reading_functional_dependencies,
    run_functional_dependencies,
    value_groups,
)
from analysis.tables.scores import NOT_MEANINGFUL, OK, SKIPPED
from tests.tables.context import property_context
from tests.tables.doubles import BagOfWordsEncoder


def demo(name: str) -> Table:
    return next(t for t in demo_tables() if t.name == name)


def run(tables: Sequence[Table], encoders, seed: int = 0):
    ctx = property_context("functional-dependencies", tables, encoders, seed=seed)
    return run_functional_dependencies(ctx)


# --- discovery ----------------------------------------------------------------------------------


def staff() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["1", "2", "3", "4", "5"],  # a key: determines everything, says nothing
            "dept": ["D1", "D1", "D2", "D2", "D3"],
            "name": ["Eng", "Eng", "Ops", "Ops", "Eng"],
            "city": ["Berlin", "Berlin", "Paris", "Paris", "London"],
            "country": ["DE", "DE", "FR", "FR", "UK"],
            "const": ["x"] * 5,  # constant: trivially determined by anything
            "noise": ["a", "b", "a", "a", "b"],
        }
    )


def test_discovery_finds_exactly_the_hand_listed_fds_and_ignores_keys_and_constants():
    assert discover_fds(staff()) == [
        ("dept", "name"),
        ("dept", "city"),
        ("dept", "country"),
        ("city", "dept"),
        ("city", "name"),
        ("city", "country"),
        ("country", "dept"),
        ("country", "name"),
        ("country", "city"),
    ]


def test_an_fd_broken_by_one_row_is_not_discovered():
    texts = staff()
    texts.loc[4, "name"] = "Ops"  # Ops now in D2 and D3; D3 -> Ops still holds
    texts.loc[1, "city"] = "Munich"  # D1 now in Berlin and Munich
    found = discover_fds(texts)
    assert ("dept", "city") not in found
    assert ("name", "dept") not in found  # Ops -> D2 and D3
    assert ("dept", "name") in found


@pytest.mark.parametrize("name", ["employees", "orders", "cities", "customers", "products"])
def test_discovery_finds_every_declared_fd_of_the_demo_tables_unless_its_lhs_is_a_key(name):
    table = demo(name)
    found = discover_fds(table.texts)
    keys = {c for c in table.columns if table.texts[c].is_unique}
    declared = set(table.declared_fds)
    assert declared, name
    assert {fd for fd in declared if fd[0] not in keys} <= set(found)
    listing = fd_listing(table, found)
    statuses = {(d["determinant"], d["dependent"]): d["status"] for d in listing["declared"]}
    assert all(s != "does not hold" for s in statuses.values())


def test_countries_fds_all_have_key_determinants_and_are_reported_as_trivial():
    table = demo("countries")
    listing = fd_listing(table, discover_fds(table.texts))
    assert len(listing["declared"]) == 7
    assert {d["status"] for d in listing["declared"]} == {"trivial: determinant is a key"}
    assert listing["keys"] == ["area_km2", "capital", "country", "iso_code"]


def test_employees_discovery_marks_which_fds_were_declared():
    table = demo("employees")
    listing = fd_listing(table, discover_fds(table.texts))
    declared = [(d["determinant"], d["dependent"]) for d in listing["discovered"] if d["declared"]]
    assert sorted(declared) == sorted(table.declared_fds)
    assert ("job_title", "office_country") in [
        (d["determinant"], d["dependent"]) for d in listing["discovered"]
    ]


def test_the_reading_names_the_fds_found_and_the_frame_lists_every_one():
    listings = {
        "employees": fd_listing(demo("employees"), discover_fds(demo("employees").texts)),
        "empty": {"discovered": [], "declared": [], "keys": []},
    }
    named = [
        f"employees: {d['determinant']} -> {d['dependent']}"
        for d in listings["employees"]["discovered"]
    ]
    assert len(named) == 11
    text = discovered_text(listings)
    assert text == f"11 exact FD(s) discovered in 2 table(s) ({', '.join(named)})"
    short = discovered_text(listings, shown=3)
    assert short == f"11 exact FD(s) discovered in 2 table(s) ({', '.join(named[:3])} and 8 more)"
    assert discovered_text({"empty": listings["empty"]}) == "0 exact FD(s) discovered in 1 table(s)"
    frame = discovered_frame({"extra": {"fds": listings}})
    assert list(frame.columns) == ["table", "determinant", "dependent", "declared"]
    assert len(frame) == 11 and set(frame["table"]) == {"employees"}
    assert frame["declared"].sum() == len(demo("employees").declared_fds)


# --- groups and matching -----------------------------------------------------------------------


def test_value_groups_keep_repeated_pairs_and_leave_empty_cells_out():
    texts = pd.DataFrame({"a": ["p", "p", "q", "q", "p", ""], "b": ["u", "u", "v", "w", "u", "u"]})
    groups = value_groups(texts, "a", "b")
    assert [g.tolist() for g in groups] == [[0, 1, 4]]


def test_non_fd_pairs_exclude_fds_in_either_direction_keys_and_constants():
    texts = staff()
    pairs = non_fd_pairs(texts, discover_fds(texts))
    # name ~ city is out too: city -> name holds, so the pair is linked.
    assert pairs == [("dept", "noise"), ("name", "noise"), ("city", "noise"), ("country", "noise")]


def test_matched_groups_have_the_fd_group_sizes_and_cut_the_fd_group_when_nothing_is_larger():
    candidates = [(("a", "b"), np.array([10, 11])), (("c", "d"), np.array([20, 21, 22, 23]))]
    fd_groups = [np.array([0, 1, 2]), np.array([3, 4]), np.array([5, 6, 7, 8, 9])]
    matched = match_groups(fd_groups, candidates, np.random.default_rng(0))
    assert [len(m.fd_rows) for m in matched] == [3, 2, 4]
    assert [len(m.rows) for m in matched] == [3, 2, 4]
    assert matched[0].pair == ("c", "d") and set(matched[0].rows) <= {20, 21, 22, 23}
    assert matched[0].fd_rows.tolist() == [0, 1, 2] and not matched[0].subsampled
    assert matched[2].subsampled and set(matched[2].fd_rows) <= {5, 6, 7, 8, 9}
    assert len(set(matched[2].fd_rows)) == 4
    again = match_groups(fd_groups, candidates, np.random.default_rng(0))
    assert [m.rows.tolist() for m in again] == [m.rows.tolist() for m in matched]


def test_no_candidates_means_no_matches():
    assert match_groups([np.array([0, 1])], [], np.random.default_rng(0)) == []


# --- hand-computed variances with a contextual double ------------------------------------------


def fd_table() -> Table:
    """x -> y is the only FD; (x, z) and (y, z) are non-FD pairs whose only 3-row groups are
    rows 6-8, so every 3-row FD group is matched with those rows."""
    frame = pd.DataFrame(
        {
            "x": ["p", "p", "p", "q", "q", "q", "r", "r", "r"],
            "y": ["P", "P", "P", "P", "P", "P", "Q", "Q", "Q"],
            "z": ["u", "v", "w", "u", "v", "w", "u", "u", "u"],
        }
    )
    return Table("fd", frame, "test")


class FixedCells:
    """A contextual stand-in whose cell embeddings are given (1-dimensional)."""

    contextual = True
    name = "fixed"

    def __init__(self, x: list[float], y: list[float]) -> None:
        cells = np.zeros((1, 9, 3, 1))
        cells[0, :, 0, 0] = x
        cells[0, :, 1, 0] = y
        self.cells = cells

    def cell_vectors(self, texts: pd.DataFrame, layers=(-1,)) -> np.ndarray:
        return self.cells


@pytest.mark.parametrize(
    ("y_first_rows", "fd_variance", "reflected"),
    [([0, 0, 6], 8 / 3, False), ([0, 0, 0], 0.0, True)],
)
def test_fd_and_matched_variances_match_the_hand_computation(y_first_rows, fd_variance, reflected):
    # d(x, y) per FD group: rows 0-2 = |0 - y|, rows 3-5 = |0 - 1| = 1, rows 6-8 = 0.
    # Baseline: d(x, z) = d(y, z) = 1, 2, 3 on rows 6-8 -> variance 2/3 for every match.
    x = [0, 0, 0, 0, 0, 0, 1, 2, 3]
    y = [*y_first_rows, 1, 1, 1, 1, 2, 3]
    assert discover_fds(fd_table().texts) == [("x", "y")]
    output = run([fd_table()], [FixedCells(x, y)])
    group = output.groups[0]
    assert (group.status, group.mode) == (OK, CONTEXTUAL)
    [item] = group.items
    assert item["item"] == "x -> y"
    assert (item["groups"], item["subsampled"]) == (3, 0)
    assert item["fd_variance"] == pytest.approx(fd_variance)
    assert item["non_fd_variance"] == pytest.approx(2 / 3)
    assert item["ratio"] == pytest.approx(fd_variance / (2 / 3))
    assert item["reflected"] is reflected
    assert group.extra["reflected"] == int(reflected)
    assert output.extra["fds"]["fd"]["discovered"] == [
        {"determinant": "x", "dependent": "y", "declared": False}
    ]


def test_context_free_encoders_are_flagged_not_meaningful(store):
    output = run([fd_table()], [TableEncoder(store, BagOfWordsEncoder())])
    [group] = output.groups
    assert (group.status, group.mode) == (NOT_MEANINGFUL, CONTEXT_FREE)
    assert "trivially 0" in group.note
    reading = reading_functional_dependencies(output.groups, output.extra)
    assert reading.startswith("1 exact FD(s) discovered in 1 table(s) (fd: x -> y);")
    assert "not measured" in reading and "trivially 0" in reading


def test_a_table_without_fds_is_skipped_with_the_reason(store):
    frame = pd.DataFrame({"a": ["1", "1", "2", "2"], "b": ["u", "v", "u", "v"]})
    [group] = run([Table("none", frame, "test")], [FixedCells([0] * 9, [0] * 9)]).groups
    assert group.status == SKIPPED and "no exact single-column FD" in group.note


def test_a_table_whose_non_fd_pairs_never_repeat_has_no_baseline_and_is_skipped():
    [group] = run([demo("products")], [FixedCells([0] * 9, [0] * 9)]).groups
    assert discover_fds(demo("products").texts) == [("supplier", "category")]
    assert group.status == SKIPPED and "no baseline" in group.note


# --- the real bundled MiniLM ------------------------------------------------------------------


@pytest.mark.slow
def test_minilm_on_employees_measures_every_discovered_fd_against_a_matched_baseline(
    store, default_encoder
):
    table = demo("employees").with_columns(
        ["first_name", "last_name", "department_id", "department_name", "office_city"]
    )
    encoder = TableEncoder(store, default_encoder)
    output = run([table], [encoder])
    [group] = output.groups
    assert (group.status, group.mode, group.rows_used) == (OK, CONTEXTUAL, 200)
    assert [i["item"] for i in group.items] == [f"{x} -> {y}" for x, y in discover_fds(table.texts)]
    assert ("department_id", "department_name") in discover_fds(table.texts)
    for item in group.items:
        assert item["fd_variance"] > 0 and item["non_fd_variance"] > 0  # context moves cells
        assert item["ratio"] == pytest.approx(item["fd_variance"] / item["non_fd_variance"])
        assert item["reflected"] == (item["fd_variance"] < item["non_fd_variance"])
    # The matching depends on the texts and the seed only: a second run gives the same numbers.
    again = run([table], [encoder]).groups[0]
    assert [i["non_fd_variance"] for i in again.items] == [
        i["non_fd_variance"] for i in group.items
    ]
    reading = reading_functional_dependencies(output.groups, output.extra)
    assert f"of {len(group.items)} FD(s) have a lower within-group variance" in reading


def test_empty_cells_are_missing_values_not_a_shared_value():
    texts = pd.DataFrame(
        {
            "a": ["x", "x", "", "", "y", "y"],
            "b": ["1", "2", "", "", "3", "4"],
            "c": ["p", "p", "", "", "q", "q"],
        }
    )
    found = discover_fds(texts)
    # b's present values are unique (a key): grouping its two gaps together made b -> a look
    # like a real dependency
    assert ("b", "a") not in found and ("b", "c") not in found
    assert ("a", "c") in found and ("c", "a") in found


def test_a_row_too_long_for_one_sequence_skips_that_table_only(store, default_encoder):
    long = " ".join(["word"] * 400)
    frame = pd.DataFrame(
        {
            "k": ["a", "a", "b", "b"],
            "v": [long, long, "x", "x"],
            "g": ["1", "1", "1", "2"],
            "h": ["u", "u", "w", "u"],
        }
    )
    [group] = run([Table("long", frame, "test")], [TableEncoder(store, default_encoder)]).groups
    assert group.status == "skipped" and "alone needs more than 256 tokens" in group.note
