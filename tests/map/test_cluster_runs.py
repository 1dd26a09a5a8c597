"""Clusterings kept in the store: found again by request, newest first, labels exactly preserved."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.core.results import params_key
from analysis.corpus.corpora import IngestOptions
from analysis.corpus.readers import read_path
from analysis.map.cluster_runs import ClusterRequest, latest_clustering, run_clustering
from analysis.map.clustering import cluster_embeddings
from analysis.vectors.catalogue import corpus_models
from analysis.vectors.ingest import ingest

TOPICS = (("cat", "dog", "kitten"), ("stock", "bond", "market"), ("python", "code", "compiler"))


def planted(sizes=(20, 20, 20), n_noise: int = 0, dims: int = 64, seed: int = 0):
    """Separated blobs (topic words planted in the texts), plus optional scattered noise.

    A shared direction puts the blobs at cosine ~0.5 to each other, so noise, near-orthogonal to
    everything, is farther from every blob than they are from each other.
    """
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(sizes), dims)) + rng.standard_normal(dims)
    truth = np.concatenate([np.full(size, c) for c, size in enumerate(sizes)])
    vectors = centres[truth] + 0.3 * rng.standard_normal((truth.size, dims))
    texts = [f"{' '.join(TOPICS[c])} item {i}" for i, c in enumerate(truth)]
    if n_noise:
        vectors = np.vstack([vectors, 3.0 * rng.standard_normal((n_noise, dims))])
        texts += [f"stray remark {i}" for i in range(n_noise)]
        truth = np.concatenate([truth, np.full(n_noise, -1)])
    return vectors.astype(np.float32), texts, truth


def make_corpus(store, tmp_path: Path, name: str, vectors: np.ndarray, texts: list[str]):
    csv = tmp_path / f"{name}.csv"
    csv.write_text("text\n" + "\n".join(texts) + "\n")
    np.save(tmp_path / f"{name}.npy", vectors)
    table = read_path(csv, Limits(), npy_path=tmp_path / f"{name}.npy")
    corpus, _ = ingest(store, [table], IngestOptions(name=name, vector_model="synthetic"))
    return corpus, corpus_models(store, corpus)[0]


@pytest.fixture
def blobs(store, tmp_path: Path):
    vectors, texts, truth = planted()
    corpus, record = make_corpus(store, tmp_path, "blobs", vectors, texts)
    return corpus, record, vectors, texts, truth


def n_rows(store) -> int:
    return store.fetch_all("SELECT count(*) FROM clusterings")[0][0]


def same_clustering(a, b) -> None:
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.labels.dtype == b.labels.dtype == np.int64
    assert a.sizes == b.sizes and list(a.sizes) == list(b.sizes)
    assert a.keywords == b.keywords
    assert a.silhouette == b.silhouette and a.silhouette_sample == b.silhouette_sample
    assert a.method == b.method and a.params == b.params
    assert a.as_dict() == b.as_dict()


def test_a_clustering_is_stored_and_reused(store, blobs) -> None:
    corpus, record, vectors, texts, truth = blobs
    request = ClusterRequest(method="kmeans", k=3)
    first = run_clustering(store, corpus, record, request)
    assert not first.reused and n_rows(store) == 1
    assert first.clustering.sizes == {0: 20, 1: 20, 2: 20}
    # The stored labels are the clustering of the stored vectors, recovered exactly.
    direct = cluster_embeddings(vectors, texts, method="kmeans", k=3)
    same_clustering(first.clustering, direct)
    for cid in range(3):
        members = truth[first.clustering.labels == cid]
        assert np.unique(members).size == 1
        assert set(first.clustering.keywords[cid][:3]) == set(TOPICS[members[0]])

    again = run_clustering(store, corpus, record, ClusterRequest(method="kmeans", k=3))
    assert again.reused and again.clustering_id == first.clustering_id
    assert again.seconds == pytest.approx(first.seconds)
    same_clustering(again.clustering, first.clustering)
    assert n_rows(store) == 1
    # Passing the vectors in finds the same stored clustering.
    passed = run_clustering(store, corpus, record, request, vectors=vectors)
    assert passed.reused and passed.clustering_id == first.clustering_id


def test_a_different_request_is_a_new_row_and_the_latest_is_the_newest(store, blobs) -> None:
    corpus, record, *_ = blobs
    assert latest_clustering(store, corpus, record) is None
    three = run_clustering(store, corpus, record, ClusterRequest(method="kmeans", k=3))
    latest = latest_clustering(store, corpus, record)
    assert latest is not None and latest.clustering_id == three.clustering_id and latest.reused
    same_clustering(latest.clustering, three.clustering)

    requests = [
        ClusterRequest(method="kmeans", k=2),
        ClusterRequest(method="kmeans", k=3, seed=1),
        ClusterRequest(method="kmeans", k=3, pca_dims=None),
        ClusterRequest(method="hdbscan", min_cluster_size=5),
    ]
    ids = {three.clustering_id}
    for count, request in enumerate(requests, start=2):
        stored = run_clustering(store, corpus, record, request)
        assert not stored.reused and stored.clustering_id not in ids
        ids.add(stored.clustering_id)
        assert n_rows(store) == count
        newest = latest_clustering(store, corpus, record)
        assert newest is not None and newest.clustering_id == stored.clustering_id
        same_clustering(newest.clustering, stored.clustering)
    two = latest_clustering(store, corpus, record)
    assert two is not None and two.clustering.params["method"] == "hdbscan"


def test_running_a_stored_request_again_makes_it_the_latest(store, blobs) -> None:
    """The Map page shows latest_clustering after a run: re-running A after B must show A."""
    corpus, record, *_ = blobs
    a = run_clustering(store, corpus, record, ClusterRequest(method="kmeans", k=3))
    b = run_clustering(store, corpus, record, ClusterRequest(method="kmeans", k=2))
    assert latest_clustering(store, corpus, record).clustering_id == b.clustering_id
    again = run_clustering(store, corpus, record, ClusterRequest(method="kmeans", k=3))
    assert again.reused and again.clustering_id == a.clustering_id
    assert latest_clustering(store, corpus, record).clustering_id == a.clustering_id
    assert n_rows(store) == 2


def test_latest_is_per_corpus_and_model(store, tmp_path: Path, blobs) -> None:
    corpus, record, *_ = blobs
    vectors, texts, _ = planted(seed=5)
    other, other_record = make_corpus(store, tmp_path, "other", vectors, texts)
    mine = run_clustering(store, corpus, record, ClusterRequest(method="kmeans", k=3))
    assert latest_clustering(store, other, other_record) is None
    theirs = run_clustering(store, other, other_record, ClusterRequest(method="kmeans", k=3))
    assert theirs.clustering_id != mine.clustering_id and not theirs.reused
    assert latest_clustering(store, corpus, record).clustering_id == mine.clustering_id
    assert latest_clustering(store, other, other_record).clustering_id == theirs.clustering_id


def test_hdbscan_noise_round_trips(store, tmp_path: Path) -> None:
    vectors, texts, truth = planted(sizes=(25, 25), n_noise=8)
    corpus, record = make_corpus(store, tmp_path, "noisy", vectors, texts)
    request = ClusterRequest(method="hdbscan", min_cluster_size=10, pca_dims=None)
    fresh = run_clustering(store, corpus, record, request)
    labels = fresh.clustering.labels
    assert (labels[truth == -1] == -1).all()
    assert (labels[truth != -1] >= 0).all()
    assert fresh.clustering.sizes == {-1: 8, 0: 25, 1: 25}
    assert -1 not in fresh.clustering.keywords
    summary = fresh.clustering.as_dict()
    assert summary["noise"] == 8 and summary["n_clusters"] == 2
    assert fresh.clustering.silhouette_sample == 50  # noise is left out of the silhouette

    stored = latest_clustering(store, corpus, record)
    assert stored is not None and stored.reused
    same_clustering(stored.clustering, fresh.clustering)
    again = run_clustering(store, corpus, record, request)
    assert again.reused
    same_clustering(again.clustering, fresh.clustering)


def test_all_noise_round_trips(store, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((12, 16)).astype(np.float32)
    corpus, record = make_corpus(store, tmp_path, "scatter", vectors, [f"t {i}" for i in range(12)])
    request = ClusterRequest(method="hdbscan", min_cluster_size=12, pca_dims=None)
    fresh = run_clustering(store, corpus, record, request)
    # HDBSCAN never returns one cluster of everything: every point is noise.
    assert (fresh.clustering.labels == -1).all()
    stored = latest_clustering(store, corpus, record)
    same_clustering(stored.clustering, fresh.clustering)
    assert stored.clustering.sizes == {-1: 12} and stored.clustering.keywords == {}
    assert stored.clustering.silhouette is None and stored.clustering.silhouette_sample == 0


def stored_key(request: ClusterRequest) -> str:
    """The key a clustering is stored and found under: canonical JSON of the request."""
    return params_key(request.as_dict())


def test_request_key_covers_every_field() -> None:
    base = ClusterRequest()
    variants = [
        ClusterRequest(method="kmeans", k=3),
        ClusterRequest(method="kmeans", k=4),
        ClusterRequest(min_cluster_size=7),
        ClusterRequest(pca_dims=None),
        ClusterRequest(pca_dims=20),
        ClusterRequest(seed=1),
    ]
    keys = {stored_key(base), *(stored_key(v) for v in variants)}
    assert len(keys) == len(variants) + 1
    assert stored_key(ClusterRequest(method="kmeans", k=3)) == stored_key(
        ClusterRequest("kmeans", 3)
    )
    assert stored_key(ClusterRequest("kmeans", np.int64(3), seed=np.int64(2))) == stored_key(
        ClusterRequest("kmeans", 3, seed=2)
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 3}, "k applies to kmeans only"),
        ({"method": "kmeans", "k": 3, "min_cluster_size": 5}, "applies to hdbscan only"),
        ({"method": "kmeans", "k": 3, "min_samples": 2}, "^min_samples applies to hdbscan only"),
        ({"min_samples": 0}, "min_samples must be at least 1, got 0"),
        ({"min_samples": 2.5}, r"min_samples must be a whole number, got 2\.5"),
        ({"method": "dbscan"}, "Unknown clustering method 'dbscan'"),
        ({"pca_dims": 0}, "pca_dims must be at least 1"),
        ({"method": "kmeans", "k": 2.5}, r"k must be a whole number, got 2\.5"),
    ],
)
def test_a_request_is_refused_when_it_is_made(kwargs: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        ClusterRequest(**kwargs)


def test_a_refused_request_writes_nothing(store, blobs) -> None:
    corpus, record, *_ = blobs
    with pytest.raises(UserError, match="k-means needs a number of clusters k"):
        run_clustering(store, corpus, record, ClusterRequest(method="kmeans"))
    with pytest.raises(UserError, match="Unknown clustering method"):
        run_clustering(store, corpus, record, ClusterRequest(method="dbscan"))
    assert n_rows(store) == 0 and latest_clustering(store, corpus, record) is None
