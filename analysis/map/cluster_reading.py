"""A clustering in words: its settings, what the silhouette value means, and when it says little.

The Map page, the CLI and reports show these lines; settings are spelled out (never a raw dict),
and a clustering that left most documents as noise says so, with what to change.
"""

from __future__ import annotations

from analysis.map.clustering import NOISE, SILHOUETTE_MAX_POINTS, Clustering

MOSTLY_NOISE = 0.5  # above this share of noise a clustering describes few of the documents


def describe_settings(clustering: Clustering) -> str:
    """'HDBSCAN (min_cluster_size 10, min_samples 3; PCA to 50 dimensions first)', or k-means."""
    params = clustering.params
    if clustering.method == "kmeans":
        name = f"k-means (k {params['k']}, best of {params['n_init']} starts, seed {params['seed']}"
    else:
        name = (
            f"HDBSCAN (min_cluster_size {params['min_cluster_size']}, "
            f"min_samples {params['min_samples']}"
        )
    reduced = params.get("pca_dims")
    space = f"; PCA to {reduced} dimensions first" if reduced else "; on the full vectors"
    return f"{name}{space})"


def clustering_reading(clustering: Clustering) -> str:
    """Settings, clusters and noise, and the silhouette with what it measures."""
    n = int(clustering.labels.size)
    noise = clustering.sizes.get(NOISE, 0)
    n_clusters = len([cid for cid in clustering.sizes if cid != NOISE])
    found = f"{n_clusters} cluster{'' if n_clusters == 1 else 's'}"
    if clustering.method != "kmeans":
        found += f" and {noise:,} noise documents (in no cluster)"
    return (
        f"{describe_settings(clustering)}: {found} of {n:,}. {silhouette_sentence(clustering)} "
        "Keywords by class-based TF-IDF."
    )


def silhouette_sentence(clustering: Clustering) -> str:
    """What the silhouette is, its range, and on which documents it was measured."""
    clustered = int(clustering.labels.size) - clustering.sizes.get(NOISE, 0)
    if clustering.silhouette is None:
        return "Silhouette: undefined (it needs at least two clusters)."
    sample = clustering.silhouette_sample
    measured = (
        f"all {sample:,} clustered documents"
        if sample == clustered
        else f"a seeded sample of {sample:,} of the {clustered:,} clustered documents "
        f"(at most {SILHOUETTE_MAX_POINTS:,}, seed {clustering.params['seed']})"
    )
    left_out = ", noise left out" if clustering.sizes.get(NOISE, 0) else ""
    return (
        f"Cosine silhouette {clustering.silhouette:.3f}: for each document, how much nearer it "
        "is to its own cluster than to the next nearest one ((b − a) / max(a, b), mean cosine "
        "distances in the full embedding space), averaged; from −1 to 1, near 0 = clusters "
        f"overlap, 1 = tight and far apart. Measured on {measured}{left_out}."
    )


def clustering_notices(clustering: Clustering) -> list[str]:
    """A clustering that found nothing, or left most documents out, says so and what to try."""
    n = int(clustering.labels.size)
    noise = clustering.sizes.get(NOISE, 0)
    if clustering.method == "kmeans" or noise <= MOSTLY_NOISE * n:
        return []
    params = clustering.params
    remedy = (
        f"Try a lower min_samples (now {params['min_samples']}; the lower, the more documents "
        f"join clusters), a lower min_cluster_size (now {params['min_cluster_size']}), or k-means, "
        "which puts every document in a cluster."
    )
    if noise == n:
        return [
            f"HDBSCAN found no cluster: all {n:,} documents are noise, no group of at least "
            f"{params['min_cluster_size']} is dense enough. {remedy}"
        ]
    return [
        f"Most documents are noise: {noise:,} of {n:,} ({noise / n:.0%}) belong to no cluster, "
        f"so the clusters describe only the rest. {remedy}"
    ]
