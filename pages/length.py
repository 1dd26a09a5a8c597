"""Length page: length-collapse diagnostics and the TempScale what-if (length_collapse.md)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from analysis.core.errors import UserError
from analysis.corpus.corpora import Corpus, get_corpus, list_corpora
from analysis.length.collapse import CITATION, LengthReport, suggested_mode
from analysis.length.length_analysis import LengthAnalysis
from analysis.length.sample import (
    BUCKETS,
    DEFAULT_EDGES,
    DEFAULT_LENGTHS,
    DEFAULT_PER_BUCKET,
    DEFAULT_TAUS,
    LENGTH_CHOICES,
    MIN_PER_BUCKET,
    MODES,
    NOT_A_TRANSFORMER,
    TAU_CHOICES,
    TRUNCATE,
    LengthRequest,
    LengthSample,
)
from analysis.output.style import literal
from pages._results_ui import analysis_section
from pages._ui import corpus_choice, model_spec_input, require_navigation
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
def _analysis(db: str, name: str, created: str, request: LengthRequest) -> LengthAnalysis:
    """Kept across reruns: the bound analysis holds the loaded model and the drawn sample.

    Keyed by the store's path, the corpus (its name and creation time, so a re-ingested corpus
    draws afresh) and the frozen request itself.
    """
    return LengthAnalysis(open_store(), get_corpus(open_store(), name), request)


def pick_corpus() -> Corpus | None:
    corpora = list_corpora(open_store())
    if not corpora:
        st.info("No corpus yet. Add one on the Corpora page.")
        return None
    return corpus_choice(corpora, "len_corpus")


def request_controls(corpus: Corpus) -> LengthRequest | None:
    """The settings; None while the model choice cannot run these diagnostics."""
    left, right = st.columns(2)
    with left:
        spec = model_spec_input("len", per_layer=True)
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


def show_sample(sample: LengthSample) -> None:
    summary = sample.summary()
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
        st.warning(literal(notice))


def choose_tau(report: LengthReport) -> dict[str, Any]:
    """The temperature the per-τ charts show; it changes no number."""
    tau = st.selectbox(
        "Temperature for the per-τ charts",
        list(report.taus),
        format_func=lambda t: f"τ = {t:g}",
        key="len_show_tau",
    )
    return {"tau": tau}


def main() -> None:
    corpus = pick_corpus()
    if corpus is None:
        return
    try:
        request = request_controls(corpus)
        if request is None:
            return
        analysis = _analysis(str(open_store().path), corpus.name, corpus.created_at, request)
    except UserError as exc:
        st.error(literal(exc.message))
        return
    show_sample(analysis.prepared.sample)
    analysis_section("len", analysis, button="Run the length analysis", view=choose_tau)


main()
