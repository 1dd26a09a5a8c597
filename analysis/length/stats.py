"""The statistics of the length diagnostics, on unit vectors grouped in length buckets.

Pure numpy / scikit-learn, no model: everything here is checked against brute force in the tests.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

BOOTSTRAP = 1000
FOLDS = 5


def mpc(unit: np.ndarray) -> float:
    """Mean pairwise cosine of m unit vectors, i != j: (m ||mean||^2 - 1) / (m - 1).

    Sum over all ordered pairs of u_i . u_j is ||sum u||^2 = m^2 ||mean||^2, of which the m
    self-pairs contribute m; dividing the rest by the m (m - 1) distinct pairs gives the formula.
    """
    m = unit.shape[0]
    mean = unit.astype(np.float64).mean(axis=0)
    return float((m * mean @ mean - 1) / (m - 1))


def resampled_mpc(unit: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mean pairwise cosine of bootstrap resamples given as draw counts [resamples, m].

    A resample draws some texts twice; pairs of a text with its own copy (cosine 1) would
    inflate the statistic, so only pairs of different texts count: with c the draw counts, their
    sum is ||c^T U||^2 - ||c||^2 over m^2 - ||c||^2 pairs.
    """
    m = unit.shape[0]
    sums = counts @ unit.astype(np.float64)
    squares = (counts * counts).sum(axis=1)
    return ((sums * sums).sum(axis=1) - squares) / (m * m - squares)


def mpc_interval(
    unit: np.ndarray, seed: int | list[int], resamples: int = BOOTSTRAP
) -> tuple[float, float]:
    """Seeded bootstrap 95% interval of the mean pairwise cosine."""
    m = unit.shape[0]
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(m, np.full(m, 1.0 / m), size=resamples).astype(np.float64)
    low, high = np.percentile(resampled_mpc(unit, counts), [2.5, 97.5])
    return float(low), float(high)


def cross_similarity(
    unit: np.ndarray, bucket: np.ndarray, group: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """[k, k] mean cos(e_i, e_j) for i in bucket a, j in bucket b over pairs of different texts,
    and [k, k] cosines between the bucket centroids.

    Pairs of one text with itself (the diagonal) or with its own truncation to another length
    (controlled mode) are left out, so every cell compares different content: their sums are
    the per-group sums S_a[g] . S_b[g], subtracted from the all-pairs sum.
    """
    vectors = unit.astype(np.float64)
    _, group_index = np.unique(group, return_inverse=True)
    sums = np.zeros((k, group_index.max() + 1, vectors.shape[1]))
    sizes = np.zeros((k, group_index.max() + 1))
    np.add.at(sums, (bucket, group_index), vectors)
    np.add.at(sizes, (bucket, group_index), 1)
    totals = sums.sum(axis=1)
    counts = sizes.sum(axis=1)
    same = np.einsum("agd,bgd->ab", sums, sums)
    same_pairs = sizes @ sizes.T
    pairwise = (totals @ totals.T - same) / (np.outer(counts, counts) - same_pairs)
    norms = np.linalg.norm(totals, axis=1)
    centroid = (totals @ totals.T) / np.outer(norms, norms).clip(min=1e-12)
    return pairwise, centroid


def spread_and_rank(unit: np.ndarray) -> tuple[float, float, float]:
    """Mean distance to the centroid, effective rank exp(H(p)) of the centred matrix (p = the
    normalised singular values, Roy & Vetterli 2007) and the variance share of PC1."""
    centred = unit.astype(np.float64) - unit.mean(axis=0)
    spread = float(np.linalg.norm(centred, axis=1).mean())
    singular = np.linalg.svd(centred, compute_uv=False)
    p = singular / singular.sum()
    p = p[p > 0]
    effective_rank = float(np.exp(-(p * np.log(p)).sum()))
    variance = singular**2
    return spread, effective_rank, float(variance[0] / variance.sum())


def _probe() -> object:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


def _folds(targets: np.ndarray, groups: np.ndarray, seed: int) -> StratifiedGroupKFold | None:
    """5 folds (fewer when a class is smaller), never splitting a group; None if impossible."""
    _, class_counts = np.unique(targets, return_counts=True)
    splits = min(FOLDS, int(class_counts.min()), np.unique(groups).size)
    if class_counts.size < 2 or splits < 2:
        return None
    return StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=seed)


def length_probe(
    unit: np.ndarray, bucket: np.ndarray, groups: np.ndarray, seed: int
) -> tuple[float, np.ndarray]:
    """Cross-validated logistic-regression accuracy predicting the bucket, and per-bucket recall.

    Folds keep every copy of a text (controlled truncation) on one side, so the probe cannot
    recognise a text it saw at another length. Samples have at least MIN_PER_BUCKET texts per
    bucket, so the folds always exist.
    """
    folds = _folds(bucket, groups, seed)
    with threadpool_limits(1):
        predicted = cross_val_predict(_probe(), unit, bucket, groups=groups, cv=folds)
    correct = predicted == bucket
    k = int(bucket.max()) + 1
    recall = np.array([correct[bucket == b].mean() for b in range(k)])
    return float(correct.mean()), recall


def task_accuracy(
    unit: np.ndarray, labels: np.ndarray, groups: np.ndarray, seed: int
) -> tuple[float | None, float | None]:
    """Cross-validated label accuracy within one bucket, and the majority-class share.

    Only labelled texts of classes with at least 2 members count; None when fewer than 2 such
    classes remain.
    """
    known = np.array([label is not None for label in labels])
    classes, counts = np.unique(labels[known].astype(str), return_counts=True)
    keep = known & np.isin(labels.astype(str), classes[counts >= 2])
    targets = labels[keep].astype(str)
    folds = _folds(targets, groups[keep], seed) if keep.any() else None
    if folds is None:
        return None, None
    with threadpool_limits(1):
        predicted = cross_val_predict(_probe(), unit[keep], targets, groups=groups[keep], cv=folds)
    majority = np.unique(targets, return_counts=True)[1].max() / targets.size
    return float((predicted == targets).mean()), float(majority)


def _rows_unit(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True).clip(min=1e-12)


def mean_centred(unit: np.ndarray) -> np.ndarray:
    """Post-hoc baseline: subtract the sample mean, renormalise."""
    return _rows_unit(unit - unit.mean(axis=0))


def whitened(unit: np.ndarray) -> np.ndarray:
    """Post-hoc baseline: PCA whitening fitted on the sample (directions with no variance are
    dropped, since a small sample spans fewer directions than the model has), renormalised."""
    centred = unit.astype(np.float64) - unit.mean(axis=0)
    _, singular, components = np.linalg.svd(centred, full_matrices=False)
    keep = singular > singular[0] * 1e-6
    projected = centred @ components[keep].T / singular[keep]
    return _rows_unit(projected)


def pca_map(unit: np.ndarray, seed: int) -> tuple[np.ndarray, list[float]]:
    """2-D PCA coordinates and the explained variance ratio of both axes."""
    pca = PCA(n_components=2, svd_solver="full", random_state=seed)
    coords = pca.fit_transform(unit.astype(np.float64))
    return coords, [float(v) for v in pca.explained_variance_ratio_]
