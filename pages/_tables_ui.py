"""How one table-property run is shown, computed or stored: the shared analysis section (reading,
notices, figures), then the settings it was made with, its summary table and, for functional
dependencies, every dependency discovered.

Not a page itself (st.navigation in app.py lists the pages explicitly).
"""

from __future__ import annotations

import streamlit as st

from analysis.output.style import literal
from analysis.tables.fds import PROPERTY as FDS
from analysis.tables.fds import discovered_frame
from analysis.tables.figures import summary_frame
from analysis.tables.property_run import TablePropertyRun
from analysis.tables.readings import settings_text
from pages._results_ui import analysis_section
from pages._ui import data_downloads


def property_section(slot: str, analysis: TablePropertyRun) -> None:
    st.subheader(literal(analysis.title))
    stored = analysis_section(slot, analysis, button="Run")
    if stored is None:
        return
    result = stored.result
    st.caption(literal(settings_text(result)))
    summary = summary_frame(result)
    st.dataframe(summary, hide_index=True, key=f"{slot}_summary")
    row = st.container(horizontal=True, gap="small")
    data_downloads(row, summary, f"tables-{result['property']}", f"{slot}_csv", f"{slot}_parquet")
    if result["property"] == FDS:
        found = discovered_frame(result)
        st.markdown(f"**Functional dependencies discovered** ({len(found):,})")
        st.dataframe(found, hide_index=True, key=f"{slot}_fds")
