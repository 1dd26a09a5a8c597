"""Clustering and c-TF-IDF keywords on synthetic corpora whose clusters and words are planted."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.cluster import HDBSCAN
from sklearn.metrics import adjusted_rand_score

from analysis.core.errors import UserError
from analysis.map import clustering
from analysis.map.cluster_defaults import hdbscan_settings
from analysis.map.clustering import class_tfidf_keywords, cluster_embeddings

TOPICS = (
    ("cat", "dog", "pet", "kitten", "puppy"),
    ("stock", "bond", "market", "shares", "investor"),
    ("python", "code", "bug", "compiler", "function"),
)


def _corpus(
    sizes: tuple[int, ...] = (60, 45, 30), n_noise: int = 0, dims: int = 384, seed: int = 0
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Well-separated blobs with one vocabulary each, plus optional scattered noise documents.

    Returns (vectors, texts, truth) with truth -1 for the noise documents.
    """
    rng = np.random.default_rng(seed)
    # A shared direction puts the blobs at cosine ~0.5 to each other, so that noise, being
    # near-orthogonal to everything, is clearly farther from every blob than they are apart.
    centres = rng.standard_normal((len(sizes), dims)) + rng.standard_normal(dims)
    truth = np.concatenate([np.full(size, c) for c, size in enumerate(sizes)])
    vectors = centres[truth] + 0.3 * rng.standard_normal((truth.size, dims))
    texts = [f"The {' '.join(rng.choice(TOPICS[c], 4, replace=False))} report" for c in truth]
    if n_noise:
        vectors = np.vstack([vectors, 3.0 * rng.standard_normal((n_noise, dims))])
        texts += [f"misc note {i}" for i in range(n_noise)]
        truth = np.concatenate([truth, np.full(n_noise, -1)])
    return vectors.astype(np.float32), texts, truth


@pytest.fixture(scope="module")
def corpus() -> tuple[np.ndarray, list[str], np.ndarray]:
    return _corpus()


def _topic_of(result: clustering.Clustering, truth: np.ndarray, cid: int) -> int:
    values, counts = np.unique(truth[result.labels == cid], return_counts=True)
    return int(values[np.argmax(counts)])


@pytest.mark.parametrize(("method", "kwargs"), [("kmeans", {"k": 3}), ("hdbscan", {})])
def test_planted_clusters_and_words_are_recovered(corpus, method: str, kwargs: dict) -> None:
    vectors, texts, truth = corpus
    result = cluster_embeddings(vectors, texts, method=method, **kwargs)
    assert adjusted_rand_score(truth, result.labels) == 1.0
    assert result.silhouette is not None and result.silhouette > 0.5
    assert result.silhouette_sample == truth.size
    assert result.params["pca_dims"] == 50
    for cid in range(3):
        planted = set(TOPICS[_topic_of(result, truth, cid)])
        assert set(result.keywords[cid][:5]) == planted
        assert "report" not in result.keywords[cid][:5]  # in every cluster, so not distinctive


def test_clusters_are_numbered_by_size(corpus) -> None:
    vectors, texts, _ = corpus
    result = cluster_embeddings(vectors, texts, method="kmeans", k=3)
    assert result.sizes == {0: 60, 1: 45, 2: 30}


def test_noise_is_kept_out_of_clusters_keywords_and_silhouette() -> None:
    vectors, texts, truth = _corpus(n_noise=12)
    result = cluster_embeddings(vectors, texts, min_cluster_size=10)
    clustered = truth != -1
    assert adjusted_rand_score(truth[clustered], result.labels[clustered]) == 1.0
    assert (result.labels[~clustered] == -1).all()
    assert result.sizes[-1] == 12
    assert -1 not in result.keywords
    assert result.silhouette_sample == int(clustered.sum())
    data = result.as_dict()
    assert data["noise"] == 12
    assert [c["id"] for c in data["clusters"]] == [0, 1, 2]
    json.dumps(data)


def test_all_noise_has_no_silhouette_and_no_keywords() -> None:
    vectors, texts, _ = _corpus(sizes=(3,), dims=8)
    result = cluster_embeddings(vectors, texts)
    assert result.params["min_cluster_size"] == 3
    assert result.sizes == {-1: 3}
    assert result.keywords == {}
    assert (result.silhouette, result.silhouette_sample) == (None, 0)
    assert result.as_dict()["n_clusters"] == 0


@pytest.mark.parametrize(("method", "kwargs"), [("kmeans", {"k": 4}), ("hdbscan", {})])
def test_same_seed_same_result(method: str, kwargs: dict, monkeypatch) -> None:
    monkeypatch.setattr(clustering, "SILHOUETTE_MAX_POINTS", 50)
    vectors, texts, _ = _corpus(n_noise=5, seed=3)
    first = cluster_embeddings(vectors, texts, method=method, seed=5, **kwargs)
    again = cluster_embeddings(vectors, texts, method=method, seed=5, **kwargs)
    assert first.silhouette_sample == 50
    np.testing.assert_array_equal(first.labels, again.labels)
    assert first.as_dict() == again.as_dict()


def test_params_record_resolved_defaults(corpus) -> None:
    vectors, texts, _ = corpus
    hdbscan = cluster_embeddings(vectors, texts, pca_dims=None, seed=2)
    assert hdbscan.params == {
        "method": "hdbscan",
        "seed": 2,
        "pca_dims": None,
        "n_keywords": 8,
        "min_cluster_size": 5,
        "min_samples": 2,
    }
    kmeans = cluster_embeddings(vectors[:, :40], texts, method="kmeans", k=3, n_keywords=3)
    assert kmeans.params["pca_dims"] is None  # 40 dims: nothing to reduce
    assert (kmeans.params["k"], kmeans.params["n_init"]) == (3, 4)
    assert all(len(words) == 3 for words in kmeans.keywords.values())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "dbscan"}, "choose one of: hdbscan, kmeans"),
        ({"method": "kmeans"}, "k-means needs a number of clusters k between 2 and 134"),
        ({"method": "kmeans", "k": 1}, "between 2 and 134"),
        ({"method": "kmeans", "k": 135}, "between 2 and 134"),
        ({"method": "kmeans", "k": 3, "min_cluster_size": 5}, "applies to hdbscan only"),
        ({"k": 3}, "k applies to kmeans only"),
        ({"min_cluster_size": 1}, "min_cluster_size must be between 2"),
        ({"min_cluster_size": 136}, "min_cluster_size must be between 2"),
        ({"min_samples": 136}, "min_samples must be at most the number of documents"),
        ({"min_samples": 0}, "min_samples must be at least 1"),
        (
            {"method": "kmeans", "k": 3, "min_cluster_size": 5, "min_samples": 2},
            "min_cluster_size and min_samples apply to hdbscan only",
        ),
        ({"pca_dims": 0}, "pca_dims must be at least 1"),
        ({"n_keywords": 0}, "n_keywords must be at least 1"),
    ],
)
def test_bad_parameters_are_explained(corpus, kwargs: dict, message: str) -> None:
    vectors, texts, _ = corpus
    with pytest.raises(UserError, match=message):
        cluster_embeddings(vectors, texts, **kwargs)


def test_too_few_documents_are_refused(corpus) -> None:
    vectors, texts, _ = corpus
    with pytest.raises(UserError, match="at least 3 documents"):
        cluster_embeddings(vectors[:2], texts[:2], method="kmeans", k=2)


def test_one_text_per_vector_is_required(corpus) -> None:
    vectors, texts, _ = corpus
    with pytest.raises(ValueError, match="one vector per text"):
        cluster_embeddings(vectors, texts[:-1])


def test_class_tfidf_follows_the_formula() -> None:
    # Class 0: apple 3, banana 1; class 1: banana 1, cherry 1; A = 3 words per class.
    # W(apple, 0) = 3 ln 2 > W(banana, 0) = ln 2.5; W(cherry, 1) = ln 4 > W(banana, 1) = ln 2.5.
    texts = ["apple apple", "apple banana", "banana cherry"]
    labels = np.array([0, 0, 1])
    assert class_tfidf_keywords(texts, labels) == {0: ["apple", "banana"], 1: ["cherry", "banana"]}
    assert class_tfidf_keywords(texts, labels, n_keywords=1) == {0: ["apple"], 1: ["cherry"]}


def test_keywords_skip_stop_words_numbers_and_single_letters_ties_alphabetical() -> None:
    texts = ["the zeta alpha 2024 x", "the beta_gamma", "and or not"]
    keywords = class_tfidf_keywords(texts, np.array([0, 1, -1]))
    assert keywords == {0: ["alpha", "zeta"], 1: ["beta_gamma"]}


def test_keywords_of_texts_without_words_are_empty() -> None:
    assert class_tfidf_keywords(["the", "and 42", "of"], np.array([0, 1, -1])) == {0: [], 1: []}


@pytest.mark.parametrize(
    ("n", "suggested"),
    [(3, (3, 2)), (40, (5, 2)), (1000, (5, 2)), (2000, (10, 3)), (20_000, (100, 10))],
)
def test_hdbscan_settings_follow_the_stated_rule(n: int, suggested: tuple[int, int]) -> None:
    assert hdbscan_settings(n) == suggested
    assert hdbscan_settings(n, min_cluster_size=30)[1] == 10  # from the size given
    assert hdbscan_settings(n, min_cluster_size=4) == (4, 2)
    assert hdbscan_settings(n, min_samples=7)[1] == 7


def test_min_samples_reaches_hdbscan_and_lower_leaves_less_noise() -> None:
    rng = np.random.default_rng(2)
    centres = 4.0 * rng.standard_normal((3, 16))
    truth = np.repeat(np.arange(3), 50)
    # Blobs with long tails: min_samples decides whether a tail joins its blob or stays noise.
    tails = rng.exponential(1.0, truth.size)[:, None]
    vectors = (centres[truth] + 2.0 * rng.standard_normal((truth.size, 16)) * tails).astype(
        np.float32
    )
    texts = ["note"] * truth.size
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    noise = {}
    for min_samples in (25, 2):
        result = cluster_embeddings(
            vectors, texts, min_cluster_size=10, min_samples=min_samples, pca_dims=None
        )
        assert result.params["min_samples"] == min_samples
        direct = HDBSCAN(min_cluster_size=10, min_samples=min_samples, copy=True).fit_predict(unit)
        assert np.array_equal(result.labels == -1, direct == -1)
        assert adjusted_rand_score(direct, result.labels) == 1.0
        noise[min_samples] = result.sizes.get(-1, 0)
    assert noise[2] < noise[25]
