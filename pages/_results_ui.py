"""The stored-or-run pattern of the analysis pages: a stored result reopens instantly; otherwise
the page shows a time estimate and a Run button, and the work runs as a background job.

Not a page itself (st.navigation in app.py lists the pages explicitly).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from analysis.core.results import StoredResult
from pages._ui import current_job, job_status, start_job


def show_or_run(
    slot: str,
    found: StoredResult | None,
    label: str,
    work: Callable[[Any], StoredResult],
    key: str,
    estimate: Callable[[], str],
    button: str = "Run",
) -> StoredResult | None:
    """The stored result if there is one; otherwise the estimate, a run button and progress."""
    if found is not None:
        st.caption(
            f"Stored result from {found.created_at[:19]} (computed in {found.seconds:.1f} s); "
            "change a setting to compute another."
        )
        return found
    st.caption(estimate())
    run_button(slot, label, work, key, button)
    return None


def run_button(slot: str, label: str, work: Callable[[Any], Any], key: str, button: str) -> None:
    """A button that runs ``work`` as a background job, and that job's progress or failure."""
    if st.button(button, key=f"{slot}_run", type="primary"):
        start_job(slot, label, work, key=key)
    job = current_job(slot)
    if job is not None and (job.active or job.key == key):  # not an old failure of other settings
        job_status(slot)


def show_reading(reading: str, result: dict[str, Any]) -> None:
    """A result's one-line reading, then its notices."""
    st.success(reading)
    for notice in result["notices"]:
        st.warning(notice)
