"""Probes page: at which layer, and in how many dimensions, a corpus's label is decodable."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from analysis.core.errors import UserError
from analysis.core.results import StoredResult
from analysis.corpus.corpora import Corpus, list_corpora
from analysis.models.pooling import POOLINGS
from analysis.output.style import literal
from analysis.probes.dimension_curves import DEFAULT_DIMS
from analysis.probes.inputs import OTHER, SMALL_CLASS_RULES, SmallClassesError
from analysis.probes.pair_scores import PairHeatmap
from analysis.probes.paper_mode import PaperProbe
from analysis.probes.probe import Probe
from analysis.probes.requests import PairRequest, PaperRequest, ProbeRequest
from analysis.probes.summary import baselines_table, depth_table, display_table, layers_table
from pages._results_ui import analysis_section
from pages._ui import corpus_choice, model_spec_input, require_navigation, store

require_navigation()
st.title("Probes")
st.caption(
    "Which layer of the model makes a label of your corpus linearly decodable, in how many "
    "dimensions, and is that more than memorised surface words? After Concept Depth (Jin et al., "
    "COLING 2025), control tasks (Hewitt & Liang, 2019) and 2D Matryoshka embeddings."
)
MODES = ("Probe a label", "Paper mode (Concept Depth replication)", "Sentence pairs")
NONE = "(none)"
SMALL_CLASS_CHOICES = {"drop": "drop them", "merge": f"merge them into '{OTHER}'"}


def pick_corpus() -> Corpus | None:
    corpora = [c for c in list_corpora(store()) if c.metadata_names]
    if not corpora:
        st.info(
            "No corpus with a label column yet. Add one on the Corpora page (the demo "
            "'stdlib_docs' has a 'topic' label)."
        )
        return None
    return corpus_choice(corpora, "probe_corpus")


def label_columns(corpus: Corpus) -> list[str]:
    others = [c for c in corpus.metadata_names if c not in corpus.label_columns]
    return [*corpus.label_columns, *others]


def probe_request(corpus: Corpus, model: str) -> ProbeRequest:
    left, middle, right = st.columns(3)
    label = left.selectbox("Label column", label_columns(corpus), key="probe_label")
    pooling = middle.selectbox("Pooling per layer", POOLINGS, key="probe_pooling")
    group = right.selectbox(
        "Group column (keeps groups in one fold)",
        [NONE, *corpus.metadata_names],
        key="probe_group",
    )
    left, right = st.columns(2)
    folds = left.number_input("Folds", 2, 10, 5, key="probe_folds")
    seed = right.number_input("Seed", 0, 2**31 - 1, 0, key="probe_seed")
    min_class_size, small_classes = small_class_controls()
    with st.expander("Dimensions, baselines and heavy options"):
        dims = st.multiselect(
            "Dimension sizes d (full is always added)",
            [4, *DEFAULT_DIMS, 512],
            default=list(DEFAULT_DIMS),
            key="probe_dims",
        )
        tfidf = st.checkbox("TF-IDF + LR baseline (seconds)", True, key="probe_tfidf")
        heavy = {
            "random_encoder": st.checkbox("Random-weight encoder baseline", key="probe_random"),
            "mlp": st.checkbox("MLP probe with its own control task", key="probe_mlp"),
            "heatmap": st.checkbox("Layer × dimension heatmap (5-fold)", key="probe_heatmap"),
        }
        permutations = st.number_input(
            "Permutation p-value at the peak and last layer: permutations (0 = off)",
            0,
            200,
            0,
            step=10,
            key="probe_permutations",
        )
    return ProbeRequest(
        label_column=label,
        model=model,
        pooling=pooling,
        folds=int(folds),
        seed=int(seed),
        group_column=None if group == NONE else group,
        dims=tuple(dims),
        tfidf=tfidf,
        permutations=int(permutations),
        min_class_size=min_class_size,
        small_classes=small_classes,
        **heavy,
    )


def small_class_controls() -> tuple[int, str]:
    """A long-tailed label's way in: a minimum class size, and what happens below it."""
    left, right = st.columns(2)
    minimum = left.number_input(
        "Minimum class size (0 = keep every class)",
        0,
        1_000_000,
        0,
        key="probe_min_class_size",
        help="Classes with fewer labelled texts are dropped, or merged into one class; the "
        "result names every class affected.",
    )
    rule = right.radio(
        "Classes below the minimum",
        SMALL_CLASS_RULES,
        format_func=SMALL_CLASS_CHOICES.get,
        horizontal=True,
        key="probe_small_classes",
        disabled=not minimum,
    )
    return int(minimum), rule


def use_min_class_size(minimum: int, rule: str) -> None:
    """Button callback: set the controls above before the page reruns."""
    st.session_state["probe_min_class_size"] = minimum
    st.session_state["probe_small_classes"] = rule


def small_classes_way_out(error: SmallClassesError) -> None:
    """The refusal, naming every class too small, and one click to drop or merge them."""
    st.error(literal(error.message))
    count = len(error.classes)
    row = st.container(horizontal=True, gap="small")
    for rule, label in (
        (
            "drop",
            f"Drop {'these' if count > 1 else 'this'} {count} class{'es' if count > 1 else ''}",
        ),
        ("merge", f"Merge {'them' if count > 1 else 'it'} into '{OTHER}'"),
    ):
        row.button(
            label,
            key=f"probe_small_{rule}",
            on_click=use_min_class_size,
            args=(error.minimum, rule),
            help=f"Sets the minimum class size to {error.minimum} and {SMALL_CLASS_CHOICES[rule]}.",
        )


def probe_tables(result: dict[str, Any]) -> None:
    """The numbers behind the charts: per layer, baselines, concept depth, permutations, timing."""
    st.subheader("Per layer")
    st.dataframe(display_table(layers_table(result)), hide_index=True, width="stretch")
    left, right = st.columns(2)
    left.markdown("**Baselines**")
    left.dataframe(display_table(baselines_table(result)), hide_index=True, width="stretch")
    right.markdown("**Concept depth** (after Jin et al.; the robust definitions are drawn)")
    right.dataframe(display_table(depth_table(result)), hide_index=True, width="stretch")
    if result.get("permutation"):
        st.dataframe(display_table(pd.DataFrame(result["permutation"])), hide_index=True)
    timing = result["timing"]
    st.caption(
        f"Encoding {timing['encoding_s']:.1f} s ({timing['encoded_texts']:,} texts run through "
        f"the model), fitting {timing['fitting_s']:.1f} s on one BLAS thread."
    )


def heatmap_view(stored: StoredResult) -> dict[str, bool]:
    """The heatmap toggle, shown only when the run computed the heatmap."""
    if not stored.result.get("heatmap"):
        return {}
    return {"relative": st.toggle("Heatmap as % of the full model", key="probe_heatmap_relative")}


def probe_section(corpus: Corpus, model: str) -> None:
    request = probe_request(corpus, model)
    try:
        stored = analysis_section("probe", Probe(store(), corpus, request), view=heatmap_view)
    except SmallClassesError as exc:
        small_classes_way_out(exc)
        return
    if stored is not None:
        probe_tables(stored.result)


def paper_section(corpus: Corpus, model: str) -> None:
    st.caption(
        "One 60/40 split (random_state 42), no scaling, scikit-learn LogisticRegression defaults, "
        "last-token pooling: numbers comparable with the paper's, without intervals."
    )
    label = st.selectbox("Label column", label_columns(corpus), key="paper_label")
    analysis_section("paper", PaperProbe(store(), corpus, PaperRequest(label, model)))


def pairs_section(corpus: Corpus, model: str) -> None:
    st.caption(
        "For a corpus of sentence pairs: the text column holds the first text, another column the "
        "second and a numeric column the gold similarity. Cells need no fitting."
    )
    cols = st.columns(3)
    pair = cols[0].selectbox("Second text column", corpus.metadata_names, key="pairs_b")
    score = cols[1].selectbox("Score column", corpus.metadata_names, key="pairs_score")
    pooling = cols[2].selectbox("Pooling per layer", POOLINGS, key="pairs_pooling")
    analysis = PairHeatmap(store(), corpus, PairRequest(pair, score, model, pooling))
    analysis_section(
        "pairs",
        analysis,
        view=lambda _: {"relative": st.toggle("As % of the full model", key="pairs_relative")},
    )


def main() -> None:
    corpus = pick_corpus()
    if corpus is None:
        return
    mode = st.radio("Analysis", MODES, horizontal=True, key="probe_mode")
    model = model_spec_input("probe", per_layer=True)
    if model is None:
        st.info("Enter the folder of a local sentence-transformers model.")
        return
    if model == "lsa":
        st.info("The LSA baseline has no layers to probe; choose a transformer model.")
        return
    sections = {MODES[0]: probe_section, MODES[1]: paper_section, MODES[2]: pairs_section}
    try:
        sections[mode](corpus, model)
    except UserError as exc:
        st.error(literal(exc.message))


main()
