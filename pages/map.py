"""Map page: a 2-D/3-D projection with colour, hover, selection, search, clusters, faithfulness.

A large map opens fast because the page reads only what it draws: the coordinates, the one
colour column, and texts for the points on screen and the page of selected documents. Vectors
are read only by work that needs them (a map or clustering job; a clicked point's neighbours
while exact search is the only search there is).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from analysis.core.errors import UserError
from analysis.core.jobs import Job
from analysis.corpus.corpora import Corpus, list_corpora
from analysis.map.cluster_analysis import ClusteringAnalysis
from analysis.map.cluster_defaults import HDBSCAN_RULE, hdbscan_settings
from analysis.map.cluster_reading import clustering_notices
from analysis.map.cluster_runs import ClusterRequest, StoredClustering, latest_clustering
from analysis.map.clustering import Clustering
from analysis.map.colours import color_choices
from analysis.map.density import Extent
from analysis.map.figures import DEFAULT_CATEGORIES, MAX_CATEGORIES, MapView
from analysis.map.map_drawing import VIEW_POINTS, draw_map, uses_density
from analysis.map.map_rows import document_rows
from analysis.map.plan import MapPlan, plan_map
from analysis.map.projection import (
    AUTO,
    AUTO_FIT_SAMPLE,
    AUTO_RULE,
    FIT_SAMPLE_CHOICES,
    Projection,
    ProjectionParams,
    auto_fit_sample,
    stored_quality,
)
from analysis.map.projection_analysis import ProjectionAnalysis
from analysis.map.region import Region, enclosing, region_doc_ids, selection_regions
from analysis.map.selection import selected_doc_ids
from analysis.map.selection_table import SelectedDocuments
from analysis.output.style import literal
from analysis.vectors.catalogue import CorpusModel, corpus_models
from analysis.vectors.search import (
    SearchHit,
    SearchMethod,
    build_search_index,
    index_job_key,
    neighbours_of_doc,
    search_method,
    semantic_search,
)
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

PAGE_SIZES = [100, 1000, 10000]
VIEW_STATE = "map_view_extent"  # (projection_id, x0, x1, y0, y1) of a zoomed density view


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


def _fit_label(choice: int | str | None, n_rows: int) -> str:
    """'Every document', 'A seeded sample of 50,000', or what 'Automatic' picks for this size."""
    if choice == AUTO:
        return f"Automatic: {_fit_label(auto_fit_sample(n_rows), n_rows).lower()}"
    return "Every document" if choice is None else f"A seeded sample of {choice:,}"


def projection_controls(corpus: Corpus, record: CorpusModel) -> ProjectionParams:
    """The map's settings; for UMAP also what it is fitted on, with both options' estimates."""
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
        sizes = [size for size in FIT_SAMPLE_CHOICES if size < corpus.n_rows]
        fit_sample = st.selectbox(
            "UMAP fitted on",
            [AUTO, None, *sizes],
            format_func=lambda choice: _fit_label(choice, corpus.n_rows),
            key="map_fit_sample",
            disabled=method != "umap" or bool(densmap) or not sizes,
            help=f"{AUTO_RULE} The rest are placed with the fitted model (umap-learn transform): "
            "much faster on a million documents, less faithful (lower trustworthiness and kNN "
            "recall). Every map's faithfulness is measured on the same seeded evaluation sample, "
            "so the two compare. densMAP always fits on every document.",
        )
        params = ProjectionParams(
            method=method,
            dims=int(dims),
            seed=int(seed),
            n_neighbors=int(n_neighbors),
            min_dist=float(min_dist),
            densmap=bool(densmap),
            perplexity=float(perplexity),
            fit_sample=fit_sample if method == "umap" and not densmap else AUTO,
        )
        if method == "umap" and not densmap and sizes:
            fit_estimates(corpus, record, params, min(AUTO_FIT_SAMPLE, sizes[-1]))
    return params


def fit_estimates(
    corpus: Corpus, record: CorpusModel, params: ProjectionParams, default_sample: int
) -> None:
    """A full fit and the sampled fit chosen (else ``default_sample``) side by side: each one's
    faithfulness and time when it is stored, else its estimate, so the user chooses with numbers."""
    sample = params.fit_sample if isinstance(params.fit_sample, int) else default_sample
    lines = []
    for choice in (None, sample):
        analysis = ProjectionAnalysis(store(), corpus, record, replace(params, fit_sample=choice))
        stored = stored_quality(store(), corpus, record, analysis.effective)
        if stored is None:
            said = analysis.estimate().describe()
        elif not stored[1]:
            said = f"stored, computed in {stored[0]:,.0f} s."
        else:
            q = stored[1]
            said = (
                f"stored, computed in {stored[0]:,.0f} s; trustworthiness@{q['k']} "
                f"{q['trustworthiness']:.3f}, kNN recall@{q['k']} {q['knn_recall']:.3f} on the "
                f"seeded evaluation sample ({q['sample_size']:,} points, seed {q['seed']})."
            )
        lines.append(f"{_fit_label(choice, corpus.n_rows)}: {said}")
    st.caption(literal("  \n".join(lines)))


class _NotStoredYet(Exception):
    """A plan whose map is not stored yet: made anew on the next run, so never cached."""

    def __init__(self, plan: MapPlan) -> None:
        super().__init__("map not stored yet")
        self.plan = plan


@st.cache_resource(max_entries=4, show_spinner=False)
def _stored_plan(
    db: str,
    name: str,
    created: str,
    model_key: str,
    params_key: str,
    _corpus: Corpus,
    _record: CorpusModel,
    _params: ProjectionParams,
) -> MapPlan:
    """The plan of a stored map, kept across reruns and sessions: a stored map never changes
    (a re-made corpus has another creation time), so a rerun does not read its coordinates
    again (a million points: a third of a second)."""
    plan = plan_map(store(), _corpus, _record, _params, background=True)
    if plan.found is None:
        raise _NotStoredYet(plan)
    return plan


def current_map(
    corpus: Corpus, record: CorpusModel, params: ProjectionParams
) -> tuple[MapPlan, Projection, Job | None]:
    """The plan, the map to draw now (the requested one or its PCA preview) and the background
    job of the requested map, if it is left to one; which is which the engine's plan decides."""
    try:
        plan = _stored_plan(
            str(store().path),
            corpus.name,
            corpus.created_at,
            record.model_key,
            repr(params),
            corpus,
            record,
            params,
        )
    except _NotStoredYet as missing:
        plan = missing.plan
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


@st.cache_resource(max_entries=4, show_spinner="Opening the search index…")
def _search_method(
    db: str,
    name: str,
    created: str,
    model_key: str,
    index_job: tuple,
    _corpus: Corpus,
    _record: CorpusModel,
) -> SearchMethod:
    """Kept across reruns (an index is read from disk once); ``index_job`` (this session's index
    build and its status) keys out the method found before an index was built."""
    return search_method(store(), _corpus, _record)


def search_of(corpus: Corpus, record: CorpusModel) -> SearchMethod:
    job = current_job("search_index", index_job_key(corpus, record))
    index_job = () if job is None else (job.job_id, job.status)
    return _search_method(
        str(store().path),
        corpus.name,
        corpus.created_at,
        record.model_key,
        index_job,
        corpus,
        record,
    )


@st.cache_data(max_entries=32, show_spinner="Searching…")
def _search(
    db: str,
    name: str,
    created: str,
    model_key: str,
    query: str,
    k: int,
    approximate: bool,
    _corpus: Corpus,
    _record: CorpusModel,
    _method: SearchMethod,
) -> list[SearchHit]:
    """Kept across reruns (paging, selecting), so a query is embedded and searched once."""
    return semantic_search(store(), _corpus, _record, query, k, method=_method)


def search_box(corpus: Corpus, record: CorpusModel) -> pd.DataFrame | None:
    """The query's k nearest documents with scores and labels (shown under the map, highlighted
    on it)."""
    left, right = st.columns([5, 1])
    query = left.text_input("Semantic search", key="map_query", placeholder="Type a query…")
    k = right.number_input(
        "Results",
        1,
        min(200, corpus.n_rows),
        min(10, corpus.n_rows),
        key="map_search_k",
        help="How many nearest documents to list and ring on the map (cosine similarity).",
    )
    method = search_index_controls(corpus, record)
    if not query.strip():
        return None
    try:
        hits = _search(
            str(store().path),
            corpus.name,
            corpus.created_at,
            record.model_key,
            query,
            int(k),
            method.approximate,
            corpus,
            record,
            method,
        )
    except UserError as exc:
        st.error(literal(exc.message))
        return None
    columns = ["doc_id", *corpus.label_columns, "text"]
    found = document_rows(store(), corpus, [h.doc_id for h in hits], columns)
    return found.assign(score=[round(h.score, 4) for h in hits])


def search_index_controls(corpus: Corpus, record: CorpusModel) -> SearchMethod:
    """How search runs here (exact, or the approximate index and its measured recall), and a
    button that builds the index in the background when the corpus needs one it lacks."""
    method = search_of(corpus, record)
    st.caption(f"Search: {literal(method.describe())}")
    key = index_job_key(corpus, record)
    if method.index_missing and st.button("Build the search index", key="map_build_index"):
        start_job(
            "search_index",
            f"search index of {corpus.name}",
            lambda progress: build_search_index(store(), corpus, record, progress),
            key=key,
        )
    job_status("search_index", key)
    return method


def neighbours_of(corpus: Corpus, record: CorpusModel, doc_id: int, k: int) -> list[SearchHit]:
    """The k documents nearest to ``doc_id`` in the embedding space, itself left out."""
    return neighbours_of_doc(store(), corpus, record, doc_id, k, method=search_of(corpus, record))


def cluster_controls(corpus: Corpus, record: CorpusModel) -> StoredClustering | None:
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
        analysis = ClusteringAnalysis(store(), corpus, record, request)
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
        return stored


@st.cache_resource(max_entries=4, show_spinner="Drawing the map…")
def _drawn(
    db: str,
    name: str,
    created: str,
    projection_id: int,
    colour: str,
    clustering_id: int | None,
    highlight: tuple[int, ...],
    categories: int,
    view: tuple[float, ...] | None,
    _corpus: Corpus,
    _projection: Projection,
    _clustering: Clustering | None,
) -> MapView:
    """Kept across reruns: selecting, paging or filtering does not redraw the map."""
    extent = Extent(*view) if view is not None else None
    highlighted = np.array(highlight, dtype=np.int64) if highlight else None
    return draw_map(
        store(), _corpus, _projection, colour, _clustering, highlighted, categories, extent
    )


def map_view(
    corpus: Corpus,
    projection: Projection,
    colour: str,
    clustering: StoredClustering | None,
    highlight: np.ndarray | None,
    categories: int,
    view: Extent | None,
) -> MapView:
    return _drawn(
        str(store().path),
        corpus.name,
        corpus.created_at,
        projection.projection_id,
        colour,
        None if clustering is None else clustering.clustering_id,
        () if highlight is None else tuple(int(i) for i in highlight),
        categories,
        None if view is None else (view.x0, view.x1, view.y0, view.y1),
        corpus,
        projection,
        None if clustering is None else clustering.clustering,
    )


def zoomed_view(projection: Projection) -> Extent | None:
    """The region of a density map the user zoomed into, if it is of this map."""
    saved = st.session_state.get(VIEW_STATE)
    if saved is None or saved[0] != projection.projection_id:
        return None
    return Extent(*saved[1:])


def view_controls(projection: Projection, drawn: MapView, regions: list[Region]) -> None:
    """Zooming a density map: the browser's own zoom only enlarges the picture, so the server
    redraws the region of a box or lasso (density binned anew, points on top when few)."""
    image = drawn.density
    assert image is not None
    zoomed = zoomed_view(projection) is not None
    st.caption(
        f"Showing the density of all {image.points:,} points in this view (of "
        f"{drawn.total:,}); the points themselves are drawn on top once a view holds at most "
        f"{VIEW_POINTS:,}. To look closer, pick Box Select or Lasso Select in the chart's "
        "toolbar, draw around a region, then press 'Zoom to the selection'."
    )
    row = st.container(horizontal=True)
    box = enclosing(regions)
    if box is not None and row.button("Zoom to the selection", key="map_zoom"):
        st.session_state[VIEW_STATE] = (projection.projection_id, box.x0, box.x1, box.y0, box.y1)
        st.rerun()
    if zoomed and row.button("Show the whole map", key="map_unzoom"):
        del st.session_state[VIEW_STATE]
        st.rerun()


def selected_ids(projection: Projection, selection: object, regions: list[Region]) -> np.ndarray:
    """Doc ids picked on the chart: on a density map every stored point inside a box or lasso
    (found in the store, drawn or not); otherwise, and for a click, the picked points."""
    if regions and uses_density(projection):
        return region_doc_ids(store(), projection.projection_id, regions)
    return selected_doc_ids(selection)


def selection_panel(corpus: Corpus, record: CorpusModel, ids: np.ndarray) -> None:
    st.subheader(f"Selected documents ({ids.size:,})")
    if ids.size == 0:
        st.caption(
            "Click a point to list it with its nearest neighbours, or pick Box Select or Lasso "
            "Select in the chart's toolbar and draw on the map to list every document inside."
        )
        return
    needle = st.text_input("Filter the selection", key="sel_filter")
    selected = SelectedDocuments(store(), corpus, ids, needle)
    total = selected.count()
    left, right = st.columns(2)
    size = left.selectbox("Rows per page", PAGE_SIZES, index=1, key="sel_page_size")
    pages = max(1, -(-total // size))
    page = 1
    if pages > 1:
        page = right.number_input(f"Page (of {pages:,})", 1, pages, 1, key="sel_page")
    shown = selected.page(int(page), size)
    matching = f"{total:,} match the filter" if needle else f"{total:,} documents"
    st.caption(
        f"{matching}; rows {min((page - 1) * size + 1, total):,} to "
        f"{min(page * size, total):,}, in doc_id order. The downloads hold all {total:,}."
    )
    st.dataframe(shown, hide_index=True, width="stretch")
    left, right = st.columns(2)
    left.download_button(
        "Download CSV",
        selected.csv_bytes,
        f"{corpus.name}-selection.csv",
        "text/csv",
        on_click="ignore",
    )
    right.download_button(
        "Download Parquet",
        selected.parquet_bytes,
        f"{corpus.name}-selection.parquet",
        "application/octet-stream",
        on_click="ignore",
    )
    if ids.size == 1:
        hits = neighbours_of(corpus, record, int(ids[0]), 10)
        neighbours = document_rows(store(), corpus, [h.doc_id for h in hits], ["doc_id", "text"])
        st.markdown("**Nearest neighbours in the original embedding space**")
        st.dataframe(
            neighbours.assign(cosine=[round(h.score, 4) for h in hits]),
            hide_index=True,
            width="stretch",
        )


def chart_data(corpus: Corpus, projection: Projection, drawn: MapView) -> pd.DataFrame:
    """The map's data for its downloads: every point's coordinates, with its text unless the map
    is a density (then the texts are in the selection's downloads, read for those alone)."""
    axes = ["x", "y", "z"][: projection.params.dims]
    ids = np.arange(projection.n_points)
    if drawn.density is None:
        documents = document_rows(store(), corpus, ids, ["doc_id", "text"])
    else:
        documents = pd.DataFrame({"doc_id": ids})
    return pd.concat([documents, pd.DataFrame(projection.coords, columns=axes)], axis=1)


def main() -> None:
    picked = pick_corpus_and_model()
    if picked is None:
        return
    corpus, record = picked
    params = projection_controls(corpus, record)
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
    clustering = cluster_controls(corpus, record)
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
    results = search_box(corpus, record)
    highlight = None if results is None else results["doc_id"].to_numpy()
    faithfulness(analysis, projection)
    view = zoomed_view(projection)
    drawn = map_view(corpus, projection, colour, clustering, highlight, int(categories), view)
    if drawn.density is None:
        for notice in analysis.notices(projection):
            st.caption(literal(notice))
    st.caption(f"What it measures: {literal(analysis.meaning(projection))}")
    chart_key = "map_chart" if view is None else f"map_chart_{hash((view.x0, view.y0))}"
    event = st.plotly_chart(
        drawn.figure,
        key=chart_key,
        on_select="rerun",
        selection_mode=("points", "box", "lasso"),
        config={"displaylogo": False},
    )
    regions = selection_regions(event.selection)
    if drawn.density is not None:
        view_controls(projection, drawn, regions)
    chart_actions(
        drawn.figure,
        key="map",
        corpus=corpus.name,
        analysis=f"map-{projection.params.method}",
        model=projection.model,
        data=chart_data(corpus, projection, drawn),
    )
    if results is not None:
        st.subheader("Search results")
        st.dataframe(results, hide_index=True, width="stretch", key="search_results")
    selection_panel(corpus, record, selected_ids(projection, event.selection, regions))


main()
