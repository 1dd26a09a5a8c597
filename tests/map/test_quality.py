"""Map-quality scores against sklearn and a brute-force reference, on maps of known quality."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.manifold import trustworthiness

from analysis.core.errors import UserError
from analysis.map.quality import continuity, knn_recall, map_quality


def _patch(n: int, seed: int = 0, dims: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors on a small, nearly flat patch of the sphere in ``dims`` dimensions.

    Returns (original, plane): the patch is so small that cosine distances are the plane's
    euclidean distances up to a negligible curvature term, so the plane is a near-perfect map.
    """
    rng = np.random.default_rng(seed)
    plane = rng.uniform(-1, 1, size=(n, 2))
    lifted = np.column_stack([np.ones(n), 0.01 * plane, np.zeros((n, dims - 3))])
    basis = np.linalg.qr(rng.standard_normal((dims, dims)))[0]
    original = lifted @ basis
    return original / np.linalg.norm(original, axis=1, keepdims=True), plane


def _reference_penalty(dist_in: np.ndarray, dist_out: np.ndarray, k: int) -> float:
    """Venna & Kaski's score by the book: neighbours in ``dist_out`` ranked in ``dist_in``."""
    n = dist_in.shape[0]
    penalty = 0
    for i in range(n):
        others = [j for j in range(n) if j != i]
        by_in = sorted(others, key=lambda j: dist_in[i, j])
        rank = {j: r + 1 for r, j in enumerate(by_in)}
        for j in sorted(others, key=lambda j: dist_out[i, j])[:k]:
            penalty += max(0, rank[j] - k)
    return 1.0 - 2.0 / (n * k * (2 * n - 3 * k - 1)) * penalty


@pytest.fixture(scope="module")
def noisy_map() -> tuple[np.ndarray, np.ndarray]:
    """60 points whose map is the true plane plus enough jitter to scramble some neighbours."""
    original, plane = _patch(60, seed=1)
    jitter = np.random.default_rng(2).normal(scale=0.15, size=plane.shape)
    return original, plane + jitter


def test_near_isometric_map_scores_near_one() -> None:
    original, plane = _patch(400)
    quality = map_quality(original, plane, k=10)
    assert quality.trustworthiness > 0.99
    assert quality.continuity > 0.99
    assert quality.knn_recall > 0.9


def test_identical_space_scores_exactly_one() -> None:
    original, _ = _patch(200)
    quality = map_quality(original, original, k=7)
    assert (quality.trustworthiness, quality.continuity, quality.knn_recall) == (1.0, 1.0, 1.0)


def test_random_map_scores_far_lower() -> None:
    original, _ = _patch(400)
    shuffled = np.random.default_rng(3).standard_normal((400, 2))
    quality = map_quality(original, shuffled, k=10)
    assert quality.trustworthiness < 0.65
    assert quality.continuity < 0.65


@pytest.mark.parametrize("k", [1, 5, 12])
def test_continuity_matches_brute_force_reference(noisy_map, k: int) -> None:
    original, embedded = noisy_map
    expected = _reference_penalty(cdist(embedded, embedded), cdist(original, original, "cosine"), k)
    assert expected < 0.999  # the jitter really does move neighbours
    assert continuity(original, embedded, k) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("k", [1, 5, 12])
def test_trustworthiness_matches_sklearn_and_reference(noisy_map, k: int) -> None:
    original, embedded = noisy_map
    ours = map_quality(original, embedded, k=k).trustworthiness
    reference = _reference_penalty(
        cdist(original, original, "cosine"), cdist(embedded, embedded), k
    )
    sklearn_value = trustworthiness(original, embedded, n_neighbors=k, metric="cosine")
    assert ours == pytest.approx(reference, abs=1e-9)
    assert ours == pytest.approx(sklearn_value, abs=1e-9)


def test_continuity_is_trustworthiness_with_roles_swapped(noisy_map) -> None:
    # On unit vectors euclidean order is cosine order, so sklearn can check the swap directly.
    original, embedded = noisy_map
    swapped = trustworthiness(embedded, original, n_neighbors=5)
    assert map_quality(original, embedded, k=5).continuity == pytest.approx(swapped, abs=1e-9)


def test_knn_recall_of_identical_spaces_is_one() -> None:
    original, _ = _patch(300)
    assert knn_recall(original, original, k=10) == 1.0


def test_knn_recall_of_a_shuffled_map_is_chance() -> None:
    n, k = 1000, 10
    original, plane = _patch(n)
    shuffled = plane[np.random.default_rng(4).permutation(n)]
    assert knn_recall(original, shuffled, k) == pytest.approx(k / (n - 1), abs=0.005)


def test_duplicate_points_do_not_count_themselves_as_neighbours() -> None:
    # Each point twice: its copy is its unique nearest neighbour, then pairs of equal distance;
    # with k = 5 every neighbour set is fixed, so a perfect map must score exactly 1.
    original, _ = _patch(100)
    doubled = np.vstack([original, original])
    quality = map_quality(doubled, doubled, k=5)
    assert (quality.trustworthiness, quality.continuity, quality.knn_recall) == (1.0, 1.0, 1.0)


def test_large_maps_are_sampled_reproducibly() -> None:
    original, plane = _patch(600)
    first = map_quality(original, plane, k=5, max_points=200, seed=7)
    assert (first.sample_size, first.n_points, first.seed) == (200, 600, 7)
    assert map_quality(original, plane, k=5, max_points=200, seed=7) == first
    whole = map_quality(original, plane, k=5, max_points=600)
    assert (whole.sample_size, whole.n_points) == (600, 600)


def test_as_dict_has_every_field() -> None:
    original, plane = _patch(50)
    data = map_quality(original, plane, k=5).as_dict()
    assert set(data) == {
        "k",
        "sample_size",
        "n_points",
        "seed",
        "trustworthiness",
        "continuity",
        "knn_recall",
    }


def test_too_few_points_are_refused() -> None:
    original, plane = _patch(20)
    with pytest.raises(UserError, match="Need at least 21 points"):
        map_quality(original, plane, k=10)
    with pytest.raises(UserError, match="Need at least 21 points"):
        continuity(original, plane, k=10)
    with pytest.raises(UserError, match="Need at least 21 points"):
        knn_recall(original[:20], plane[:20], k=19)
    assert knn_recall(original, plane, k=18) > 0


def test_bad_k_and_max_points_are_refused() -> None:
    original, plane = _patch(50)
    with pytest.raises(UserError, match="k must be at least 1"):
        map_quality(original, plane, k=0)
    with pytest.raises(UserError, match="max_points"):
        map_quality(original, plane, k=10, max_points=20)


def test_mismatched_arrays_are_a_programming_error() -> None:
    original, plane = _patch(50)
    with pytest.raises(ValueError, match="same points"):
        map_quality(original, plane[:40])


def test_maps_of_the_same_points_are_scored_on_the_same_seeded_sample() -> None:
    """What makes a full and a sampled UMAP comparable: the rows scored depend only on the
    number of points and the seed, not on the map."""
    rng = np.random.default_rng(1)
    original = rng.standard_normal((300, 8))
    rows = np.sort(np.random.default_rng(5).choice(300, 50, replace=False))
    for embedded in (original[:, :2], rng.standard_normal((300, 2))):
        sampled = map_quality(original, embedded, k=5, max_points=50, seed=5)
        direct = map_quality(original[rows], embedded[rows], k=5, max_points=50, seed=5)
        assert (sampled.sample_size, sampled.n_points, sampled.seed) == (50, 300, 5)
        assert sampled.trustworthiness == direct.trustworthiness
        assert sampled.knn_recall == direct.knn_recall
