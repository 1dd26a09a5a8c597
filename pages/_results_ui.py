"""The one section every analysis page shows: a stored result, or an estimate and a Run button
with the running job's progress, then the reading, the notices and the figures with their export
actions.

Pages describe widgets and layout only; what is stored, how long a run takes, what the result
means and which figures it has all come from the analysis (``analysis.core.analysis``).
Not a page itself (st.navigation in app.py lists the pages explicitly).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import streamlit as st

from analysis.core.analysis import Analysis
from analysis.output.style import literal
from pages._ui import chart_with_actions, current_job, job_status, start_job

ResultT = TypeVar("ResultT")
ViewFn = Callable[[Any], Mapping[str, Any]]


def analysis_section(
    slot: str,
    analysis: Analysis[ResultT],
    *,
    button: str = "Run",
    view: ViewFn | None = None,
) -> ResultT | None:
    """Show ``analysis``: its stored result (returned, for page-specific extras), or the run.

    ``view(result)`` draws display choices (a toggle, a temperature) above the figures and
    returns them for ``analysis.figures``; it changes no number.
    """
    result = analysis.find()
    if result is None:
        st.caption(literal(analysis.estimate().describe()))
        run_button(slot, analysis.label, analysis.run, analysis.job_key, button)
        return None
    note = analysis.stored_note(result)
    if note:
        st.caption(f"{literal(note)}; change a setting to compute another.")
    st.success(literal(analysis.reading(result)))
    for notice in analysis.notices(result):
        st.warning(literal(notice))
    chosen = view(result) if view is not None else {}
    for chart in analysis.figures(result, chosen):
        if chart.what:
            st.caption(f"What it measures: {literal(chart.what)}")
        chart_with_actions(
            chart.figure,
            key=chart.key,
            corpus=analysis.scope.name,
            analysis=chart.analysis,
            model=chart.model,
            data=chart.data,
        )
    return result


def run_button(slot: str, label: str, work: Callable[[Any], Any], key: str, button: str) -> None:
    """A button that runs ``work`` as a background job, and that job's progress or failure."""
    if st.button(button, key=f"{slot}_run", type="primary"):
        start_job(slot, label, work, key=key)
    job = current_job(slot, key)  # after a reload: the job still running for these settings
    if job is not None and (job.active or job.key == key):  # not an old failure of other settings
        job_status(slot)
