"""Widgets shared by the pages: the store handle, background-job progress and model choice.

Not a page itself (st.navigation in app.py lists the pages explicitly).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analysis.core.errors import UserError
from analysis.core.jobs import Job, Work, job_runner
from analysis.core.store import Store, open_store
from analysis.corpus.corpora import Corpus
from analysis.models.encoders import DEFAULT_MODEL_NAME
from analysis.output.data_files import csv_bytes, parquet_bytes
from analysis.output.figure_files import (
    IMAGE_FORMATS,
    MIME_TYPES,
    export_figure,
    export_filename,
    export_stem,
    figure_html,
    require_chromium,
)
from analysis.output.style import literal
from analysis.report.pins import pin_chart
from analysis.vectors.catalogue import corpus_models

MODEL_CHOICES = {
    f"{DEFAULT_MODEL_NAME} (bundled)": "default",
    f"{DEFAULT_MODEL_NAME} int8 (ONNX Runtime, faster, ~1% off fp32)": "default-int8",
    "LSA baseline (TF-IDF + SVD)": "lsa",
    "Random-weights control (MiniLM architecture)": "random",
    "A local sentence-transformers folder…": "path",
}
#: Specs with only a final embedding: never offered where an analysis reads per-layer states.
OUTPUT_ONLY = frozenset({"default-int8"})


def layer_model_choices() -> dict[str, str]:
    """The model choices of pages that read per-layer states (Probes, Length, Tables)."""
    return {label: spec for label, spec in MODEL_CHOICES.items() if spec not in OUTPUT_ONLY}


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


def model_spec_input(key: str, per_layer: bool = False) -> str | None:
    """A model picker; returns the spec, or None while a local path is still missing.

    ``per_layer``: the analysis reads per-layer states, so output-only models are not offered.
    """
    choices = layer_model_choices() if per_layer else MODEL_CHOICES
    label = st.selectbox("Model", list(choices), key=f"{key}_model")
    spec = choices[label]
    if spec != "path":
        return spec
    path = st.text_input(
        "Model folder", key=f"{key}_model_path", placeholder="/models/my-sentence-transformer"
    )
    return path.strip() or None


#: How often a page asks a running job for its progress. Every poll is a fragment rerun that holds
#: the GIL the job needs; once a second keeps the bar live and costs the job under 1 %.
POLL_SECONDS = 1.0


def start_job(slot: str, label: str, work: Work, key: str, unit: str = "") -> Job:
    """Start background work and remember it in this browser session under ``slot``."""
    job = job_runner().submit(label, work, key=key, unit=unit)
    st.session_state[f"job_{slot}"] = job.job_id
    return job


def current_job(slot: str, key: str | None = None) -> Job | None:
    """This session's job in ``slot``; else the runner's active job with ``key``, which is then
    remembered, so a page reloaded (a new session) re-attaches to the job still running."""
    job = job_runner().get(st.session_state.get(f"job_{slot}"))
    if key is not None and (job is None or job.key != key):
        found = job_runner().find(key)
        if found is not None:
            st.session_state[f"job_{slot}"] = found.job_id
            return found
    return job


def job_row(job: Job, key: str) -> None:
    """A job's progress bar (progress, rate and time left, or its place in the queue) with a
    Cancel button beside it."""
    row = st.container(horizontal=True, vertical_alignment="bottom")
    row.progress(job.fraction, text=literal(job_runner().describe(job)))
    row.button(
        "Cancel",
        key=key,
        on_click=_cancel,
        args=(job.job_id,),
        disabled=job.cancel_requested,
        help="Stop this job before it stores its result.",
    )


#: How long a Cancel click waits for the job to stop, so the rerun it triggers already shows
#: "cancelled" instead of a bar that ends only at the next poll.
CANCEL_WAIT_SECONDS = 2.0


def _cancel(job_id: str) -> None:
    job_runner().cancel(job_id)
    job_runner().wait(job_id, timeout=CANCEL_WAIT_SECONDS)


@st.fragment(run_every=POLL_SECONDS)
def _poll(slot: str) -> None:
    job = current_job(slot)
    if job is None:
        return
    if job.active:
        job_row(job, key=f"{slot}_cancel")
    else:
        st.rerun(scope="app")


def job_status(slot: str, key: str | None = None) -> Job | None:
    """Show progress of this session's job in ``slot`` (or the active job with ``key``); the
    outcome once it has ended."""
    job = current_job(slot, key)
    if job is None:
        return None
    if job.active:
        _poll(slot)
    elif job.status == "failed":
        st.error(literal(job.error or "The job failed."))
    elif job.status == "cancelled":
        st.info(f"{literal(job.label)}: cancelled before it stored its result.")
    return job


def delete_with_confirmation(name: str, warning: str, delete: Callable[[], None], key: str) -> None:
    """A delete button that asks once more before ``delete`` runs (nothing can undo it)."""
    if st.button(f"Delete {literal(name)}…", key=key):
        st.session_state[f"{key}_confirm"] = name
    if st.session_state.get(f"{key}_confirm") != name:
        return
    st.warning(literal(warning))
    yes, no = st.columns(2)
    if yes.button("Yes, delete", type="primary", key=f"{key}_yes"):
        delete()
        st.session_state.pop(f"{key}_confirm", None)
        st.rerun()
    if no.button("Cancel", key=f"{key}_no"):
        st.session_state.pop(f"{key}_confirm", None)
        st.rerun()


def corpus_choice(corpora: Sequence[Corpus], key: str, where: Any = st) -> Corpus:
    """The corpus select box of an analysis page, opening on the corpus last used on this page.

    Remembered under ``{key}_last`` because Streamlit forgets a page's widget values once another
    page is shown. Before any choice it opens on the largest embedded corpus, not on the one last
    inspected on the Corpora page: that is often a tiny one the analysis then refuses.
    """
    names = [corpus.name for corpus in corpora]
    last = st.session_state.get(f"{key}_last")
    opening = last if last in names else largest_embedded(corpora).name
    name = where.selectbox("Corpus", names, index=names.index(opening), key=key)
    st.session_state[f"{key}_last"] = name
    return corpora[names.index(name)]


def largest_embedded(corpora: Sequence[Corpus]) -> Corpus:
    """The corpus with the most rows among the embedded ones (among all when none is)."""
    return max(corpora, key=lambda corpus: (bool(corpus_models(store(), corpus)), corpus.n_rows))


def data_downloads(row: Any, data: pd.DataFrame, stem: str, csv_key: str, parquet_key: str) -> None:
    """Deferred CSV and Parquet downloads of a chart's data, as two buttons in ``row``."""
    row.download_button(
        "Data CSV",
        partial(csv_bytes, data),
        f"{stem}-data.csv",
        "text/csv",
        key=csv_key,
        on_click="ignore",
        icon=":material/table:",
    )
    row.download_button(
        "Data Parquet",
        partial(parquet_bytes, data),
        f"{stem}-data.parquet",
        "application/octet-stream",
        key=parquet_key,
        on_click="ignore",
        icon=":material/table:",
    )


def chart_with_actions(
    fig: go.Figure,
    *,
    key: str,
    corpus: str,
    analysis: str,
    model: str,
    data: pd.DataFrame | None = None,
    chart_key: str | None = None,
) -> None:
    """A chart (widget key ``chart_key``, default ``{key}_chart``) and its actions row."""
    st.plotly_chart(fig, key=chart_key or f"{key}_chart", config={"displaylogo": False})
    chart_actions(fig, key=key, corpus=corpus, analysis=analysis, model=model, data=data)


def chart_actions(
    fig: go.Figure,
    *,
    key: str,
    corpus: str,
    analysis: str,
    model: str,
    data: pd.DataFrame | None = None,
) -> None:
    """One row under a chart: downloads (figure and data) and a button pinning it to the report.

    Every download is deferred: the file is made only when its button is clicked, because
    rendering four formats of every chart on every rerun would make each page slow.
    """
    row = st.container(horizontal=True, gap="small")
    try:
        require_chromium()
        missing = None
    except UserError as exc:
        missing = exc.message
    for fmt in IMAGE_FORMATS:
        row.download_button(
            fmt.upper(),
            partial(export_figure, fig, fmt),
            export_filename(corpus, analysis, model, fmt),
            MIME_TYPES[fmt],
            key=f"{key}_{fmt}",
            on_click="ignore",
            icon=":material/download:",
            disabled=missing is not None,
            help=missing,
        )
    row.download_button(
        "HTML",
        partial(figure_html, fig),
        export_filename(corpus, analysis, model, "html"),
        MIME_TYPES["html"],
        key=f"{key}_html",
        on_click="ignore",
        icon=":material/download:",
        help="Interactive chart, works offline",
    )
    if data is not None:
        data_downloads(
            row, data, export_stem(corpus, analysis, model), f"{key}_csv", f"{key}_parquet"
        )
    if row.button("Pin to report", key=f"{key}_pin", icon=":material/push_pin:"):
        pin_chart(store(), fig, analysis=analysis, corpus=corpus, model=model, data=data)
        st.toast("Pinned to the report (see the Report page).", icon=":material/push_pin:")
    if missing:
        st.caption(literal(missing))
