"""EmbedLens: the Streamlit entry point. Routes to the pages and draws the shared sidebar."""

from __future__ import annotations

import streamlit as st

from analysis.core.errors import UserError
from analysis.core.jobs import job_runner
from analysis.core.store import open_store
from analysis.corpus.corpora import list_corpora
from analysis.map.warm_up import start_warm_up

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
            store = open_store()
        except UserError as exc:
            st.error(exc.message)
            st.stop()
        corpora = list_corpora(store)
        count = "1 corpus" if len(corpora) == 1 else f"{len(corpora)} corpora"
        st.caption(f"Store: `{store.path}` · {count}")
        for job in job_runner().active():
            st.progress(job.fraction, text=f"{job.label} ({job.status})")


start_warm_up()
sidebar()
st.navigation(PAGES).run()
