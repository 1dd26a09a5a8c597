"""Widgets shared by the pages: the store handle, background-job progress and model choice.

Not a page itself (st.navigation in app.py lists the pages explicitly).
"""

from __future__ import annotations

import streamlit as st

from analysis.encoders import DEFAULT_MODEL_NAME
from analysis.jobs import Job, job_runner
from analysis.store import Store, open_store

MODEL_CHOICES = {
    f"{DEFAULT_MODEL_NAME} (bundled)": "default",
    "LSA baseline (TF-IDF + SVD)": "lsa",
    "Random-weights control (MiniLM architecture)": "random",
    "A local sentence-transformers folder…": "path",
}


def require_navigation() -> None:
    """Make a page opened by its URL as the first request of a fresh server go through app.py.

    Streamlit treats an app with a pages/ folder as an old-style multipage app until the entry
    point has called st.navigation once; a first request for /map would run this file alone,
    without the sidebar or the page list. Switching the flag off and rerunning lets app.py route
    it. Only on a session's first run: a rerun later would swallow a button click.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if st.session_state.get("_routed"):
        return
    st.session_state["_routed"] = True
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def store() -> Store:
    return open_store()


def model_spec_input(key: str) -> str | None:
    """A model picker; returns the spec, or None while a local path is still missing."""
    label = st.selectbox("Model", list(MODEL_CHOICES), key=f"{key}_model")
    spec = MODEL_CHOICES[label]
    if spec != "path":
        return spec
    path = st.text_input(
        "Model folder", key=f"{key}_model_path", placeholder="/models/my-sentence-transformer"
    )
    return path.strip() or None


def start_job(slot: str, label: str, work, key: str) -> Job:
    """Start background work and remember it in this browser session under ``slot``."""
    job = job_runner().submit(label, work, key=key)
    st.session_state[f"job_{slot}"] = job.job_id
    return job


def current_job(slot: str) -> Job | None:
    return job_runner().get(st.session_state.get(f"job_{slot}"))


@st.fragment(run_every=0.5)
def _poll(slot: str) -> None:
    job = current_job(slot)
    if job is None:
        return
    if job.active:
        text = f"{job.label}: {job.done:,}/{job.total:,}" if job.total else f"{job.label}: waiting"
        st.progress(job.fraction, text=text)
    else:
        st.rerun(scope="app")


def job_status(slot: str) -> Job | None:
    """Show progress of this session's job in ``slot``; the outcome once it has ended."""
    job = current_job(slot)
    if job is None:
        return None
    if job.active:
        _poll(slot)
    elif job.status == "failed":
        st.error(job.error or "The job failed.")
    return job
