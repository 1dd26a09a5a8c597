"""How faithful a 2-D/3-D map is to the embedding space it was drawn from.

A map can be trusted only as far as its neighbourhoods are real. Three rank-based scores say how
far, each over the k nearest neighbours of every point:

* trustworthiness: are the map's neighbours also neighbours in the original space? Low values
  mean the map invents closeness (points drawn together that are far apart).
* continuity: are the original neighbours still neighbours on the map? Low values mean the map
  tears neighbourhoods apart.
* kNN recall: the plain share of each point's k original neighbours that are also its k map
  neighbours.

The original space is cosine (rows are unit embeddings); the map is euclidean. The scores are
computed here in one pass over blocks of rows instead of through
``sklearn.manifold.trustworthiness``: that function argsorts the full n x n distance matrix and
cannot put a different metric on its second space, so continuity would need a second, equally
expensive call. Ranks are counted as 1 + the number of points strictly closer, so exact ties
(duplicate texts) get the best rank they share; for distinct distances the result equals
sklearn's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
from scipy.spatial import KDTree
from scipy.spatial.distance import cdist

from analysis.core.errors import UserError

# Booleans compared per block when counting ranks: bounds memory to ~16 MB whatever n and k.
_BLOCK_CELLS = 1 << 24


@dataclass(frozen=True)
class MapQuality:
    """Neighbourhood-preservation scores of one map, with what they were measured on."""

    k: int
    sample_size: int
    n_points: int
    seed: int
    trustworthiness: float
    continuity: float
    knn_recall: float

    def as_dict(self) -> dict:
        return asdict(self)


class _Scores(NamedTuple):
    trustworthiness: float
    continuity: float
    knn_recall: float


def map_quality(
    original: np.ndarray,
    embedded: np.ndarray,
    k: int = 10,
    max_points: int = 5000,
    seed: int = 0,
) -> MapQuality:
    """Score a map against its embeddings on a random sample of at most ``max_points`` points.

    The scores cost O(n^2) time, so large maps are measured on a sample drawn without
    replacement; the sample size is recorded so a caption can say what the numbers rest on. The
    sample depends only on n, ``max_points`` and ``seed``, so two maps of one corpus scored with
    the same seed are scored on the same points. It is drawn before the float64 copy, which at a
    million 384-d points would take 3 GB. Needs at least 2k + 1 points: the score's normalisation
    only keeps it in [0, 1] for k < n / 2, which is also where sklearn refuses.
    """
    if len(original) != len(embedded):
        raise ValueError(
            f"need two 2-D arrays over the same points, got {len(original)} and {len(embedded)}"
        )
    n_points = len(original)
    _require_points(n_points, 2 * k + 1, k, "trustworthiness and continuity")
    if max_points < 2 * k + 1:
        raise UserError(
            f"max_points ({max_points}) must be at least 2k + 1 = {2 * k + 1} to measure "
            f"trustworthiness and continuity with k = {k}."
        )
    if n_points > max_points:
        rows = np.sort(np.random.default_rng(seed).choice(n_points, max_points, replace=False))
        original, embedded = original[rows], embedded[rows]
    original, embedded = _check_pair(original, embedded)
    scores = _neighbour_scores(original, embedded, k)
    return MapQuality(
        k=k,
        sample_size=original.shape[0],
        n_points=n_points,
        seed=seed,
        trustworthiness=scores.trustworthiness,
        continuity=scores.continuity,
        knn_recall=scores.knn_recall,
    )


def continuity(original: np.ndarray, embedded: np.ndarray, k: int) -> float:
    """Continuity (Venna & Kaski 2006): trustworthiness with the two spaces' roles swapped."""
    original, embedded = _check_pair(original, embedded)
    _require_points(original.shape[0], 2 * k + 1, k, "continuity")
    return _neighbour_scores(original, embedded, k).continuity


def knn_recall(original: np.ndarray, embedded: np.ndarray, k: int) -> float:
    """Mean share of each point's k original neighbours that are also its k map neighbours.

    A random map scores about k / (n - 1), which is the baseline to read it against.
    """
    original, embedded = _check_pair(original, embedded)
    _require_points(original.shape[0], k + 2, k, "kNN recall")
    return _neighbour_scores(original, embedded, k).knn_recall


def _check_pair(original: np.ndarray, embedded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both spaces as float64 2-D arrays over the same points, the original on the unit sphere.

    Float64 although embeddings are stored as float32: a cosine distance is 1 - dot, and for
    close neighbours (near-duplicate texts) float32 cancellation leaves too few digits to rank
    them. Normalising makes the dot product the cosine even if a caller passes raw vectors.
    """
    original = np.asarray(original, dtype=np.float64)
    embedded = np.asarray(embedded, dtype=np.float64)
    if original.ndim != 2 or embedded.ndim != 2 or original.shape[0] != embedded.shape[0]:
        raise ValueError(
            f"need two 2-D arrays over the same points, got shapes {original.shape} and "
            f"{embedded.shape}"
        )
    norms = np.linalg.norm(original, axis=1, keepdims=True)
    return original / np.maximum(norms, 1e-12), embedded


def _require_points(n: int, needed: int, k: int, what: str) -> None:
    if k < 1:
        raise UserError(f"k must be at least 1, got {k}.")
    if n < needed:
        raise UserError(
            f"Need at least {needed} points to measure {what} with k = {k}, got {n}; "
            "choose a smaller k or a larger corpus."
        )


def _neighbour_scores(original: np.ndarray, embedded: np.ndarray, k: int) -> _Scores:
    """All three scores from one pass over row blocks of both distance matrices."""
    n = original.shape[0]
    block = max(1, _BLOCK_CELLS // (n * k))
    map_neighbours = _map_neighbours(embedded, k)
    trust_penalty = cont_penalty = shared = 0
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        dist_orig = original[rows] @ original.T
        np.subtract(1.0, dist_orig, out=dist_orig)
        dist_map = cdist(embedded[rows], embedded)
        for dist in (dist_orig, dist_map):
            dist[np.arange(rows.size), rows] = np.inf
        near_orig = _nearest(dist_orig, k)
        near_map = map_neighbours[rows]
        trust_penalty += _rank_penalty(dist_orig, near_map, k)
        cont_penalty += _rank_penalty(dist_map, near_orig, k)
        shared += int((near_orig[:, :, None] == near_map[:, None, :]).sum())
    scale = 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0))
    return _Scores(
        trustworthiness=1.0 - scale * trust_penalty,
        continuity=1.0 - scale * cont_penalty,
        knn_recall=shared / (n * k),
    )


def _map_neighbours(embedded: np.ndarray, k: int) -> np.ndarray:
    """The k nearest map neighbours of every point, itself excluded.

    A k-d tree answers this in milliseconds on a 2-D/3-D map, far faster than partitioning the
    dense distance rows. Self is removed by index, not by position, because an exact duplicate
    can come back first; if k + 1 duplicates crowd self out, the farthest hit is dropped instead.
    """
    found = KDTree(embedded).query(embedded, k + 1)[1]
    is_self = found == np.arange(found.shape[0])[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    return found[~is_self].reshape(found.shape[0], k)


def _nearest(dist: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k smallest entries per row (self already set to +inf)."""
    return np.argpartition(dist, k - 1, axis=1)[:, :k]


def _rank_penalty(dist: np.ndarray, neighbours: np.ndarray, k: int) -> int:
    """Sum of max(0, rank - k) of the given neighbours, ranked by ``dist`` from each row's point.

    This is the inner sum of the trustworthiness formula: a neighbour that is really the r-th
    nearest costs r - k once it falls outside the true k nearest.
    """
    reach = np.take_along_axis(dist, neighbours, axis=1)
    ranks = (dist[:, None, :] < reach[:, :, None]).sum(axis=2) + 1
    return int(np.maximum(ranks - k, 0).sum())
