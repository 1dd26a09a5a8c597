"""Every table property's figures build from a stored run; names are escaped; the summary
keeps unmeasured groups with their reasons."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.core.store import Store
from analysis.tables.context import TablesRequest
from analysis.tables.data import Table, demo_tables
from analysis.tables.figures import distribution_figure, summary_frame
from analysis.tables.properties import PROPERTIES
from analysis.tables.property_run import TablePropertyRun

BOLD = "<b>prices</b>"


def _tables() -> list[Table]:
    products = next(t for t in demo_tables() if t.name == "products")
    renamed = Table(BOLD, products.frame.copy(), "test")
    cities = next(t for t in demo_tables() if t.name == "cities")
    return [renamed, cities]


@pytest.mark.parametrize("prop", list(PROPERTIES))
def test_every_figure_of_every_property_builds_and_escapes_names(store: Store, prop: str) -> None:
    run = TablePropertyRun(store, _tables(), TablesRequest(property=prop, models=("lsa",)))
    stored = run.run()
    charts = run.figures(stored)
    assert charts, prop
    assert len({chart.key for chart in charts}) == len(charts)
    for chart in charts:
        fig = chart.figure
        drawn = json.dumps(fig.to_plotly_json(), ensure_ascii=False)
        assert BOLD not in drawn
        assert fig.layout.title.text and "Observatory" in fig.layout.meta["caption"]
        assert isinstance(chart.data, pd.DataFrame) and chart.what
        assert chart.analysis.startswith(f"tables-{prop}-")
    summary = summary_frame(stored.result)
    assert len(summary) == len(stored.result["groups"])
    assert summary.loc[summary["status"] != "ok", "note"].str.len().gt(0).all()


@pytest.mark.slow
def test_distribution_boxes_are_horizontal_one_per_model_with_k_in_the_caption(
    store: Store,
) -> None:
    request = TablesRequest(property="row-order", models=("lsa", "default"), permutations=3)
    stored = TablePropertyRun(store, _tables(), request).run()
    fig = distribution_figure(stored.result)
    assert [trace.orientation for trace in fig.data] == ["h", "h"]
    assert len(fig.data) == 2
    minilm = next(t for t in fig.data if "MiniLM" in t.name)
    assert "column · per-item" in set(minilm.y)
    assert all(0.5 < x <= 1.0001 for x in minilm.x)
    assert "K = 3" in fig.layout.meta["caption"]
    mcv = distribution_figure(stored.result, "mcv")
    assert "compare MCVs only at equal K" in mcv.layout.title.text
