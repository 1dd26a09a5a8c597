"""Perturbation robustness: each header and value variant by hand, changed-columns-only scoring
with the bag-of-words double, and the real MiniLM's sensitivity to header wording."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.tables.data import Table, demo_tables
from analysis.tables.encoding import CONTEXTUAL, PER_ITEM, TableEncoder
from analysis.tables.perturbation import (
    HEADER_VARIANTS,
    KINDS,
    header_words,
    perturbed,
    reading_perturbation,
    replace_words,
    run_perturbation,
)
from analysis.tables.scores import OK, SKIPPED, ScoreGroup
from analysis.tables.serialise import column_text
from tests.tables.context import property_context
from tests.tables.doubles import BagOfWordsEncoder


def run(tables, encoder, **request) -> list[ScoreGroup]:
    return run_perturbation(property_context("perturbation", tables, [encoder], **request)).groups


def shop() -> Table:
    frame = pd.DataFrame(
        {
            "office_city": ["Berlin", "Lima", "Oslo", "Rome"],
            "xyzzy": ["a1", "b2", "c3", "d4"],
            "salary": [71500, 800, 1234, 52000],
            "price": [12.5, 3.0, 1999.99, 7.25],
            "hire_date": ["2024-03-01", "2023-12-25", "2021-09-22", "2020-01-05"],
        }
    )
    return Table("shop", frame, "test")


def test_every_demo_header_word_with_a_meaning_has_a_synonym_or_abbreviation():
    for table in demo_tables():
        for column in table.columns:
            changed = {replace_words(column, field) for field in ("synonym", "abbreviation")}
            assert changed != {column}, column
    assert len(header_words()) >= 40


@pytest.mark.parametrize(
    ("variant", "header", "expected"),
    [
        ("synonym", "office_city", "branch_town"),
        ("synonym", "officeCity", "branchTown"),
        ("synonym", "Office City", "Branch Town"),
        ("synonym", "COUNTRY", "NATION"),
        ("abbreviation", "first_name", "fname"),  # two-word phrase before single words
        ("abbreviation", "department_name", "dept_nm"),
        ("abbreviation", "xyzzy", "xyzzy"),
        ("upper case", "office_city", "OFFICE_CITY"),
        ("title case", "office_city", "Office_City"),
        ("camel case", "office_city", "officeCity"),
        ("camel case", "country", "country"),
        ("word separator", "office_city", "office city"),
        ("word separator", "office city", "office_city"),
        ("word separator", "officeCity", "office city"),
    ],
)
def test_header_variants(variant, header, expected):
    assert HEADER_VARIANTS[variant](header) == expected


def test_value_variants_start_from_the_typed_values():
    table = shop()
    assert perturbed(table, "thousands separators")["salary"].tolist() == [
        "71,500",
        "800",
        "1,234",
        "52,000",
    ]
    assert perturbed(table, "thousands separators")["price"].tolist()[2] == "1,999.99"
    assert perturbed(table, "decimal point")["salary"].tolist()[:2] == ["71500.0", "800.0"]
    assert perturbed(table, "decimal point")["price"].tolist() == ["12.5", "3.0", "1999.99", "7.25"]
    assert perturbed(table, "date d/m/y")["hire_date"].tolist()[0] == "01/03/2024"
    assert perturbed(table, "date long")["hire_date"].tolist()[:2] == [
        "March 1, 2024",
        "December 25, 2023",
    ]
    assert perturbed(table, "values upper case")["office_city"].tolist()[0] == "BERLIN"
    assert perturbed(table, "values lower case")["xyzzy"].tolist() == table.texts["xyzzy"].tolist()
    assert perturbed(table, "whitespace")["xyzzy"].tolist()[0] == "  a1  "
    # A number column is no date, and a column with one non-date is not reformatted.
    assert perturbed(table, "date long")["salary"].tolist() == table.texts["salary"].tolist()
    mixed = Table("m", pd.DataFrame({"d": ["2024-03-01", "soon"], "e": [1, 2]}), "test")
    assert perturbed(mixed, "date long")["d"].tolist() == ["2024-03-01", "soon"]


def test_a_rename_never_creates_two_columns_of_one_name():
    table = Table("t", pd.DataFrame({"city": ["a"], "town": ["b"]}), "test")
    assert list(perturbed(table, "synonym").columns) == ["city", "town"]


def test_only_changed_columns_are_scored_and_the_rest_are_counted(store):
    table = shop()
    double = BagOfWordsEncoder()
    groups = {
        g.condition: g for g in run([table], TableEncoder(store, double)) if g.mode == PER_ITEM
    }
    assert list(groups) == list(KINDS)
    synonym = groups["synonym"]
    assert synonym.status == OK and synonym.k == 1 and synonym.rows_used == 4
    assert [i["item"] for i in synonym.items] == ["office_city", "salary", "price", "hire_date"]
    assert synonym.extra == {"kind": "header", "columns": 5, "columns_changed": 4}
    assert synonym.items[0]["change"] == "office_city → branch_town"
    embed = BagOfWordsEncoder().encode
    values = table.texts["salary"].tolist()
    original, changed = embed([column_text("salary", values), column_text("pay", values)])
    assert synonym.items[1]["cosine"] == pytest.approx(float(original @ changed), abs=1e-6)
    assert synonym.items[1]["mcv"] is None and "no MCV" in synonym.note
    thousands = groups["thousands separators"]
    assert [i["item"] for i in thousands.items] == ["salary", "price"]
    assert thousands.items[0]["change"] == "'71500' → '71,500'"
    # The double lower-cases words: a case change is invisible to it, exactly.
    assert groups["upper case"].cosine == pytest.approx(1.0, abs=1e-6)
    assert len(double.calls) == 1


def test_a_variant_that_changes_nothing_keeps_its_place_with_a_count(store):
    table = Table("plain", pd.DataFrame({"xyzzy": ["a", "b"], "plugh": ["c", "d"]}), "test")
    groups = {
        g.condition: g
        for g in run([table], TableEncoder(store, BagOfWordsEncoder()))
        if g.mode == PER_ITEM
    }
    assert groups["synonym"].status == SKIPPED
    assert groups["synonym"].note == "this variant changes no header"
    assert groups["synonym"].extra == {"kind": "header", "columns": 2, "columns_changed": 0}
    assert groups["date long"].note == "this variant changes no kept value"


def test_all_variants_share_the_rows_that_fit_in_every_one(store):
    # "100000" is 2 word pieces and "100,000" is 3: with thousands separators fewer rows fit,
    # and every variant is scored on those rows.
    frame = pd.DataFrame({"n": list(range(100_000, 100_060)), "s": ["a"] * 60})
    table = Table("dense", frame, "test")
    encoder = TableEncoder(store, BagOfWordsEncoder())
    groups = [g for g in run([table], encoder) if g.status == OK]
    rows = {g.rows_used for g in groups}
    assert len(rows) == 1
    assert rows.pop() < encoder.fit(table.texts, "column").rows


def test_contextual_groups_are_skipped_without_token_states(store):
    groups = run([shop()], TableEncoder(store, BagOfWordsEncoder()))
    contextual = [g for g in groups if g.mode == CONTEXTUAL]
    assert len(contextual) == len(KINDS)
    assert all(g.status == SKIPPED and "no token states" in g.note for g in contextual)


def test_reading_orders_variants_by_cosine(store):
    groups = run([shop()], TableEncoder(store, BagOfWordsEncoder()))
    text = reading_perturbation(groups, {})
    assert text.startswith("Perturbations move bag-of-words column embeddings")
    headers = text.split("headers: ")[1].split(";")[0]
    cosines = [float(part.rsplit(" ", 1)[1]) for part in headers.split(", ")]
    assert cosines == sorted(cosines)


# --- the real bundled MiniLM ------------------------------------------------------------------


@pytest.mark.slow
def test_minilm_is_moved_by_header_wording_but_not_by_case(store, default_encoder):
    products = next(t for t in demo_tables() if t.name == "products")
    groups = run([products], TableEncoder(store, default_encoder))
    per_item = {g.condition: g for g in groups if g.mode == PER_ITEM}
    assert per_item["synonym"].cosine < 0.95
    assert per_item["abbreviation"].cosine < 0.95
    assert per_item["camel case"].cosine < 0.99
    assert per_item["decimal point"].cosine < 0.99
    # all-MiniLM-L6-v2 has an uncased tokenizer: case changes reach the same word pieces.
    assert per_item["upper case"].cosine == pytest.approx(1.0, abs=1e-5)
    contextual = {g.condition: g for g in groups if g.mode == CONTEXTUAL}
    assert contextual["synonym"].status == OK and contextual["synonym"].cosine < 1
    assert np.isfinite([g.cosine for g in groups if g.status == OK]).all()
