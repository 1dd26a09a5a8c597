"""`python -m analysis tables`: JSON per model and table, stored runs reused, bad input exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the real model on the demo tables


def _run(cli, db: Path, *argv: str):
    """``tables *argv --db db``."""
    return cli("tables", *argv, "--db", str(db))


def _groups(run: dict, **where: str) -> list[dict]:
    return [g for g in run["results"] if all(g[k] == v for k, v in where.items())]


def test_row_order_for_two_models_is_stored_and_reused(tmp_path: Path, cli) -> None:
    db = tmp_path / "t.duckdb"
    argv = ("row-order", "products", "--model", "default", "--model", "lsa", "--permutations", "3")
    code, out, err = _run(cli, db, *argv)
    assert code == 0, err
    (run,) = out["runs"]
    assert run["property"] == "row-order" and not run["reused"]
    assert {m["kind"] for m in run["models"]} == {"sentence-transformers", "lsa"}
    minilm = _groups(run, model="all-MiniLM-L6-v2", granularity="column", mode="per-item")
    assert len(minilm) == 1 and minilm[0]["k"] == 3
    assert minilm[0]["cosine"] > 0.95 and minilm[0]["mcv"] < 0.05
    assert {item["item"] for item in minilm[0]["items"]} == {
        "product",
        "category",
        "unit_price",
        "supplier",
    }
    rows = _groups(run, model="all-MiniLM-L6-v2", granularity="row", mode="per-item")
    assert rows[0]["status"] == "invariant by design" and rows[0]["cosine"] is None
    assert "row order" in run["reading"].lower()
    assert "tables row-order" in err  # progress on stderr
    code, again, _ = _run(cli, db, *argv)
    assert code == 0 and again["runs"][0]["reused"]
    assert again["runs"][0]["results"] == run["results"]


def test_functional_dependencies_lists_the_discovered_fds(tmp_path: Path, cli) -> None:
    code, out, err = _run(
        cli, tmp_path / "t.duckdb", "functional-dependencies", "products", "--max-columns", "3"
    )
    assert code == 0, err
    (run,) = out["runs"]
    assert "fds" in run
    found = json.dumps(run["fds"])
    assert "product" in found and "category" in found


def test_join_reports_spearman_for_a_file_and_a_demo_table(tmp_path: Path, cli) -> None:
    path = tmp_path / "stock.csv"
    path.write_text(
        "item,warehouse\nLaptop,North\nPhone,South\nDesk,North\nChair,East\n", encoding="utf-8"
    )
    code, out, err = _run(cli, tmp_path / "t.duckdb", "join", str(path), "products")
    assert code == 0, err
    (run,) = out["runs"]
    assert "spearman" in run
    assert {t["name"] for t in run["tables"]} == {"stock", "products"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("a,b,a\n1,2,3\n4,5,6\n", "twice"),
        ("a,,c\n1,2,3\n4,5,6\n", "empty header"),
        ("only\n1\n2\n", "only one column"),
        ("a,b\n1,2\n", "only one row"),
        ("a,b\n", "no rows"),
    ],
)
def test_bad_tables_exit_2_with_a_clear_message(
    tmp_path: Path, cli, body: str, expected: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body, encoding="utf-8")
    code, out, err = _run(cli, tmp_path / "t.duckdb", "row-order", str(path))
    assert code == 2 and out is None
    assert expected in err and "Traceback" not in err


def test_unknown_table_and_bad_ratios_exit_2(tmp_path: Path, cli) -> None:
    code, _, err = _run(cli, tmp_path / "t.duckdb", "row-order", "no_such_table")
    assert code == 2 and "countries" in err
    code, _, err = _run(
        cli, tmp_path / "t.duckdb", "sample-fidelity", "products", "--ratios", "0.5", "1.5"
    )
    assert code == 2 and "between 0 and 1" in err
