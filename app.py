"""EmbedLens: the Streamlit entry point. Routes to the pages and draws the shared sidebar."""

from __future__ import annotations

import streamlit as st

from analysis.core.errors import UserError
from analysis.core.jobs import CONCURRENCY_NOTE, job_runner
from analysis.core.store import open_store
from analysis.corpus.corpora import list_corpora
from analysis.map.warm_up import start_warm_up
from analysis.output.style import literal
from pages._ui import job_row

#: How often the sidebar refreshes its job list and corpus count: calm, each refresh holds the GIL.
SIDEBAR_SECONDS = 2.0

st.set_page_config(page_title="EmbedLens", page_icon=":material/lens_blur:", layout="wide")

PAGES = [
    st.Page("pages/corpora.py", title="Corpora", icon=":material/library_books:", default=True),
    st.Page("pages/map.py", title="Map", icon=":material/scatter_plot:"),
    st.Page("pages/tables.py", title="Tables", icon=":material/table_chart:"),
    st.Page("pages/length.py", title="Length", icon=":material/straighten:"),
    st.Page("pages/probes.py", title="Probes", icon=":material/layers:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("pages/report.py", title="Report", icon=":material/summarize:"),
]


def sidebar() -> None:
    with st.sidebar:
        st.markdown("**EmbedLens** — look into text embeddings")
        try:
            open_store()
        except UserError as exc:
            st.error(literal(exc.message))
            st.stop()
        live_status()


@st.fragment(run_every=SIDEBAR_SECONDS)
def live_status() -> None:
    """The store, its corpus count and every queued or running job with its Cancel button,
    refreshed on a calm timer so work started in another tab or session shows up here too.

    One small query per refresh: the list of corpora, never their documents or vectors.
    """
    store = open_store()
    corpora = list_corpora(store)
    count = "1 corpus" if len(corpora) == 1 else f"{len(corpora)} corpora"
    st.caption(f"Store: {literal(str(store.path))} · {count}")
    jobs = job_runner().active()
    if jobs:
        st.markdown("**Jobs**")
        for job in jobs:
            job_row(job, key=f"sidebar_cancel_{job.job_id}")
    st.caption(CONCURRENCY_NOTE)


start_warm_up()
sidebar()
st.navigation(PAGES).run()
