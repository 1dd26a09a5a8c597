"""Stored table-property runs: what a result is keyed by, and listing and reopening runs."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.tables.context import TablesRequest
from analysis.tables.data import Table, demo_tables, read_table_path
from analysis.tables.estimate import estimate_run
from analysis.tables.property_run import TablePropertyRun
from analysis.tables.runs import request_of, run_params, stored_runs
from tests.shared import PROJECT_ROOT


def _demo(name: str):
    return next(t for t in demo_tables() if t.name == name)


def test_an_upload_of_a_demo_file_does_not_reuse_the_demo_tables_result(store: Store) -> None:
    demo = _demo("products")
    upload = read_table_path(PROJECT_ROOT / "data" / "demo" / "tables" / "products.csv")
    assert upload.sha == demo.sha and upload.name == demo.name  # same name, same cells
    request = TablesRequest(property="functional-dependencies", models=("lsa",))
    TablePropertyRun(store, [demo], request).run()
    assert TablePropertyRun(store, [demo], request).find() is not None
    # the demo table declares FDs, keys and semantic types; the bare upload does not
    assert run_params([upload], request) != run_params([demo], request)
    assert TablePropertyRun(store, [upload], request).find() is None


def test_results_are_keyed_by_the_models_weights_not_only_their_names() -> None:
    params = run_params([_demo("products")], TablesRequest(property="join"))
    assert params["models"] == ["default"]
    assert params["model_keys"][0].startswith("st:all-MiniLM-L6-v2@")


def test_stored_runs_are_listed_newest_first_and_reopen_without_the_tables(store: Store) -> None:
    tables = [_demo("products"), _demo("cities")]
    first = TablePropertyRun(store, tables, TablesRequest(property="join", models=("lsa",))).run()
    row_order = TablesRequest(property="row-order", models=("lsa",))
    second = TablePropertyRun(store, tables[:1], row_order).run()
    runs = stored_runs(store)
    assert [r.result_id for r in runs] == [second.result_id, first.result_id]
    assert runs[1].tables == ["products", "cities"] and runs[1].models == ["lsa"]
    assert "Join relationship" in runs[1].label()
    reopened = TablePropertyRun.reopen(store, first.result_id).find()
    assert reopened is not None and reopened.reused and reopened.result == first.result


def test_every_table_property_has_its_parameters_estimate_and_figures() -> None:
    """Property ids are spelled in several tables; a new or renamed one must reach them all."""
    from analysis.tables.context import PROPERTY_PARAMETERS
    from analysis.tables.estimate import SECONDS_PER_COLUMN
    from analysis.tables.figure_sets import PER_PROPERTY
    from analysis.tables.properties import PROPERTIES

    ids = set(PROPERTIES)
    assert len(ids) == 8
    assert set(PROPERTY_PARAMETERS) == ids
    assert set(SECONDS_PER_COLUMN) == ids
    assert set(PER_PROPERTY) == ids


def test_a_run_is_stored_under_its_property_kind_with_the_run_parameters(store: Store) -> None:
    """Runs stored before the analysis contract used these kinds and parameters: they match."""
    tables = [_demo("products")]
    request = TablesRequest(property="row-order", models=("lsa",), permutations=2)
    run = TablePropertyRun(store, tables, request)
    assert run.kind == "tables:row-order" and run.title == "Row order insignificance"
    assert dict(run.params) == run_params(tables, request)
    assert run.scope.scope_id is None and run.scope.name == "products"
    stored = run.run()
    rows = store.fetch_all(
        "SELECT kind, corpus_id FROM analysis_results WHERE result_id = ?", [stored.result_id]
    )
    assert rows == [("tables:row-order", None)]
    again = TablePropertyRun(store, tables, request)
    found = again.find()
    assert again.job_key == run.job_key and found is not None and found.result == stored.result


def test_a_reopened_run_keeps_its_stored_parameters_and_is_keyed_apart(store: Store) -> None:
    tables = [_demo("products")]
    request = TablesRequest(property="sample-fidelity", models=("lsa",), samples=2)
    run = TablePropertyRun(store, tables, request)
    stored = run.run()
    reopened = TablePropertyRun.reopen(store, stored.result_id)
    assert reopened.params == run.params and reopened.kind == run.kind
    assert reopened.request == request and request_of(dict(run.params)).params() == request.params()
    live = {chart.key for chart in run.figures(stored)}
    old = {chart.key for chart in reopened.figures(stored)}
    assert len(live) == len(old) == 3 and not live & old


def test_the_reading_says_first_how_few_rows_the_model_saw(store: Store) -> None:
    frame = pd.DataFrame(
        {
            "country": [f"country number {i}" for i in range(400)],
            "continent": [("Europe", "Asia", "Africa")[i % 3] for i in range(400)],
            "population": [str(1000 + 7 * i) for i in range(400)],
        }
    )
    big = Table("big", frame, "test")
    request = TablesRequest(property="row-order", models=("lsa",), permutations=2)
    run = TablePropertyRun(store, [big], request)
    stored = run.run()
    used = {g["rows_used"] for g in stored.result["groups"] if g["status"] == "ok"}
    low, high = min(used), max(used)
    assert high < 400
    window = f"{low}-{high}" if low < high else f"{low}"
    assert run.reading(stored).startswith(
        f"The model saw only {window} of 400 rows of big per embedding (the leading rows that "
        "fit its window); the scores speak for those rows, not the whole table. Row order"
    )
    small = TablePropertyRun(store, [Table("small", frame.head(6), "test")], request)
    assert "The model saw only" not in small.reading(small.run())  # every row fitted
    reopened = TablePropertyRun.reopen(store, stored.result_id)
    assert reopened.reading(reopened.find()) == run.reading(stored)


def test_reopening_a_run_that_is_not_stored_says_so(store: Store) -> None:
    with pytest.raises(UserError, match="No stored table run #99"):
        TablePropertyRun.reopen(store, 99)


def test_two_tables_of_one_name_are_refused_before_anything_runs(store: Store) -> None:
    products = _demo("products")
    with pytest.raises(UserError, match="Two tables are named 'products'"):
        TablePropertyRun(store, [products, products], TablesRequest(property="join"))


def test_the_estimate_grows_with_the_permutations_and_is_smaller_for_lsa(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Twenty copies of a 10-column table and a pinned machine speed keep every estimate above
    # the one-second floor, so the comparisons hold on a machine of any speed.
    monkeypatch.setattr("analysis.tables.estimate.machine_factor", lambda: 1.0)
    tables = [_demo("employees")] * 20

    def seconds(**request) -> float:
        return estimate_run(tables, TablesRequest(property="row-order", **request)).seconds

    assert 0 < seconds(models=("lsa",)) < seconds(models=("lsa",), permutations=50)
    assert seconds(models=("lsa",)) < seconds(models=("default",))
    described = TablePropertyRun(store, tables[:1], TablesRequest(property="join")).estimate()
    assert "default at" in described.basis and "measured on this machine" in described.describe()
