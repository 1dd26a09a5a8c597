"""Map page: a 2-D/3-D projection with colour, hover, selection, search, clusters, faithfulness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from analysis.core.errors import UserError
from analysis.core.jobs import Job
from analysis.corpus.corpora import Corpus, get_corpus, list_corpora, load_documents
from analysis.map.cluster_runs import ClusterRequest, latest_clustering, run_clustering
from analysis.map.clustering import Clustering
from analysis.map.colours import color_choices, projection_view
from analysis.map.projection import Projection, ProjectionParams, find_projection, project
from analysis.map.selection import selected_doc_ids
from analysis.output.data_files import csv_bytes, parquet_bytes
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
    names = [c.name for c, _ in embedded]
    left, right = st.columns(2)
    name = corpus_choice(names, "map_corpus", left)
    corpus, models = next(item for item in embedded if item[0].name == name)
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


def current_projection(
    corpus: Corpus, record: CorpusModel, params: ProjectionParams
) -> tuple[Projection, Job | None]:
    """The requested map if stored; otherwise start it in the background and show PCA meanwhile."""
    params = params.effective(corpus.n_rows)
    found = find_projection(store(), corpus, record, params)
    if found is not None:
        return found, None
    vectors = vectors_of(corpus, record)
    if params.method == "pca":  # seconds even for large corpora: no background job needed
        return project(store(), corpus, record, params, vectors=vectors), None
    key = f"project:{corpus.corpus_id}:{record.model_key}:{params.key()}"
    job = current_job("project")
    # A failed map is not restarted on every rerun (that loops and hides the error): the user
    # retries it explicitly.
    failed = job is not None and job.key == key and job.status == "failed"
    if not failed or st.button("Retry the map", key="map_retry"):
        job = start_job(
            "project",
            f"{params.method.upper()} map of {corpus.name}",
            lambda progress: project(store(), corpus, record, params, progress, vectors),
            key=key,
        )
    preview_params = ProjectionParams(method="pca", dims=params.dims, seed=params.seed)
    preview = project(store(), corpus, record, preview_params, vectors=vectors)
    return preview, job


def faithfulness(projection: Projection) -> None:
    q = projection.quality
    if not q:
        return
    cols = st.columns(3)
    cols[0].metric(f"Trustworthiness@{q['k']}", f"{q['trustworthiness']:.3f}")
    cols[1].metric("Continuity", f"{q['continuity']:.3f}")
    cols[2].metric(f"kNN recall@{q['k']}", f"{q['knn_recall']:.3f}")
    st.caption(
        f"How faithful the map is to the {projection.model} space: neighbours kept (trust-"
        f"worthiness, continuity; Venna & Kaski 2006) and shared (kNN recall), measured on "
        f"{q['sample_size']:,} of {q['n_points']:,} points, seed {q['seed']}. Map computed in "
        f"{projection.seconds:.1f} s."
    )


def search_box(
    corpus: Corpus, record: CorpusModel, vectors: np.ndarray, docs: pd.DataFrame
) -> pd.DataFrame | None:
    """The query's nearest documents with scores (shown under the map, highlighted on it)."""
    query = st.text_input("Semantic search", key="map_query", placeholder="Type a query…")
    if not query.strip():
        return None
    try:
        hits = semantic_search(store(), corpus, record, query, 10, vectors)
    except UserError as exc:
        st.error(exc.message)
        return None
    ids = np.array([h.doc_id for h in hits])
    return docs.loc[ids, ["doc_id", "text"]].assign(score=[round(h.score, 4) for h in hits])


def cluster_controls(corpus: Corpus, record: CorpusModel, vectors: np.ndarray) -> Clustering | None:
    with st.expander("Clusters"):
        cols = st.columns(4)
        method = cols[0].selectbox("Method", ["hdbscan", "kmeans"], key="cl_method")
        k = cols[1].number_input("k (k-means)", 2, 200, 10, key="cl_k")
        pca = cols[2].checkbox("PCA to 50 dims first", True, key="cl_pca")
        seed = cols[3].number_input("Seed", 0, 2**31 - 1, 0, key="cl_seed")
        request = ClusterRequest(
            method=method,
            k=int(k) if method == "kmeans" else None,
            pca_dims=50 if pca else None,
            seed=int(seed),
        )
        if st.button("Run clustering", key="cl_run"):
            start_job(
                "cluster",
                f"Clustering {corpus.name}",
                lambda progress: run_clustering(store(), corpus, record, request, vectors),
                key=f"cluster:{corpus.corpus_id}:{record.model_key}:{request.key()}",
            )
        job_status("cluster")
        stored = latest_clustering(store(), corpus, record)
        if stored is None:
            st.caption("No clustering yet for this corpus and model.")
            return None
        summary = stored.clustering.as_dict()
        silhouette = summary["silhouette"]
        st.caption(
            f"{summary['method']} with {summary['params']}: {summary['n_clusters']} clusters, "
            f"{summary['noise']:,} noise points; cosine silhouette "
            f"{'n/a' if silhouette is None else f'{silhouette:.3f}'} "
            f"(sample {summary['silhouette_sample']:,}). Keywords by class-based TF-IDF."
        )
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
        st.caption("Draw a box or lasso on the map (or click a point) to list documents here.")
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
        projection, job = current_projection(corpus, record, params)
    except UserError as exc:
        st.error(exc.message)
        return
    if job is not None:
        if job.active:
            st.info(
                f"Showing a PCA preview while the {params.method.upper()} map is computed "
                "(it is stored and reopens instantly)."
            )
        else:
            st.info(f"Showing a PCA preview: the {params.method.upper()} map could not be made.")
        job_status("project")
    vectors = vectors_of(corpus, record)
    docs = documents_of(corpus)
    clustering = cluster_controls(corpus, record, vectors)
    choices = color_choices(corpus, clustering is not None)
    colour = st.selectbox("Colour by", choices, key="map_colour")
    results = search_box(corpus, record, vectors, docs)
    highlight = None if results is None else results["doc_id"].to_numpy()
    view = projection_view(projection, docs, corpus, colour, clustering, highlight)
    faithfulness(projection)
    if view.sampled:
        st.caption(
            f"Drawn: {view.drawn:,} of {view.total:,} points; search and selection still cover "
            "every document."
        )
    event = st.plotly_chart(
        view.figure,
        key="map_chart",
        on_select="rerun",
        selection_mode=("points", "box", "lasso"),
        config={"displaylogo": False},
    )
    coords = pd.DataFrame(projection.coords, columns=["x", "y", "z"][: projection.params.dims])
    chart_actions(
        view.figure,
        key="map",
        corpus=corpus.name,
        analysis=f"map-{projection.params.method}",
        model=record.name,
        data=pd.concat([docs[["doc_id", "text"]], coords], axis=1),
    )
    if results is not None:
        st.subheader("Search results")
        st.dataframe(results, hide_index=True, width="stretch", key="search_results")
    selection_panel(docs, selected_doc_ids(event.selection), corpus, vectors)


main()
