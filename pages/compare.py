"""Compare page: two representations of one corpus (models or layers), or a model's layers."""

from __future__ import annotations

import streamlit as st

from analysis.compare.comparison import (
    CompareRequest,
    Comparison,
    LayerCka,
    LayerRequest,
    layer_models,
    representation_choices,
)
from analysis.compare.summary import top_changed_frame, top_changed_note
from analysis.core.errors import UserError
from analysis.corpus.corpora import Corpus, list_corpora
from analysis.models.pooling import POOLINGS
from analysis.output.style import literal
from analysis.vectors.catalogue import corpus_models
from pages._results_ui import analysis_section
from pages._ui import corpus_choice, require_navigation, store

require_navigation()
st.title("Compare")
st.caption(
    "How differently do two models, or two layers, see the same texts? Linear CKA for the global "
    "geometry (Kornblith et al. 2019), shared nearest neighbours per text, and where on the map "
    "the neighbourhoods change."
)
MODES = ("Two representations", "Layer × layer CKA")
SAME = "(the same model)"


def pick_corpus() -> Corpus | None:
    embedded = [c for c in list_corpora(store()) if corpus_models(store(), c)]
    if not embedded:
        st.info("No embedded corpus yet. Add and embed one on the Corpora page.")
        return None
    return corpus_choice(embedded, "cmp_corpus")


def pair_section(corpus: Corpus) -> None:
    choices = representation_choices(store(), corpus)
    labels = list(choices)
    cols = st.columns([3, 3, 1, 1])
    a = cols[0].selectbox("A", labels, index=0, key="cmp_a")
    b = cols[1].selectbox("B", labels, index=min(1, len(labels) - 1), key="cmp_b")
    k = cols[2].number_input("k", 1, 100, 10, key="cmp_k")
    pooling = cols[3].selectbox("Layer pooling", POOLINGS, key="cmp_pooling")
    request = CompareRequest(choices[a], choices[b], int(k), pooling)
    stored = analysis_section("compare", Comparison(store(), corpus, request), button="Compare")
    if stored is None:
        return
    result = stored.result
    overlap = result["knn_overlap"]
    cols = st.columns(3)
    cols[0].metric("Linear CKA", f"{result['cka']:.3f}")
    cols[1].metric(f"Mean kNN overlap@{overlap['k']}", f"{overlap['mean']:.3f}")
    rho = result["distance_spearman"]["rho"]
    cols[2].metric("Spearman of distances", "n/a" if rho is None else f"{rho:.3f}")
    st.subheader("Documents whose neighbourhoods changed most")
    st.caption(literal(top_changed_note(result)))
    if result["top_changed"]:
        st.dataframe(top_changed_frame(result), hide_index=True, width="stretch")


def layers_section(corpus: Corpus) -> None:
    models = layer_models(store(), corpus)
    if not models:
        st.info(
            "This corpus is embedded only with models that have no layers (LSA, imported "
            "vectors). Embed it with a transformer model to compare layers."
        )
        return
    cols = st.columns(3)
    model = cols[0].selectbox("Model", list(models), key="cmp_layer_model")
    against = cols[1].selectbox("Against", [SAME, *models], key="cmp_layer_against")
    pooling = cols[2].selectbox("Pooling per layer", POOLINGS, key="cmp_layer_pooling")
    request = LayerRequest(models[model], None if against == SAME else models[against], pooling)
    analysis_section("layers", LayerCka(store(), corpus, request), button="Compute CKA")


def main() -> None:
    corpus = pick_corpus()
    if corpus is None:
        return
    mode = st.radio("Comparison", MODES, horizontal=True, key="cmp_mode")
    try:
        (pair_section if mode == MODES[0] else layers_section)(corpus)
    except UserError as exc:
        st.error(literal(exc.message))


main()
