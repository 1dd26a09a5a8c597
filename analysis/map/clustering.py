"""Clusters of documents in embedding space, each labelled by the words that set it apart.

Vectors are L2-normalised first, so euclidean distance is a monotone function of cosine distance
(|a - b|^2 = 2 - 2 cos). PCA then only drops low-variance directions: distances in the reduced
space approximate those chordal distances, which is why the reduced vectors are not normalised
again. Clusters are renumbered by size (0 = largest) so ids read the same from run to run and
method to method.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import silhouette_score

from analysis.core.errors import UserError
from analysis.map.cluster_defaults import hdbscan_settings

METHODS = ("hdbscan", "kmeans")
NOISE = -1
SILHOUETTE_MAX_POINTS = 5000
KMEANS_N_INIT = 4
# Core distances in parallel: ~20% faster at 15,000 points on this 2-core target; never more.
HDBSCAN_JOBS = 2
# Words of two or more letters (underscores count, digits do not): numbers make poor labels.
TOKEN_PATTERN = r"(?u)\b[^\W\d]{2,}\b"


@dataclass(frozen=True)
class Clustering:
    """One clustering of a corpus: labels per document plus what a reader needs to judge it."""

    method: str
    params: dict
    labels: np.ndarray
    sizes: dict[int, int]
    keywords: dict[int, list[str]]
    silhouette: float | None
    silhouette_sample: int

    def as_dict(self) -> dict:
        clusters = [
            {"id": cid, "size": size, "keywords": self.keywords.get(cid, [])}
            for cid, size in self.sizes.items()
            if cid != NOISE
        ]
        return {
            "method": self.method,
            "params": dict(self.params),
            "n_documents": int(self.labels.size),
            "n_clusters": len(clusters),
            "noise": self.sizes.get(NOISE, 0),
            "clusters": clusters,
            "silhouette": self.silhouette,
            "silhouette_sample": self.silhouette_sample,
        }


def cluster_embeddings(
    vectors: np.ndarray,
    texts: Sequence[str],
    method: str = "hdbscan",
    k: int | None = None,
    min_cluster_size: int | None = None,
    pca_dims: int | None = 50,
    seed: int = 0,
    n_keywords: int = 8,
    min_samples: int | None = None,
) -> Clustering:
    """Cluster documents by their embeddings and label each cluster with c-TF-IDF keywords.

    ``params`` in the result records every setting that shaped it, with defaults resolved
    (``cluster_defaults.HDBSCAN_RULE``) and ``pca_dims`` set to None when no reduction was applied.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise ValueError(
            f"need one vector per text, got vectors of shape {vectors.shape} and {len(texts)} texts"
        )
    n = vectors.shape[0]
    params = _resolve_params(
        n, method, k, (min_cluster_size, min_samples), pca_dims, seed, n_keywords
    )
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    if pca_dims is not None and unit.shape[1] > pca_dims and n > pca_dims:
        reduced = PCA(n_components=pca_dims, random_state=seed).fit_transform(unit)
    else:
        reduced = unit
        params["pca_dims"] = None
    labels = _by_size(_fit_labels(reduced, params))
    silhouette, sample = _cosine_silhouette(unit, labels, seed)
    ids, counts = np.unique(labels, return_counts=True)
    return Clustering(
        method=method,
        params=params,
        labels=labels,
        sizes={int(cid): int(size) for cid, size in zip(ids, counts, strict=True)},
        keywords=class_tfidf_keywords(texts, labels, n_keywords),
        silhouette=silhouette,
        silhouette_sample=sample,
    )


def check_choices(
    method: str,
    k: int | None,
    min_cluster_size: int | None,
    pca_dims: int | None,
    min_samples: int | None = None,
) -> None:
    """The checks that need no corpus: a request is refused as soon as it is made."""
    if method not in METHODS:
        raise UserError(
            f"Unknown clustering method {method!r}; choose one of: {', '.join(METHODS)}."
        )
    if pca_dims is not None and pca_dims < 1:
        raise UserError(f"pca_dims must be at least 1 (or None for no reduction), got {pca_dims}.")
    given = [
        name
        for name, value in (("min_cluster_size", min_cluster_size), ("min_samples", min_samples))
        if value is not None
    ]
    if method == "kmeans" and given:
        verb = "applies" if len(given) == 1 else "apply"
        raise UserError(f"{' and '.join(given)} {verb} to hdbscan only; k-means takes k.")
    if min_samples is not None and min_samples < 1:
        raise UserError(f"min_samples must be at least 1, got {min_samples}.")
    if method == "hdbscan" and k is not None:
        raise UserError(
            "k applies to kmeans only; hdbscan finds the number of clusters itself "
            "(tune min_cluster_size instead)."
        )


def _resolve_params(
    n: int,
    method: str,
    k: int | None,
    density: tuple[int | None, int | None],
    pca_dims: int | None,
    seed: int,
    n_keywords: int,
) -> dict:
    """Check the request up front and fill in defaults: nothing is ignored or bent silently.

    ``density``: HDBSCAN's (min_cluster_size, min_samples), None for the suggested value.
    """
    min_cluster_size, min_samples = density
    check_choices(method, k, min_cluster_size, pca_dims, min_samples)
    if n < 3:
        raise UserError(f"Need at least 3 documents to cluster, got {n}.")
    if n_keywords < 1:
        raise UserError(f"n_keywords must be at least 1, got {n_keywords}.")
    params = {"method": method, "seed": seed, "pca_dims": pca_dims, "n_keywords": n_keywords}
    if method == "kmeans":
        if k is None or not 2 <= k <= n - 1:
            raise UserError(
                f"k-means needs a number of clusters k between 2 and {n - 1} "
                f"(one less than the {n} documents), got {k}."
            )
        return {**params, "k": k, "n_init": KMEANS_N_INIT}
    min_cluster_size, min_samples = hdbscan_settings(n, min_cluster_size, min_samples)
    if not 2 <= min_cluster_size <= n:
        raise UserError(
            f"min_cluster_size must be between 2 and the number of documents ({n}), "
            f"got {min_cluster_size}."
        )
    if min_samples > n:
        raise UserError(
            f"min_samples must be at most the number of documents ({n}), got {min_samples}."
        )
    return {**params, "min_cluster_size": min_cluster_size, "min_samples": min_samples}


def _fit_labels(points: np.ndarray, params: dict) -> np.ndarray:
    if params["method"] == "kmeans":
        model = KMeans(n_clusters=params["k"], n_init=params["n_init"], random_state=params["seed"])
    else:
        model = HDBSCAN(
            min_cluster_size=params["min_cluster_size"],
            min_samples=params["min_samples"],
            copy=True,
            n_jobs=HDBSCAN_JOBS,
        )
    return model.fit_predict(points)


def _by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters so 0 is the largest; ties keep their original order; noise stays -1."""
    ids, counts = np.unique(labels[labels != NOISE], return_counts=True)
    if ids.size == 0:
        return np.full(labels.shape, NOISE, dtype=np.int64)
    new_id = np.empty(ids.size, dtype=np.int64)
    new_id[np.argsort(-counts, kind="stable")] = np.arange(ids.size)
    return np.where(labels == NOISE, NOISE, new_id[np.searchsorted(ids, labels)])


def _cosine_silhouette(unit: np.ndarray, labels: np.ndarray, seed: int) -> tuple[float | None, int]:
    """Cosine silhouette of the clustered (non-noise) points, on a seeded sample of at most 5000.

    Silhouette is O(n^2), hence the sample; noise is left out because it is not a cluster. Measured
    on the full unit vectors, not the PCA-reduced ones, so it judges clusters in the space the
    embeddings actually live in. Returns (None, 0) where silhouette is undefined: fewer than two
    clusters, or every point a cluster of its own.
    """
    kept = np.flatnonzero(labels != NOISE)
    if kept.size > SILHOUETTE_MAX_POINTS:
        rng = np.random.default_rng(seed)
        kept = np.sort(rng.choice(kept, SILHOUETTE_MAX_POINTS, replace=False))
    n_clusters = np.unique(labels[kept]).size
    if not 2 <= n_clusters <= kept.size - 1:
        return None, 0
    return float(silhouette_score(unit[kept], labels[kept], metric="cosine")), int(kept.size)


def class_tfidf_keywords(
    texts: Sequence[str], labels: np.ndarray, n_keywords: int = 8
) -> dict[int, list[str]]:
    """Top words per cluster by class-based TF-IDF (BERTopic's c-TF-IDF).

    Each cluster is treated as one long document, so a word scores high when it is frequent in
    the cluster and rare across clusters: W = tf * log(1 + A / f), with A the mean number of
    words per class and f the word's count over all classes. Noise counts as a class (words
    common in it are not distinctive) but gets no keywords. Ties break alphabetically.
    """
    labels = np.asarray(labels)
    classes, rows = np.unique(labels, return_inverse=True)
    vectorizer = CountVectorizer(stop_words="english", token_pattern=TOKEN_PATTERN)
    try:
        doc_terms = vectorizer.fit_transform(texts)
    except ValueError as exc:
        if "empty vocabulary" not in str(exc):
            raise
        # Not one word survives the stop list and token pattern: there is nothing to label with.
        return {int(cid): [] for cid in classes if cid != NOISE}
    membership = sparse.csr_matrix(
        (np.ones(labels.size), (rows, np.arange(labels.size))), shape=(classes.size, labels.size)
    )
    tf = (membership @ doc_terms).tocsr()
    avg_words = tf.sum() / classes.size
    idf = np.log1p(avg_words / np.asarray(tf.sum(axis=0)).ravel())
    weights = tf.multiply(idf).tocsr()
    weights.sort_indices()
    words = vectorizer.get_feature_names_out()
    return {
        int(cid): _top_words(weights[i], words, n_keywords)
        for i, cid in enumerate(classes)
        if cid != NOISE
    }


def _top_words(weights: sparse.csr_matrix, words: np.ndarray, n: int) -> list[str]:
    """The n highest-weighted words of one class row.

    Only stored (non-zero) entries are considered, and their columns are in vocabulary order,
    which is alphabetical, so a stable sort breaks ties alphabetically.
    """
    order = np.argsort(-weights.data, kind="stable")[:n]
    return [str(words[i]) for i in weights.indices[order]]
