"""Clusterings of a corpus kept in the store, found again by the parameters that made them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import numpy as np

from analysis.core.store import Store, first_row
from analysis.corpus.corpora import Corpus, load_documents
from analysis.map.clustering import Clustering, cluster_embeddings
from analysis.vectors.catalogue import CorpusModel, load_vectors


@dataclass(frozen=True)
class ClusterRequest:
    """What the user asked for; defaults are resolved inside the clustering itself."""

    method: str = "hdbscan"
    k: int | None = None
    min_cluster_size: int | None = None
    pca_dims: int | None = 50
    seed: int = 0

    def key(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)


@dataclass(frozen=True)
class StoredClustering:
    clustering_id: int
    clustering: Clustering
    seconds: float
    reused: bool


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
        store.cursor()
        .execute(
            "SELECT clustering_id, summary, labels, seconds FROM clusterings "
            "WHERE corpus_id = ? AND model_key = ? "
            "ORDER BY created_at DESC, clustering_id DESC LIMIT 1",
            [corpus.corpus_id, record.model_key],
        )
        .fetchall()
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
    row = first_row(
        store.cursor()
        .execute(
            "SELECT clustering_id, summary, labels, seconds FROM clusterings "
            "WHERE corpus_id = ? AND model_key = ? AND params = ? "
            "ORDER BY clustering_id DESC LIMIT 1",
            [corpus.corpus_id, record.model_key, request.key()],
        )
        .fetchall()
    )
    if row is not None:
        # Asking again makes it the latest: the Map page shows latest_clustering after a run.
        with store.transaction() as cur:
            cur.execute(
                "UPDATE clusterings SET created_at = current_timestamp WHERE clustering_id = ?",
                [row[0]],
            )
        return _from_row(row)
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
                request.key(),
                json.dumps(clustering.as_dict()),
                clustering.labels.astype(int).tolist(),
                seconds,
            ],
        ).fetchall()[0][0]
    return StoredClustering(int(clustering_id), clustering, seconds, reused=False)
