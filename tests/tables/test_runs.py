"""Stored table-property runs: what a result is keyed by, and listing and reopening runs."""

from __future__ import annotations

from analysis.core.store import Store
from analysis.tables.context import TablesRequest
from analysis.tables.data import demo_tables, read_table_path
from analysis.tables.runs import find_run, load_run, run_params, run_property, stored_runs
from tests.shared import PROJECT_ROOT


def _demo(name: str):
    return next(t for t in demo_tables() if t.name == name)


def test_an_upload_of_a_demo_file_does_not_reuse_the_demo_tables_result(store: Store) -> None:
    demo = _demo("products")
    upload = read_table_path(PROJECT_ROOT / "data" / "demo" / "tables" / "products.csv")
    assert upload.sha == demo.sha and upload.name == demo.name  # same name, same cells
    request = TablesRequest(property="functional-dependencies", models=("lsa",))
    run_property(store, [demo], request)
    assert find_run(store, [demo], request) is not None
    # the demo table declares FDs, keys and semantic types; the bare upload does not
    assert run_params([upload], request) != run_params([demo], request)
    assert find_run(store, [upload], request) is None


def test_results_are_keyed_by_the_models_weights_not_only_their_names() -> None:
    params = run_params([_demo("products")], TablesRequest(property="join"))
    assert params["models"] == ["default"]
    assert params["model_keys"][0].startswith("st:all-MiniLM-L6-v2@")


def test_stored_runs_are_listed_newest_first_and_reopen_without_the_tables(store: Store) -> None:
    tables = [_demo("products"), _demo("cities")]
    first = run_property(store, tables, TablesRequest(property="join", models=("lsa",)))
    second = run_property(store, tables[:1], TablesRequest(property="row-order", models=("lsa",)))
    runs = stored_runs(store)
    assert [r.result_id for r in runs] == [second.result_id, first.result_id]
    assert runs[1].tables == ["products", "cities"] and runs[1].models == ["lsa"]
    assert "Join relationship" in runs[1].label()
    reopened = load_run(store, first.result_id)
    assert reopened.reused and reopened.result == first.result


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
