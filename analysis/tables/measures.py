"""The two measures of every order/sample/perturbation property (observatory.md, "Measures").

For an item with original embedding z0 and variants z1..zK: the mean cosine of the original to
each variant (not all pairs), and the multivariate coefficient of variation of {z0..zK} after
Albert and Zhang (2010), sqrt(mu' S mu) / (mu' mu) with S the n-1 sample covariance. MCV needs no
inverse (K can be far below the dimension) and is scale-free, but it grows with fewer samples, so
it is only comparable at equal K: K travels with every MCV.
"""

from __future__ import annotations

import numpy as np


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def cosine_to_original(original: np.ndarray, variants: np.ndarray) -> float:
    """mean_k cos(z0, zk) for z0 [dim] and variants [K, dim]."""
    if len(variants) == 0:
        raise ValueError("no variants to compare with the original")
    return float((_unit(variants) @ _unit(original)).mean())


def mcv(vectors: np.ndarray) -> float:
    """Albert-Zhang MCV of the rows of [n, dim] (original and its variants), n >= 2."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.shape[0] < 2:
        raise ValueError("MCV needs at least two vectors")
    mu = vectors.mean(axis=0)
    centred = vectors - mu
    # mu' S mu without forming the dim x dim covariance: ||centred @ mu||^2 / (n - 1).
    spread = float(np.sum((centred @ mu) ** 2) / (vectors.shape[0] - 1))
    denominator = float(mu @ mu)
    if denominator <= 0:
        return float("nan")
    return float(np.sqrt(max(spread, 0.0)) / denominator)


def item_scores(original: np.ndarray, variants: np.ndarray) -> dict[str, float]:
    """Cosine to the original and MCV for one item (variants already re-aligned to it)."""
    return {
        "cosine": cosine_to_original(original, variants),
        "mcv": mcv(np.vstack([original[None, :], variants])),
    }
