"""How a stored table-property run is shown: reading, provenance, figures, summary table.

Not a page itself (st.navigation in app.py lists the pages explicitly).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from analysis.core.results import StoredResult
from analysis.tables.figure_sets import figures_for
from analysis.tables.figures import groups_of, summary_frame
from analysis.tables.scores import INVARIANT, NOT_MEANINGFUL, ScoreGroup
from pages._ui import chart_with_actions, data_downloads


def show_run(found: StoredResult, key: str) -> None:
    result = found.result
    st.subheader(result["title"])
    st.success(result["reading"])
    models = ", ".join(f"{m['name']} ({m['revision']})" for m in result["models"])
    params = result["params"]
    st.caption(
        f"{'Stored result' if found.reused else 'Computed'} {found.created_at[:19]} in "
        f"{found.seconds:.1f} s · models: {models} · seed {params['seed']}{_specific(params)} · "
        f"column text ≤ {params['max_length']} tokens, "
        f"cut by whole rows · {result['citation']}"
    )
    groups = groups_of(result)
    invariant = _notes(groups, INVARIANT, lambda g: f"{g.granularity} ({g.mode}): {g.note}")
    if invariant:
        st.info(
            "Some embeddings are invariant to this change by design (each item is encoded on "
            f"its own), so they get no score rather than a misleading 1.0: {invariant}"
        )
    meaningless = _notes(groups, NOT_MEANINGFUL, lambda g: f"{g.model}: {g.note}")
    if meaningless:
        st.warning(f"Not meaningful here: {meaningless}")
    tables = ", ".join(t["name"] for t in result["tables"])
    model_names = ", ".join(m["name"] for m in result["models"])
    for figure in figures_for(result):
        st.caption(f"What it measures: {figure.what}")
        chart_with_actions(
            figure.build(result),
            key=f"{key}_{figure.key}",
            corpus=tables,
            analysis=f"tables-{result['property']}-{figure.key}",
            model=model_names,
            data=figure.data(result),
        )
    summary = summary_frame(result)
    st.dataframe(summary, hide_index=True, key=f"{key}_summary")
    row = st.container(horizontal=True, gap="small")
    data_downloads(row, summary, f"tables-{result['property']}", f"{key}_csv", f"{key}_parquet")


def _notes(groups: list[ScoreGroup], status: str, describe: Callable[[ScoreGroup], str]) -> str:
    return "; ".join(sorted({describe(g) for g in groups if g.status == status}))


def _specific(params: dict) -> str:
    """The property's own settings, as they were for this run."""
    parts = []
    if "permutations" in params:
        parts.append(f"K = {params['permutations']} permutations")
    if "ratios" in params:
        ratios = " / ".join(f"{r:g}" for r in params["ratios"])
        parts.append(f"ratios {ratios} × {params['samples']} samples")
    if "entity_k" in params:
        parts.append(f"K = {params['entity_k']} neighbours")
    return "".join(f" · {p}" for p in parts)
