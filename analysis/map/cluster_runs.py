"""Clusterings of a corpus kept in the store, found again by the parameters that made them."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from analysis.core.errors import UserError
from analysis.core.results import params_key
from analysis.core.store import Store, first_row
from analysis.corpus.corpora import Corpus, load_documents
from analysis.map.clustering import Clustering, check_choices, cluster_embeddings
from analysis.vectors.catalogue import CorpusModel, load_vectors


@dataclass(frozen=True)
class ClusterRequest:
    """What the user asked for; defaults that depend on the corpus size are resolved inside the
    clustering itself, so the request is stored as asked."""

    method: str = "hdbscan"
    k: int | None = None
    min_cluster_size: int | None = None
    pca_dims: int | None = 50
    seed: int = 0
    min_samples: int | None = None

    def __post_init__(self) -> None:
        # Plain ints, so 3 and numpy's 3 give the same stored parameters.
        for name in ("k", "min_cluster_size", "pca_dims", "seed", "min_samples"):
            value = getattr(self, name)
            if value is not None:
                if value != int(value):
                    raise UserError(f"{name} must be a whole number, got {value}.")
                object.__setattr__(self, name, int(value))
        check_choices(self.method, self.k, self.min_cluster_size, self.pca_dims, self.min_samples)

    def as_dict(self) -> dict[str, Any]:
        """The stored parameters: every field, as asked."""
        return asdict(self)


@dataclass(frozen=True, eq=False)
class StoredClustering:
    clustering_id: int
    clustering: Clustering
    seconds: float
    reused: bool

    def __eq__(self, other: object) -> bool:
        """The same stored clustering: same row, labels and summary (however it was reached)."""
        if not isinstance(other, StoredClustering):
            return NotImplemented
        return (
            self.clustering_id == other.clustering_id
            and np.array_equal(self.clustering.labels, other.clustering.labels)
            and self.clustering.as_dict() == other.clustering.as_dict()
        )


def _from_row(row: tuple) -> StoredClustering:
    clustering_id, summary, labels, seconds = row
    data = json.loads(summary)
    clusters = data["clusters"]
    sizes = {int(c["id"]): int(c["size"]) for c in clusters}
    if data["noise"]:
        sizes[-1] = int(data["noise"])
    clustering = Clustering(
        method=data["method"],
        params=data["params"],
        labels=np.asarray(labels, dtype=np.int64),
        sizes=dict(sorted(sizes.items())),
        keywords={int(c["id"]): list(c["keywords"]) for c in clusters},
        silhouette=data["silhouette"],
        silhouette_sample=int(data["silhouette_sample"]),
    )
    return StoredClustering(int(clustering_id), clustering, float(seconds), reused=True)


def latest_clustering(store: Store, corpus: Corpus, record: CorpusModel) -> StoredClustering | None:
    """The most recently run clustering of this corpus and model, for colouring a reopened map."""
    row = first_row(
        store.fetch_all(
            "SELECT clustering_id, summary, labels, seconds FROM clusterings "
            "WHERE corpus_id = ? AND model_key = ? "
            "ORDER BY created_at DESC, clustering_id DESC LIMIT 1",
            [corpus.corpus_id, record.model_key],
        )
    )
    return _from_row(row) if row else None


def find_clustering(
    store: Store, corpus: Corpus, record: CorpusModel, request: ClusterRequest
) -> StoredClustering | None:
    """The stored clustering made for exactly this request, or None; never computes."""
    row = first_row(
        store.fetch_all(
            "SELECT clustering_id, summary, labels, seconds FROM clusterings "
            "WHERE corpus_id = ? AND model_key = ? AND params = ? "
            "ORDER BY clustering_id DESC LIMIT 1",
            [corpus.corpus_id, record.model_key, params_key(request.as_dict())],
        )
    )
    return _from_row(row) if row else None


def run_clustering(
    store: Store,
    corpus: Corpus,
    record: CorpusModel,
    request: ClusterRequest,
    vectors: np.ndarray | None = None,
) -> StoredClustering:
    """The stored clustering for this request, or a new one (computed, then stored)."""
    found = find_clustering(store, corpus, record, request)
    if found is not None:
        # Asking again makes it the latest: the Map page shows latest_clustering after a run.
        with store.transaction() as cur:
            cur.execute(
                "UPDATE clusterings SET created_at = current_timestamp WHERE clustering_id = ?",
                [found.clustering_id],
            )
        return found
    start = time.perf_counter()
    if vectors is None:
        vectors = load_vectors(store, corpus, record.model_key, record.dim)
    texts = load_documents(store, corpus, with_metadata=False)["text"].tolist()
    clustering = cluster_embeddings(
        vectors,
        texts,
        method=request.method,
        k=request.k,
        min_cluster_size=request.min_cluster_size,
        pca_dims=request.pca_dims,
        seed=request.seed,
        min_samples=request.min_samples,
    )
    seconds = time.perf_counter() - start
    with store.transaction() as cur:
        clustering_id = cur.execute(
            "INSERT INTO clusterings (corpus_id, model_key, method, params, summary, labels, "
            "seconds) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING clustering_id",
            [
                corpus.corpus_id,
                record.model_key,
                request.method,
                params_key(request.as_dict()),
                json.dumps(clustering.as_dict()),
                clustering.labels.astype(int).tolist(),
                seconds,
            ],
        ).fetchall()[0][0]
    return StoredClustering(int(clustering_id), clustering, seconds, reused=False)
