"""A clustering of a corpus as an analysis: one model's vectors clustered, bound to a store.

Clusterings live in their own table (``clusterings``), so ``find`` and ``run`` are written here on
top of ``find_clustering`` and ``run_clustering``; keys, the job and provenance come from the
contract. The estimate rests on throughput measured on the shared 2-core reference machine
(random unit vectors in 30 clusters, 384 dimensions, PCA to 50 first): HDBSCAN 1.2 s at 2,000
points and 3.3 s at 8,000, k-means (k = 10) 0.6 s at both, silhouette and keywords included;
scaled by how fast this machine does numeric work now (``core.speed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from analysis.core.analysis import Analysis, ChartSpec, Estimate
from analysis.core.progress import ProgressFn
from analysis.core.speed import describe_factor, machine_factor
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, load_documents
from analysis.map.cluster_reading import clustering_notices, clustering_reading
from analysis.map.cluster_runs import (
    ClusterRequest,
    StoredClustering,
    find_clustering,
    run_clustering,
)
from analysis.map.colours import cluster_choice, color_values, projection_view
from analysis.map.default_map import corpus_map
from analysis.vectors.catalogue import CorpusModel

# Measured with bench/estimates.py on the 2,000-text demo (HDBSCAN 0.4 s at reference speed).
BASE_SECONDS = 0.1  # reduction, silhouette sample and keywords
SECONDS_PER_POINT = {"hdbscan": 0.00018, "kmeans": 0.0001}


class ClusteringAnalysis(Analysis[StoredClustering]):
    """Clusters of a corpus in one model's space, each named by the words that set it apart."""

    kind = "cluster"
    title = "Clustering"

    def __init__(
        self,
        store: Store,
        corpus: Corpus,
        record: CorpusModel,
        request: ClusterRequest,
        *,
        vectors: np.ndarray | None = None,
    ) -> None:
        """``vectors``: the page's in-memory copy, so a job does not read them again."""
        self.corpus, self.record, self.request, self.vectors = corpus, record, request, vectors
        super().__init__(store, corpus.scope)

    def canonical_params(self) -> dict[str, Any]:
        """The request as asked (defaults that depend on the corpus are resolved by the
        clustering and recorded in its result) and the model's weight-hashed key."""
        return {"model_key": self.record.model_key, **self.request.as_dict()}

    def find(self) -> StoredClustering | None:
        return find_clustering(self.store, self.corpus, self.record, self.request)

    def run(self, progress: ProgressFn | None = None) -> StoredClustering:
        report = progress or (lambda done, total: None)
        report(0, 1)
        stored = run_clustering(self.store, self.corpus, self.record, self.request, self.vectors)
        report(1, 1)
        return stored

    def estimate(self) -> Estimate:
        factor = machine_factor()
        per_point = SECONDS_PER_POINT[self.request.method] * factor
        n = self.corpus.n_rows
        return Estimate(
            BASE_SECONDS * factor + n * per_point,
            f"{self.request.method} at about {1000 * per_point:.2g} ms per document; "
            f"{n:,} documents; {describe_factor()}",
        )

    def reading(self, result: StoredClustering) -> str:
        return clustering_reading(result.clustering)

    def notices(self, result: StoredClustering) -> list[str]:
        return clustering_notices(result.clustering)

    def figures(
        self, result: StoredClustering, view: Mapping[str, Any] | None = None
    ) -> list[ChartSpec]:
        """The corpus's map (the stored default UMAP, else a PCA) coloured by these clusters."""
        projection = corpus_map(self.store, self.corpus, self.record.model_key)
        if projection is None:
            return []
        documents = load_documents(self.store, self.corpus)
        colour = cluster_choice(self.corpus)
        drawn = projection_view(projection, documents, self.corpus, colour, result.clustering)
        data = documents[["doc_id", "text"]].assign(
            cluster=result.clustering.labels,
            cluster_name=color_values(documents, colour, result.clustering),
        )
        what = (
            f"the corpus's map coloured by the clusters found in the full {self.record.name} "
            "space; a cluster scattered over the map is one the projection does not keep together."
        )
        return [
            ChartSpec("cluster_map", drawn.figure, "map-clusters", self.record.name, data, what)
        ]
