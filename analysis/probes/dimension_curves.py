"""How many dimensions carry the concept: probe accuracy of reduced representations.

Three reductions at a layer, d in {8, ..., 256, full} (after Matryoshka Representation Learning,
Kusupati et al. 2022, and 2D Matryoshka Sentence Embeddings, Li et al. 2024):

- prefix: the first d coordinates, re-normalised (the MRL convention; what a Matryoshka model
  is trained for, and arbitrary for a model like MiniLM);
- PCA: the top-d principal components, fitted on the training fold only;
- random: a Gaussian random projection to d (3 seeds, averaged per fold).

A non-Matryoshka model shows prefix ~ random and PCA on top. The layer x dimension heatmap uses the
prefix (2DMSE truncates in both directions); for sentence-pair corpora its cells are the Spearman
correlation between the cosine of the pair and the gold score, x 100, and need no folds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from analysis.probes.fit import (
    Features,
    Steps,
    accuracy_only,
    cross_validate,
    logistic_probe,
    rows_of,
)
from analysis.probes.inputs import Folds
from analysis.probes.metrics import summarise

DEFAULT_DIMS = (8, 16, 32, 64, 128, 256)
METHODS = ("prefix", "pca", "random")
RANDOM_SEEDS = 3


def usable_dims(dims: Sequence[int], full: int) -> list[int]:
    """The requested sizes below the full dimension, ascending (full is always added)."""
    return sorted({int(d) for d in dims if 1 <= int(d) < full})


def prefix(matrix: np.ndarray, d: int) -> np.ndarray:
    """First d coordinates, each row re-normalised to unit length."""
    part = matrix[:, :d].astype(np.float64)
    return part / np.maximum(np.linalg.norm(part, axis=1, keepdims=True), 1e-12)


def random_projection(matrix: np.ndarray, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return matrix @ (rng.standard_normal((matrix.shape[1], d)) / np.sqrt(d))


class _FoldPCA:
    """Per-fold PCA fitted once with the largest d; smaller d take the leading components."""

    def __init__(self, matrix: np.ndarray, folds: Folds, max_d: int, seed: int) -> None:
        from sklearn.decomposition import PCA

        self.parts: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.max_d = min(max_d, min(len(train) for train, _ in folds), matrix.shape[1])
        for index, (train, test) in enumerate(folds):
            pca = PCA(n_components=self.max_d, random_state=seed).fit(matrix[train])
            self.parts[index] = (pca.transform(matrix[train]), pca.transform(matrix[test]))

    def features(self, d: int) -> Features:
        def select(fold: int, train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            x_train, x_test = self.parts[fold]
            return x_train[:, :d], x_test[:, :d]

        return select


def _accuracy(
    features: Features, y: np.ndarray, folds: Folds, n_classes: int, seed: int, steps: Steps
) -> np.ndarray:
    scores = cross_validate(
        features, y, folds, lambda: logistic_probe(seed), n_classes, steps, accuracy_only
    )
    return np.asarray(scores["accuracy"])


def dimension_fits(n_dims: int) -> int:
    """Fits per layer and fold: prefix, PCA and three random projections at every d."""
    return n_dims * (2 + RANDOM_SEEDS)


def dimension_curves(
    matrix: np.ndarray,
    y: np.ndarray,
    folds: Folds,
    dims: Sequence[int],
    n_classes: int,
    seed: int,
    full_accuracy: Sequence[float],
    steps: Steps,
) -> list[dict[str, Any]]:
    """Accuracy per (method, d) at one layer; d = full reuses the layer's full probe."""
    full = matrix.shape[1]
    sizes = usable_dims(dims, full)
    pca = _FoldPCA(matrix, folds, max(sizes), seed) if sizes else None
    curves = []
    for d in sizes:
        fold_acc = {
            "prefix": _accuracy(rows_of(prefix(matrix, d)), y, folds, n_classes, seed, steps),
            "random": np.mean(
                [
                    _accuracy(
                        rows_of(random_projection(matrix, d, seed + s)),
                        y,
                        folds,
                        n_classes,
                        seed,
                        steps,
                    )
                    for s in range(RANDOM_SEEDS)
                ],
                axis=0,
            ),
        }
        if pca is not None and d <= pca.max_d:
            fold_acc["pca"] = _accuracy(pca.features(d), y, folds, n_classes, seed, steps)
        else:
            steps.advance(len(folds))
        for method in METHODS:
            if method in fold_acc:
                curves.append({"method": method, "d": d, "accuracy": summarise(fold_acc[method])})
    for method in METHODS:
        curves.append({"method": method, "d": full, "accuracy": summarise(full_accuracy)})
    return curves


def accuracy_heatmap(
    tensor: np.ndarray,
    y: np.ndarray,
    folds: Folds,
    dims: Sequence[int],
    n_classes: int,
    seed: int,
    full_accuracy: Sequence[Sequence[float]],
    steps: Steps,
) -> dict[str, Any]:
    """Mean CV accuracy of the prefix probe for every layer x d (d = full from the layer probes)."""
    full = tensor.shape[2]
    sizes = usable_dims(dims, full)
    cells = [
        [
            float(_accuracy(rows_of(prefix(layer, d)), y, folds, n_classes, seed, steps).mean())
            for d in sizes
        ]
        + [float(np.mean(full_accuracy[index]))]
        for index, layer in enumerate(tensor)
    ]
    return _heatmap(cells, [*sizes, full], "accuracy", "probe accuracy (prefix truncation)")


def pair_heatmap(
    a: np.ndarray, b: np.ndarray, scores: np.ndarray, dims: Sequence[int]
) -> dict[str, Any]:
    """Spearman rho x 100 between cos(a[:d], b[:d]) and the gold score, for every layer x d."""
    from scipy.stats import spearmanr

    full = a.shape[2]
    sizes = [*usable_dims(dims, full), full]
    cells = []
    for layer_a, layer_b in zip(a, b, strict=True):
        row = []
        for d in sizes:
            cosine = np.sum(prefix(layer_a, d) * prefix(layer_b, d), axis=1)
            rho = spearmanr(cosine, scores).statistic
            row.append(float(100.0 * rho))
        cells.append(row)
    return _heatmap(cells, sizes, "spearman_x100", "Spearman rho x 100 of cosine vs gold score")


def _heatmap(cells: list[list[float]], dims: list[int], value: str, label: str) -> dict[str, Any]:
    """Cells, plus each cell as % of the full model (last layer, full d)."""
    matrix = np.asarray(cells, dtype=float)
    reference = matrix[-1, -1]
    relative = 100.0 * matrix / reference if reference else np.full_like(matrix, np.nan)
    return {
        "value": value,
        "label": label,
        "layers": list(range(matrix.shape[0])),
        "dims": dims,
        "cells": _json_cells(matrix, 6),
        "percent_of_full": _json_cells(relative, 3),
    }


def _json_cells(matrix: np.ndarray, digits: int) -> list[list[float | None]]:
    """Rounded cells with None where undefined (a constant cosine has no rank correlation)."""
    return [[round(float(v), digits) if np.isfinite(v) else None for v in row] for row in matrix]
