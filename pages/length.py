"""Length page: length-collapse diagnostics and the TempScale what-if (length_collapse.md)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.core.errors import UserError
from analysis.corpus.corpora import Corpus, get_corpus, list_corpora
from analysis.length.collapse import (
    CITATION,
    NOT_A_TRANSFORMER,
    TOKENS_PER_SECOND,
    LengthReport,
    Prepared,
    find_length_report,
    prepare,
    run_length_analysis,
    suggested_mode,
)
from analysis.length.figures import figures_for
from analysis.length.sample import (
    BUCKETS,
    DEFAULT_EDGES,
    DEFAULT_LENGTHS,
    DEFAULT_PER_BUCKET,
    DEFAULT_TAUS,
    LENGTH_CHOICES,
    MIN_PER_BUCKET,
    MODES,
    TAU_CHOICES,
    TRUNCATE,
    LengthRequest,
)
from pages._ui import (
    chart_with_actions,
    corpus_choice,
    current_job,
    job_status,
    model_spec_input,
    require_navigation,
    start_job,
)
from pages._ui import store as open_store

require_navigation()
st.title("Length")
st.caption(
    "Do longer texts crowd into a narrower part of the embedding space, and does a temperature "
    f"inside attention (TempScale) undo it? {CITATION}"
)

MODE_LABELS = {
    TRUNCATE: "Controlled truncation (same texts, cut to each length)",
    BUCKETS: "Natural buckets (texts grouped by their length)",
}


@st.cache_resource(max_entries=8, show_spinner="Loading the model and drawing the sample…")
def _prepared(db: str, name: str, created: str, key: str, _request: LengthRequest) -> Prepared:
    """Kept across reruns: the loaded model and the drawn sample with its bucket counts."""
    return prepare(open_store(), get_corpus(open_store(), name), _request)


def pick_corpus() -> Corpus | None:
    corpora = list_corpora(open_store())
    if not corpora:
        st.info("No corpus yet. Add one on the Corpora page.")
        return None
    names = [c.name for c in corpora]
    return corpora[names.index(corpus_choice(names, "len_corpus"))]


def request_controls(corpus: Corpus) -> LengthRequest | None:
    """The settings; None while the model choice cannot run these diagnostics."""
    left, right = st.columns(2)
    with left:
        spec = model_spec_input("len")
    st.caption(
        "Transformer models only: LSA has no tokens, layers or attention, and imported vectors "
        "cannot embed texts cut to a new length."
    )
    if spec is None:
        st.info("Enter the folder of a sentence-transformers model.")
        return None
    if spec == "lsa":
        st.info(NOT_A_TRANSFORMER.format(what="LSA has no tokens, layers or attention."))
        return None
    suggested = suggested_mode(open_store(), corpus)
    mode = right.radio(
        "Design",
        MODES,
        index=MODES.index(suggested),
        format_func=MODE_LABELS.get,
        key="len_mode",
    )
    cols = st.columns(3)
    if mode == TRUNCATE:
        lengths = cols[0].multiselect(
            "Lengths (tokens incl. [CLS]/[SEP])",
            LENGTH_CHOICES,
            default=list(DEFAULT_LENGTHS),
            key="len_lengths_truncate",
            help="256 is MiniLM's whole window; nothing goes beyond the model's max_seq_length.",
        )
    else:
        lengths = cols[0].multiselect(
            "Bucket edges (tokens incl. [CLS]/[SEP])",
            DEFAULT_EDGES,
            default=list(DEFAULT_EDGES),
            key="len_lengths_buckets",
            help="Buckets [a, b) between consecutive edges; the last one includes its end.",
        )
    per_bucket = cols[1].number_input(
        "Texts per length",
        MIN_PER_BUCKET,
        5000,
        DEFAULT_PER_BUCKET,
        key="len_per_bucket",
        help="Equal in every bucket, drawn with the seed.",
    )
    taus = cols[2].multiselect(
        "Temperatures τ (1.0 always included)",
        TAU_CHOICES,
        default=list(DEFAULT_TAUS),
        key="len_taus",
    )
    cols = st.columns(3)
    label = cols[0].selectbox(
        "Label column (task accuracy by length)",
        ["(none)", *corpus.label_columns],
        key="len_label",
    )
    seed = cols[1].number_input("Seed", 0, 2**31 - 1, 0, key="len_seed")
    attention = cols[2].checkbox(
        "Attention diagnostics (slower, small subsample)",
        key="len_attention",
    )
    return LengthRequest(
        model=spec,
        mode=mode,
        lengths=tuple(lengths),
        per_bucket=int(per_bucket),
        taus=tuple(taus),
        label_column=None if label == "(none)" else label,
        seed=int(seed),
        attention=bool(attention),
    )


def show_sample(prepared: Prepared) -> None:
    summary = prepared.sample.summary()
    st.dataframe(
        pd.DataFrame(summary["buckets"]).rename(
            columns={
                "name": "length",
                "n_texts": "texts used",
                "mean_tokens": "mean tokens",
                "available": "texts that qualify",
            }
        ),
        hide_index=True,
        key="len_sample",
    )
    for notice in summary["notices"]:
        st.warning(notice)


def run_controls(prepared: Prepared) -> None:
    """The estimate, the run button and the background job's progress."""
    sample, request = prepared.sample, prepared.request
    seconds = prepared.estimate_seconds()
    st.info(
        f"Not computed yet. Estimated time: about {max(1, round(seconds))} s for "
        f"{sample.n_texts:,} texts ({sample.total_tokens:,} tokens) × {len(request.taus)} "
        f"temperature(s) at ~{TOKENS_PER_SECOND:,.0f} tokens/s on 2 idle cores (longer while "
        "other work runs)."
    )
    if st.button("Run the length analysis", key="len_run", type="primary"):
        start_job(
            "length",
            f"Length analysis of {prepared.corpus.name}",
            lambda progress: run_length_analysis(open_store(), prepared, progress),
            key=prepared.job_key(),
        )
    job_status("length")


def show_report(report: LengthReport, just_run: bool) -> None:
    st.success(report.summary())
    timing = ", ".join(f"τ = {tau:g}: {seconds:.1f} s" for tau, seconds in report.seconds.items())
    st.caption(("" if just_run else "Reopened from the store. ") + f"Computed in {timing}.")
    taus = list(report.taus)
    tau = st.selectbox(
        "Temperature for the per-τ charts",
        taus,
        format_func=lambda t: f"τ = {t:g}",
        key="len_show_tau",
    )
    for figure in figures_for(report):
        fig = figure.build(report, tau)
        st.caption(f"What it measures: {figure.what}")
        chart_with_actions(
            fig,
            chart_key=f"len_{figure.key}",
            key=f"len_{figure.key}",
            corpus=report.corpus,
            analysis=f"length-{figure.key}",
            model=report.model,
            data=figure.data(report, tau),
        )


def main() -> None:
    corpus = pick_corpus()
    if corpus is None:
        return
    request = request_controls(corpus)
    if request is None:
        return
    try:
        prepared = _prepared(
            str(open_store().path), corpus.name, corpus.created_at, repr(request), request
        )
    except UserError as exc:
        st.error(exc.message)
        return
    show_sample(prepared)
    report = find_length_report(open_store(), prepared)
    if report is None:
        run_controls(prepared)
        return
    job = current_job("length")
    show_report(report, just_run=job is not None and job.key == prepared.job_key())


main()
