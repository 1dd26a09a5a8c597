"""How alike two representations of the same texts are: linear CKA, shared neighbours, distances.

Three views that disagree in useful ways: linear CKA (Kornblith et al. 2019) compares the global
geometry and is dominated by high-variance directions; mutual kNN overlap asks, per text, whether
its nearest neighbours stay the same; the Spearman correlation of pairwise cosine distances sits
in between (does the ranking of all distances survive?).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from analysis.map.neighbors import compute_knn

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
ALL_PAIRS_LIMIT = 2_000_000  # up to here (n ~ 2,000) every pair is used
SAMPLED_PAIRS = 1_000_000
_PAIR_CHUNK = 100_000


def _centred(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x - x.mean(axis=0, keepdims=True)


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA of [n, d1] and [n, d2] (same rows = same texts), in the feature-space form.

    CKA = ||Yc' Xc||_F^2 / (||Xc' Xc||_F ||Yc' Yc||_F) with column-centred Xc, Yc. It equals the
    HSIC form tr(K H L H) / sqrt(tr(K H K H) tr(L H L H)) with K = X X', L = Y Y', but costs
    O(n d^2) instead of O(n^2 d), so a few thousand texts take milliseconds.
    """
    return float(cka_matrix([x], [y])[0, 0])


def cka_matrix(
    reps_a: Sequence[np.ndarray], reps_b: Sequence[np.ndarray] | None = None
) -> np.ndarray:
    """Linear CKA between every representation in ``reps_a`` and every one in ``reps_b``.

    Each representation is centred and its self-similarity computed once (layer x layer CKA of a
    7-layer model on 2,000 texts: 49 products of 384 x 2,000 matrices).
    """
    a = [_centred(x) for x in reps_a]
    b = a if reps_b is None else [_centred(y) for y in reps_b]
    norms_a = [np.linalg.norm(x.T @ x) for x in a]
    norms_b = norms_a if reps_b is None else [np.linalg.norm(y.T @ y) for y in b]
    matrix = np.empty((len(a), len(b)))
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            if reps_b is None and j < i:
                matrix[i, j] = matrix[j, i]
                continue
            denominator = norms_a[i] * norms_b[j]
            cross = np.linalg.norm(y.T @ x) ** 2
            matrix[i, j] = cross / denominator if denominator > 0 else np.nan
    return matrix


def unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def neighbours(x: np.ndarray, k: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """The k nearest neighbours (cosine) of every row, itself excluded; and the search method."""
    graph = compute_knn(unit_rows(x), k + 1, seed)
    return graph.indices[:, 1:], graph.method


def neighbour_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row, the fraction of its neighbours in ``a`` that are also among those in ``b``."""
    k = a.shape[1]
    overlap = np.empty(a.shape[0])
    for start in range(0, a.shape[0], 4096):
        block_a, block_b = a[start : start + 4096], b[start : start + 4096]
        shared = (block_a[:, :, None] == block_b[:, None, :]).any(axis=2).sum(axis=1)
        overlap[start : start + 4096] = shared / k
    return overlap


def neighbour_drift(
    a: np.ndarray, b: np.ndarray, neighbours_a: np.ndarray, neighbours_b: np.ndarray
) -> np.ndarray:
    """Per row, how much farther one space's neighbours lie in the other space than that space's
    own neighbours (mean cosine distance), averaged over both directions; 0 when they agree.

    Overlap takes only k + 1 values, so many texts tie (hundreds may share no neighbour at all);
    drift orders them: texts whose old neighbours moved farthest first.
    """
    unit_a, unit_b = unit_rows(a), unit_rows(b)
    in_b = _mean_distance(unit_b, neighbours_a) - _mean_distance(unit_b, neighbours_b)
    in_a = _mean_distance(unit_a, neighbours_b) - _mean_distance(unit_a, neighbours_a)
    return 0.5 * (in_a + in_b)


def _mean_distance(unit: np.ndarray, neighbours_of: np.ndarray) -> np.ndarray:
    """Per row, the mean cosine distance to the rows listed in ``neighbours_of``."""
    out = np.empty(unit.shape[0])
    for start in range(0, unit.shape[0], 4096):
        rows = slice(start, start + 4096)
        cosines = np.einsum("nd,nkd->nk", unit[rows], unit[neighbours_of[rows]])
        out[rows] = 1.0 - cosines.mean(axis=1)
    return out


def overlap_summary(overlap: np.ndarray, k: int) -> dict[str, Any]:
    n = overlap.size
    return {
        "k": k,
        "mean": round(float(overlap.mean()), 6),
        "quantiles": {f"{q:g}": round(float(np.quantile(overlap, q)), 6) for q in QUANTILES},
        "chance": round(k / max(n - 1, 1), 6),  # two unrelated random neighbour lists
    }


def distance_spearman(a: np.ndarray, b: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """Spearman correlation of the cosine distances of the same pairs of texts in a and b.

    Every pair up to ~2,000 texts; above that a seeded uniform sample of 1,000,000 pairs.
    """
    from scipy.stats import spearmanr

    ua, ub = unit_rows(a), unit_rows(b)
    n = ua.shape[0]
    total = n * (n - 1) // 2
    if total <= ALL_PAIRS_LIMIT:
        upper = np.triu_indices(n, k=1)
        da = 1.0 - (ua @ ua.T)[upper]
        db = 1.0 - (ub @ ub.T)[upper]
        sampled = False
    else:
        rng = np.random.default_rng(seed)
        i = rng.integers(0, n, SAMPLED_PAIRS)
        j = rng.integers(0, n - 1, SAMPLED_PAIRS)
        j = np.where(j >= i, j + 1, j)  # uniform over j != i
        da, db = np.empty(SAMPLED_PAIRS), np.empty(SAMPLED_PAIRS)
        for s in range(0, SAMPLED_PAIRS, _PAIR_CHUNK):
            part = slice(s, s + _PAIR_CHUNK)
            da[part] = 1.0 - np.einsum("ij,ij->i", ua[i[part]], ua[j[part]])
            db[part] = 1.0 - np.einsum("ij,ij->i", ub[i[part]], ub[j[part]])
        sampled = True
    rho = spearmanr(da, db).statistic
    return {
        "rho": round(float(rho), 6) if np.isfinite(rho) else None,
        "pairs": int(da.size),
        "of_pairs": int(total),
        "sampled": sampled,
        "seed": seed if sampled else None,
    }
