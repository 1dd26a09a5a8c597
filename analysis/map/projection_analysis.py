"""A map of a corpus as an analysis: one model's vectors projected to 2-D or 3-D, bound to a store.

Maps live in their own tables (``projections``, ``projection_coords``), not in
``analysis_results``, so ``find`` and ``run`` are written here on top of ``find_projection`` and
``project``; the keys, the job and the provenance come from the contract like every analysis's.

The estimate rests on throughput measured on the shared 2-core reference machine (random unit
vectors in 30 clusters, 384 dimensions, 2,000 and 8,000 points): PCA 0.03 s and 1.2 s, UMAP 2.3 s
and 14 s (neighbour search and layout), t-SNE 9 s and 63 s, faithfulness 0.5 s and 2.6 s (a
sample of at most 5,000 points), scaled by how fast this machine does numeric work now
(``core.speed``). The costs per point below are rounded from the larger run.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.core.analysis import Analysis, ChartSpec, Estimate, format_seconds
from analysis.core.progress import ProgressFn
from analysis.core.speed import describe_factor, machine_factor
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, load_documents
from analysis.map.cluster_runs import latest_clustering
from analysis.map.colours import cluster_choice, color_choices, projection_view
from analysis.map.figures import DEFAULT_CATEGORIES, MAX_DRAWN_POINTS
from analysis.map.projection import (
    Projection,
    ProjectionParams,
    find_projection,
    project,
    usable_params,
)
from analysis.vectors.catalogue import CorpusModel

#: Seconds per document, measured (see the module docstring); t-SNE grows faster than linearly.
# Measured with bench/estimates.py on the 2,000-text demo (PCA with its faithfulness: 0.3-0.6 s).
SECONDS_PER_POINT = {"pca": 0.0001, "umap": 0.002, "tsne": 0.008}
QUALITY_SECONDS_PER_POINT = 0.00015  # trustworthiness, continuity and kNN recall
# Before the first UMAP of a process: importing umap-learn and compiling its numba code, or only
# loading it from numba's on-disk cache when an earlier process compiled it on this machine.
UMAP_COMPILE_SECONDS = 45
UMAP_CACHED_SECONDS = 4


def numba_cache_exists() -> bool:
    """Whether numba's on-disk cache holds umap-learn's compiled functions already."""
    spec = importlib.util.find_spec("umap")
    if spec is None or spec.origin is None:
        return False
    return any((Path(spec.origin).parent / "__pycache__").glob("*.nbi"))


def umap_compiled() -> bool:
    """Whether umap-learn's layout is compiled in this process (by the warm-up or a map)."""
    layouts = sys.modules.get("umap.layouts")
    jitted = getattr(layouts, "_nb_optimize_layout_euclidean_single_epoch", None)
    return bool(getattr(jitted, "signatures", None))


class ProjectionAnalysis(Analysis[Projection]):
    """A 2-D or 3-D map of a corpus in one model's space, with how faithful it is."""

    kind = "project"
    title = "Map"

    def __init__(
        self,
        store: Store,
        corpus: Corpus,
        record: CorpusModel,
        params: ProjectionParams,
        *,
        vectors: np.ndarray | None = None,
        documents: pd.DataFrame | None = None,
    ) -> None:
        """``vectors`` and ``documents`` are the page's in-memory copies, so a rerun and a
        background job do not read them from the store again; they change no number."""
        self.corpus, self.record, self.request = corpus, record, params
        self.vectors, self.documents = vectors, documents
        self.effective = usable_params(params, corpus, record)
        super().__init__(store, corpus.scope)

    def canonical_params(self) -> dict[str, Any]:
        """The parameters that ran (clamped to the corpus) and the model's weight-hashed key;
        the stored map is found by the parameters, its model by its own column."""
        return {"model_key": self.record.model_key, **self.effective.as_dict()}

    @property
    def label(self) -> str:
        return f"{self.effective.method_name} map of {self.corpus.name}"

    def find(self) -> Projection | None:
        return find_projection(self.store, self.corpus, self.record, self.effective)

    def run(self, progress: ProgressFn | None = None) -> Projection:
        return project(self.store, self.corpus, self.record, self.effective, progress, self.vectors)

    def estimate(self) -> Estimate:
        n, method, factor = self.corpus.n_rows, self.effective.method, machine_factor()
        seconds = n * (SECONDS_PER_POINT[method] + QUALITY_SECONDS_PER_POINT) * factor
        per_ms = 1000 * SECONDS_PER_POINT[method] * factor
        basis = (
            f"{self.effective.method_name} at about {per_ms:.2g} ms per document plus its "
            f"faithfulness; {n:,} documents; {describe_factor()}"
        )
        if method == "umap" and not umap_compiled():
            cached = numba_cache_exists()
            first = (UMAP_CACHED_SECONDS if cached else UMAP_COMPILE_SECONDS) * factor
            seconds += first
            what = "loading compiled UMAP code" if cached else "compiling UMAP"
            basis += f"; includes {what} once per process ({format_seconds(first)})"
        if method == "tsne":
            basis += "; more per document on larger corpora"
        return Estimate(seconds, basis)

    def reading(self, result: Projection) -> str:
        q, name = result.quality, result.params.method_name
        if not q:
            return (
                f"A {name} map of {result.n_points:,} documents in the {result.model} space; "
                "too few documents to measure how faithful it is."
            )
        return (
            f"Trustworthiness@{q['k']} {q['trustworthiness']:.3f}, continuity "
            f"{q['continuity']:.3f}, kNN recall@{q['k']} {q['knn_recall']:.3f}: how faithful the "
            f"{name} map is to the {result.model} space, neighbours kept (trustworthiness, "
            f"continuity; Venna & Kaski 2006) and shared (kNN recall), measured on "
            f"{q['sample_size']:,} of {q['n_points']:,} points, seed {q['seed']}."
        )

    def notices(self, result: Projection) -> list[str]:
        if result.n_points <= MAX_DRAWN_POINTS:
            return []
        return [
            f"Drawn: a sample of {MAX_DRAWN_POINTS:,} of {result.n_points:,} points (and any "
            "search results); search and selection still cover every document."
        ]

    def stored_note(self, result: Projection) -> str:
        return f"Map computed in {result.seconds:.1f} s"

    def figures(self, result: Projection, view: Mapping[str, Any] | None = None) -> list[ChartSpec]:
        """The map; ``view`` may hold 'colour' (a ``color_choices`` entry, default the first
        without clusters), 'highlight' (doc ids ringed on the map, e.g. search results) and
        'categories' (how many classes get a colour of their own, default DEFAULT_CATEGORIES)."""
        view = view or {}
        corpus = self.corpus
        colour = view.get("colour") or color_choices(corpus, has_clusters=False)[0]
        clustering = None
        if colour == cluster_choice(corpus):
            stored = latest_clustering(self.store, corpus, self.record)
            clustering = stored.clustering if stored is not None else None
        documents = self.documents
        if documents is None:
            documents = load_documents(self.store, corpus)
        drawn = projection_view(
            result,
            documents,
            corpus,
            colour,
            clustering,
            view.get("highlight"),
            view.get("categories", DEFAULT_CATEGORIES),
        )
        axes = ["x", "y", "z"][: result.params.dims]
        data = pd.concat(
            [documents[["doc_id", "text"]], pd.DataFrame(result.coords, columns=axes)], axis=1
        )
        what = (
            f"where each document lies when the {result.model} space is flattened to "
            f"{result.params.dims}-D by {result.params.method_name}; near points are similar "
            "texts as far as the faithfulness scores say."
        )
        return [
            ChartSpec("map", drawn.figure, f"map-{result.params.method}", result.model, data, what)
        ]
