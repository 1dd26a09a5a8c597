"""Figures of joins, functional dependencies, entity stability and heterogeneous context: what
is drawn, the provenance caption, and that user-named things reach plotly escaped."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.tables.data import Table
from analysis.tables.encoding import CONTEXTUAL, TableEncoder
from analysis.tables.entities import run_entity_stability
from analysis.tables.joins import run_join
from analysis.tables.relation_figures import (
    entity_figure,
    fd_figure,
    hetero_context_figure,
    hetero_purity_figure,
    join_figure,
)
from analysis.tables.scores import NOT_MEANINGFUL, ScoreGroup, unmeasured
from analysis.tables.serialise import CELL, COLUMN
from tests.tables.context import property_context
from tests.tables.doubles import BagOfWordsEncoder

BOLD = "<b>x</b>"
ESCAPED = "&lt;b&gt;x&lt;/b&gt;"


def drawn(fig) -> str:
    return json.dumps(fig.to_plotly_json(), ensure_ascii=False)


def caption(fig) -> str:
    return fig.layout.meta["caption"]


def result_of(groups, extra, models: list[str], tables: list[str], seed: int) -> dict:
    """A stored result shaped as TablePropertyRun.compute writes it."""
    return {
        "title": "Test property",
        "citation": "After Observatory.",
        "groups": [g.to_json() for g in groups],
        "extra": extra,
        "models": [{"name": m, "revision": "r1"} for m in models],
        "tables": [{"name": t, "rows": 3, "columns": ["a", "b"]} for t in tables],
        "params": {"seed": seed, "max_length": 128},
    }


def stored(output, encoders, tables, seed: int = 0) -> dict:
    return result_of(
        output.groups, output.extra, [e.name for e in encoders], [t.name for t in tables], seed
    )


def tables() -> list[Table]:
    left = pd.DataFrame({BOLD: ["Paris", "Rome", "Oslo"], "n": [1, 2, 3]})
    right = pd.DataFrame({"city": ["Paris", "Rome", "Lima"], "m": [4, 5, 6]})
    return [Table(BOLD, left, "test"), Table("right", right, "test")]


def test_join_scatter_escapes_headers_and_puts_spearman_in_the_legend(store):
    encoders = [TableEncoder(store, BagOfWordsEncoder(BOLD))]
    output = run_join(property_context("join", tables(), encoders))
    fig = join_figure(stored(output, encoders, tables()), measure="jaccard")
    assert BOLD not in drawn(fig)
    [trace] = fig.data
    assert trace.name.startswith(f"{ESCAPED} (Spearman ρ = ")
    assert f"{ESCAPED}.{ESCAPED} ~ right.city" in trace.text
    assert list(trace.x) == [i["jaccard"] for i in output.groups[0].items]
    assert list(trace.y) == [i["cosine"] for i in output.groups[0].items]
    assert "4 column pairs across tables" in caption(fig)
    assert f"Models: {ESCAPED} (r1). Tables: {ESCAPED} (3×2), right (3×2). " in caption(fig)
    with pytest.raises(ValueError, match="unknown overlap measure"):
        join_figure(stored(output, encoders, tables()), measure="cosine")


def fd_group(model: str, table: str, variances: list[tuple[float, float]]) -> ScoreGroup:
    items = [
        {"item": f"{table} col{i} -> y", "fd_variance": fd, "non_fd_variance": base}
        for i, (fd, base) in enumerate(variances)
    ]
    return ScoreGroup("functional-dependencies", model, table, CELL, CONTEXTUAL, items=items)


def test_fd_figure_has_an_fd_and_a_matched_box_per_model_and_lists_unmeasured_groups():
    groups = [
        fd_group(BOLD, BOLD, [(0.5, 0.2), (0.3, 0.4)]),
        fd_group("m2", "t", [(0.1, 0.6)]),
        unmeasured(
            "functional-dependencies",
            "lsa",
            BOLD,
            CELL,
            "context-free",
            NOT_MEANINGFUL,
            "trivially 0",
        ),
    ]
    result = result_of(
        groups,
        {"fds": {BOLD: {"discovered": [1, 2]}, "t": {"discovered": [1]}}},
        [BOLD, "m2", "lsa"],
        [BOLD, "t"],
        7,
    )
    fig = fd_figure(result)
    assert BOLD not in drawn(fig)
    fd, base = fig.data
    assert (fd.name, base.name) == ("FD groups", "matched non-FD groups")
    assert list(fd.x) == [ESCAPED, ESCAPED, "m2"] and list(fd.y) == [0.5, 0.3, 0.1]
    assert list(base.y) == [0.2, 0.4, 0.6]
    assert f"{ESCAPED}: {ESCAPED} col0 -&gt; y" in fd.text
    assert f"Models: {ESCAPED} (r1); m2 (r1); lsa (r1). Tables: {ESCAPED} (3×2)" in caption(fig)
    assert "3 exact single-column FD(s)" in caption(fig) and "seed 7" in caption(fig)
    assert f"lsa not meaningful on {ESCAPED} (trivially 0)" in caption(fig)


def test_entity_bars_show_overlap_with_the_chance_line(store):
    frame = pd.DataFrame({"city": ["Paris", "Rome", "Oslo", "Lima", "Kyiv"], "n": [1, 2, 3, 4, 5]})
    encoders = [TableEncoder(store, BagOfWordsEncoder(n)) for n in (BOLD, "plain")]
    table = Table("t", frame, "test")
    output = run_entity_stability(
        property_context("entity-stability", [table], encoders, entity_k=2)
    )
    fig = entity_figure(stored(output, encoders, [table]))
    assert BOLD not in drawn(fig)
    bars, chance = fig.data
    assert list(bars.x) == [f"{ESCAPED} vs plain"] and list(bars.y) == [1.0]
    line = fig.layout.shapes[0]
    assert line.y0 == pytest.approx(2 / 4)
    assert line.opacity == 1 and line.line.width > 0  # simple_white fades shapes to nothing
    assert chance.name == "chance K/(N−1) = 0.500"
    assert "K = 2, N = 5 entities" in caption(fig)


def hetero_result() -> dict:
    groups = [
        ScoreGroup("heterogeneous-context", BOLD, BOLD, COLUMN, CONTEXTUAL, "alone vs whole table",
                   items=[{"item": "a", "cosine": 0.8}, {"item": "b", "cosine": 0.6}]),
        ScoreGroup("heterogeneous-context", BOLD, "t2", COLUMN, CONTEXTUAL, "alone vs whole table",
                   items=[{"item": "c", "cosine": 1.0}]),
        ScoreGroup("heterogeneous-context", BOLD, BOLD, COLUMN, CONTEXTUAL, "alone vs with subject",
                   items=[{"item": "a", "cosine": 0.9}]),
    ]  # fmt: skip
    purity = {"alone": {"purity": 0.75, "chance": 0.5, "k": 2, "n_columns": 4}}
    return result_of(
        groups,
        {"purity": {BOLD: purity}, "subject_columns": {BOLD: BOLD, "t2": "c"}},
        [BOLD],
        [BOLD, "t2"],
        3,
    )


def test_hetero_context_bars_average_the_columns_of_all_tables():
    fig = hetero_context_figure(hetero_result())
    assert BOLD not in drawn(fig)
    [bars] = fig.data
    assert bars.name == ESCAPED
    assert list(bars.x) == ["alone<br>vs whole table", "alone<br>vs with subject"]
    assert list(bars.y) == [pytest.approx(0.8), pytest.approx(0.9)]
    assert list(bars.error_y.array) == [pytest.approx(0.1633, abs=1e-4), 0.0]
    assert f"Subject columns: {ESCAPED}: {ESCAPED}, t2: c." in caption(fig)


def test_hetero_purity_bars_come_with_their_chance():
    fig = hetero_purity_figure(hetero_result())
    assert BOLD not in drawn(fig)
    bars, chance = fig.data
    assert (list(bars.x), list(bars.y), list(chance.y)) == (["alone"], [0.75], [0.5])
    assert "seed 3" in caption(fig)
