"""Map page: a 2-D/3-D projection with colour, hover, selection, search, clusters, faithfulness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from analysis.core.errors import UserError
from analysis.core.jobs import Job
from analysis.corpus.corpora import Corpus, get_corpus, list_corpora, load_documents
from analysis.map.cluster_analysis import ClusteringAnalysis
from analysis.map.cluster_defaults import HDBSCAN_RULE, hdbscan_settings
from analysis.map.cluster_reading import clustering_notices
from analysis.map.cluster_runs import ClusterRequest, latest_clustering
from analysis.map.clustering import Clustering
from analysis.map.colours import color_choices
from analysis.map.figures import DEFAULT_CATEGORIES, MAX_CATEGORIES
from analysis.map.plan import MapPlan, plan_map
from analysis.map.projection import Projection, ProjectionParams
from analysis.map.projection_analysis import ProjectionAnalysis
from analysis.map.selection import selected_doc_ids
from analysis.output.data_files import csv_bytes, parquet_bytes
from analysis.output.style import literal
from analysis.vectors.catalogue import CorpusModel, corpus_models, load_vectors
from analysis.vectors.search import semantic_search, top_k_cosine
from pages._ui import (
    chart_actions,
    corpus_choice,
    current_job,
    job_status,
    require_navigation,
    start_job,
    store,
)

require_navigation()
st.title("Map")


@st.cache_resource(max_entries=4, show_spinner="Loading vectors…")
def _cached_vectors(db: str, name: str, created: str, model_key: str, dim: int) -> np.ndarray:
    return load_vectors(store(), get_corpus(store(), name), model_key, dim)


@st.cache_resource(max_entries=4, show_spinner="Loading documents…")
def _cached_documents(db: str, name: str, created: str) -> pd.DataFrame:
    return load_documents(store(), get_corpus(store(), name))


def vectors_of(corpus: Corpus, record: CorpusModel) -> np.ndarray:
    """Kept in memory across reruns; the creation time keys out a deleted and re-made corpus."""
    return _cached_vectors(
        str(store().path), corpus.name, corpus.created_at, record.model_key, record.dim
    )


def documents_of(corpus: Corpus) -> pd.DataFrame:
    return _cached_documents(str(store().path), corpus.name, corpus.created_at)


def pick_corpus_and_model() -> tuple[Corpus, CorpusModel] | None:
    embedded = [(c, corpus_models(store(), c)) for c in list_corpora(store())]
    embedded = [(c, models) for c, models in embedded if models]
    if not embedded:
        st.info("No embedded corpus yet. Add and embed one on the Corpora page.")
        return None
    left, right = st.columns(2)
    corpus = corpus_choice([c for c, _ in embedded], "map_corpus", left)
    models = next(m for c, m in embedded if c is corpus)
    labels = [m.name for m in models]
    model_name = right.selectbox("Model", labels, key="map_model")
    return corpus, models[labels.index(model_name)]


def projection_controls() -> ProjectionParams:
    with st.expander("Projection settings"):
        cols = st.columns(4)
        method = cols[0].selectbox("Method", ["umap", "pca", "tsne"], key="map_method")
        dims = cols[1].radio("Dimensions", [2, 3], horizontal=True, key="map_dims")
        seed = cols[2].number_input("Seed", 0, 2**31 - 1, 0, key="map_seed")
        densmap = cols[3].checkbox("densMAP", key="map_densmap", disabled=method != "umap")
        cols = st.columns(3)
        n_neighbors = cols[0].slider("UMAP neighbours", 2, 200, 15, key="map_nn")
        min_dist = cols[1].slider("UMAP min_dist", 0.0, 1.0, 0.1, 0.05, key="map_md")
        perplexity = cols[2].slider("t-SNE perplexity", 2.0, 100.0, 30.0, key="map_perp")
    return ProjectionParams(
        method=method,
        dims=int(dims),
        seed=int(seed),
        n_neighbors=int(n_neighbors),
        min_dist=float(min_dist),
        densmap=bool(densmap),
        perplexity=float(perplexity),
    )


def current_map(
    corpus: Corpus, record: CorpusModel, params: ProjectionParams
) -> tuple[MapPlan, Projection, Job | None]:
    """The plan, the map to draw now (the requested one or its PCA preview) and the background
    job of the requested map, if it is left to one; which is which the engine's plan decides."""
    plan = plan_map(
        store(),
        corpus,
        record,
        params,
        background=True,
        vectors=vectors_of(corpus, record),
        documents=documents_of(corpus),
    )
    job = None
    wanted = plan.background
    if wanted is not None:
        job = current_job("project")
        # A failed or cancelled map is not restarted on every rerun (that loops and hides the
        # error, or undoes the cancel): the user retries it explicitly.
        ended = ("failed", "cancelled")
        failed = job is not None and job.key == wanted.job_key and job.status in ended
        if not failed or st.button("Retry the map", key="map_retry"):
            job = start_job("project", wanted.label, wanted.run, key=wanted.job_key)
    return plan, plan.show(), job


def faithfulness(analysis: ProjectionAnalysis, projection: Projection) -> None:
    q = projection.quality
    if q:
        cols = st.columns(3)
        cols[0].metric(f"Trustworthiness@{q['k']}", f"{q['trustworthiness']:.3f}")
        cols[1].metric("Continuity", f"{q['continuity']:.3f}")
        cols[2].metric(f"kNN recall@{q['k']}", f"{q['knn_recall']:.3f}")
    st.caption(literal(f"{analysis.reading(projection)} {analysis.stored_note(projection)}."))


def search_box(
    corpus: Corpus, record: CorpusModel, vectors: np.ndarray, docs: pd.DataFrame
) -> pd.DataFrame | None:
    """The query's k nearest documents with scores and labels (shown under the map, highlighted
    on it)."""
    left, right = st.columns([5, 1])
    query = left.text_input("Semantic search", key="map_query", placeholder="Type a query…")
    k = right.number_input(
        "Results",
        1,
        min(200, len(docs)),
        min(10, len(docs)),
        key="map_search_k",
        help="How many nearest documents to list and ring on the map (cosine similarity).",
    )
    if not query.strip():
        return None
    try:
        hits = semantic_search(store(), corpus, record, query, int(k), vectors)
    except UserError as exc:
        st.error(literal(exc.message))
        return None
    ids = np.array([h.doc_id for h in hits])
    columns = ["doc_id", *corpus.label_columns, "text"]
    return docs.loc[ids, columns].assign(score=[round(h.score, 4) for h in hits])


def cluster_controls(corpus: Corpus, record: CorpusModel, vectors: np.ndarray) -> Clustering | None:
    """Settings and a Run button; the latest clustering of this corpus and model is shown (and
    offered as a colour), whichever settings made it."""
    with st.expander("Clusters"):
        cols = st.columns(4)
        method = cols[0].selectbox("Method", ["hdbscan", "kmeans"], key="cl_method")
        k = cols[1].number_input("k (k-means)", 2, 200, 10, key="cl_k", disabled=method != "kmeans")
        pca = cols[2].checkbox("PCA to 50 dims first", True, key="cl_pca")
        seed = cols[3].number_input("Seed", 0, 2**31 - 1, 0, key="cl_seed")
        size, samples = hdbscan_settings(corpus.n_rows)
        cols = st.columns(2)
        asked_size = cols[0].number_input(
            "min_cluster_size (HDBSCAN)",
            2,
            max(2, corpus.n_rows),
            None,
            key="cl_min_cluster_size",
            placeholder=f"{size} (suggested)",
            disabled=method != "hdbscan",
            help="The fewest documents a cluster may have. Empty: " + HDBSCAN_RULE + ".",
        )
        asked_samples = cols[1].number_input(
            "min_samples (HDBSCAN)",
            1,
            max(1, corpus.n_rows),
            None,
            key="cl_min_samples",
            placeholder=f"{samples} (suggested)",
            disabled=method != "hdbscan",
            help="How many neighbours a document needs close by to start or join a cluster; "
            "lower leaves fewer documents as noise. Empty: " + HDBSCAN_RULE + ".",
        )
        if method == "hdbscan":
            density = hdbscan_settings(corpus.n_rows, asked_size, asked_samples)
        else:
            density = (None, None)
        request = ClusterRequest(
            method=method,
            k=int(k) if method == "kmeans" else None,
            min_cluster_size=density[0],
            min_samples=density[1],
            pca_dims=50 if pca else None,
            seed=int(seed),
        )
        analysis = ClusteringAnalysis(store(), corpus, record, request, vectors=vectors)
        if st.button("Run clustering", key="cl_run"):
            start_job("cluster", analysis.label, analysis.run, key=analysis.job_key)
        job_status("cluster")
        stored = latest_clustering(store(), corpus, record)
        if stored is None:
            st.caption(
                "No clustering yet for this corpus and model. "
                f"{literal(analysis.estimate().describe())}"
            )
            return None
        st.caption(literal(analysis.reading(stored)))
        for notice in clustering_notices(stored.clustering):
            st.warning(literal(notice))
        summary = stored.clustering.as_dict()
        st.dataframe(
            pd.DataFrame(
                [
                    {"cluster": c["id"], "size": c["size"], "keywords": ", ".join(c["keywords"])}
                    for c in summary["clusters"]
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        return stored.clustering


def selection_panel(
    docs: pd.DataFrame, ids: np.ndarray, corpus: Corpus, vectors: np.ndarray
) -> None:
    st.subheader(f"Selected documents ({ids.size:,})")
    if ids.size == 0:
        st.caption(
            "Click a point to list it with its nearest neighbours, or pick Box Select or Lasso "
            "Select in the chart's toolbar and draw on the map to list every document inside."
        )
        return
    columns = ["doc_id", "text", "n_tokens", *corpus.metadata_names]
    selected = docs.loc[ids, columns]
    needle = st.text_input("Filter the selection", key="sel_filter")
    if needle:
        selected = selected[selected["text"].str.contains(needle, case=False, regex=False)]
    st.dataframe(selected, hide_index=True, width="stretch")
    left, right = st.columns(2)
    left.download_button(
        "Download CSV", csv_bytes(selected), f"{corpus.name}-selection.csv", "text/csv"
    )
    right.download_button(
        "Download Parquet",
        parquet_bytes(selected),
        f"{corpus.name}-selection.parquet",
        "application/octet-stream",
    )
    if ids.size == 1:
        order, scores = top_k_cosine(vectors, vectors[ids[0]], 11)
        neighbours = docs.loc[order, ["doc_id", "text"]].assign(cosine=np.round(scores, 4))
        st.markdown("**Nearest neighbours in the original embedding space**")
        st.dataframe(neighbours.iloc[1:], hide_index=True, width="stretch")


def main() -> None:
    picked = pick_corpus_and_model()
    if picked is None:
        return
    corpus, record = picked
    params = projection_controls()
    try:
        plan, projection, job = current_map(corpus, record, params)
    except UserError as exc:
        st.error(literal(exc.message))
        return
    if job is not None:
        wanted = plan.requested.effective.method_name
        if job.active:
            st.info(
                f"Showing a PCA preview while the {wanted} map is computed "
                "(it is stored and reopens instantly)."
            )
        else:
            st.info(f"Showing a PCA preview: the {wanted} map could not be made.")
        job_status("project")
    analysis = plan.now
    vectors = vectors_of(corpus, record)
    docs = documents_of(corpus)
    clustering = cluster_controls(corpus, record, vectors)
    choices = color_choices(corpus, clustering is not None)
    left, right = st.columns([5, 1])
    colour = left.selectbox("Colour by", choices, key="map_colour")
    categories = right.number_input(
        "Classes coloured",
        1,
        MAX_CATEGORIES,
        DEFAULT_CATEGORIES,
        key="map_categories",
        help="How many of the most frequent values get a colour of their own; the rest are "
        f"grouped as 'other' in grey. At most {MAX_CATEGORIES}: more colours could not be told "
        "apart.",
    )
    results = search_box(corpus, record, vectors, docs)
    highlight = None if results is None else results["doc_id"].to_numpy()
    faithfulness(analysis, projection)
    for notice in analysis.notices(projection):
        st.caption(literal(notice))
    view = {"colour": colour, "highlight": highlight, "categories": int(categories)}
    (chart,) = analysis.figures(projection, view)
    st.caption(f"What it measures: {literal(chart.what)}")
    event = st.plotly_chart(
        chart.figure,
        key="map_chart",
        on_select="rerun",
        selection_mode=("points", "box", "lasso"),
        config={"displaylogo": False},
    )
    chart_actions(
        chart.figure,
        key=chart.key,
        corpus=corpus.name,
        analysis=chart.analysis,
        model=chart.model,
        data=chart.data,
    )
    if results is not None:
        st.subheader("Search results")
        st.dataframe(results, hide_index=True, width="stretch", key="search_results")
    selection_panel(docs, selected_doc_ids(event.selection), corpus, vectors)


main()
