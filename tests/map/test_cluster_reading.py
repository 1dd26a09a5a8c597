"""A clustering in words: settings spelled out (never a dict), the silhouette explained, and a
clear notice when most or all documents are noise."""

from __future__ import annotations

import numpy as np

from analysis.map.cluster_reading import clustering_notices, clustering_reading
from analysis.map.clustering import Clustering


def clustering(
    labels: list[int],
    method: str = "hdbscan",
    silhouette: float | None = 0.123,
    sample: int | None = None,
    seed: int = 0,
) -> Clustering:
    array = np.asarray(labels)
    ids, counts = np.unique(array, return_counts=True)
    params = {"method": method, "seed": seed, "pca_dims": 50, "n_keywords": 8}
    if method == "kmeans":
        params |= {"k": int((ids >= 0).sum()), "n_init": 4}
    else:
        params |= {"min_cluster_size": 10, "min_samples": 3}
    clustered = int((array >= 0).sum())
    return Clustering(
        method=method,
        params=params,
        labels=array,
        sizes={int(c): int(n) for c, n in zip(ids, counts, strict=True)},
        keywords={int(c): ["word"] for c in ids if c >= 0},
        silhouette=silhouette,
        silhouette_sample=clustered if sample is None else sample,
    )


def test_the_reading_spells_out_settings_and_explains_the_silhouette() -> None:
    reading = clustering_reading(clustering([0] * 30 + [1] * 20 + [-1] * 10))
    assert "{" not in reading and "'" not in reading  # no raw params dict
    assert reading.startswith(
        "HDBSCAN (min_cluster_size 10, min_samples 3; PCA to 50 dimensions first): "
        "2 clusters and 10 noise documents (in no cluster) of 60."
    )
    assert "Cosine silhouette 0.123: for each document, how much nearer it is to its own" in reading
    assert "from −1 to 1" in reading
    assert "Measured on all 50 clustered documents, noise left out." in reading


def test_a_sampled_silhouette_names_its_sample_and_seed() -> None:
    reading = clustering_reading(clustering([0] * 30 + [1] * 20, sample=40, seed=7))
    assert "a seeded sample of 40 of the 50 clustered documents (at most 5,000, seed 7)" in reading
    assert "noise left out" not in reading


def test_kmeans_reads_without_noise_and_an_undefined_silhouette_says_why() -> None:
    reading = clustering_reading(clustering([0] * 50, method="kmeans", silhouette=None))
    assert reading.startswith("k-means (k 1, best of 4 starts, seed 0; PCA to 50 dimensions")
    assert "noise" not in reading
    assert "Silhouette: undefined (it needs at least two clusters)." in reading
    assert clustering_notices(clustering([0] * 50, method="kmeans")) == []


def test_all_noise_and_mostly_noise_say_so_and_what_to_try() -> None:
    (nothing,) = clustering_notices(clustering([-1] * 2000, silhouette=None))
    assert nothing.startswith("HDBSCAN found no cluster: all 2,000 documents are noise")
    assert "lower min_samples (now 3" in nothing and "min_cluster_size (now 10)" in nothing
    assert "k-means" in nothing
    (mostly,) = clustering_notices(clustering([-1] * 60 + [0] * 40))
    assert mostly.startswith("Most documents are noise: 60 of 100 (60%) belong to no cluster")
    assert clustering_notices(clustering([-1] * 50 + [0] * 50)) == []  # half is not most
