"""Scores of one probe on one test fold, and how fold scores are summarised and compared.

With 5 folds the spread between folds is the honest measure of uncertainty; the interval is a
t-interval over fold means and is labelled approximate, because folds share training data and
are not independent samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np

INTERVAL = "approximate 95% t-interval over folds"


def fold_scores(y_true: np.ndarray, proba: np.ndarray, n_classes: int) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro-F1 and ROC-AUC (binary, or macro one-vs-rest).

    ``proba`` has one column per class code 0..K-1, so predictions never depend on which classes
    a particular training fold happened to contain.
    """
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, roc_auc_score

    predicted = proba.argmax(axis=1)
    labels = np.arange(n_classes)
    if n_classes == 2:
        auc = roc_auc_score(y_true, proba[:, 1])
    else:
        auc = roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=labels)
    return {
        "accuracy": float(accuracy_score(y_true, predicted)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, predicted)),
        "macro_f1": float(f1_score(y_true, predicted, average="macro", labels=labels)),
        "roc_auc": float(auc),
    }


def summarise(values: np.ndarray | list[float]) -> dict[str, Any]:
    """Mean, standard deviation (ddof 1) and an approximate 95% t-interval over folds."""
    from scipy import stats

    folds = np.asarray(values, dtype=float)
    mean = float(folds.mean())
    std = float(folds.std(ddof=1)) if folds.size > 1 else 0.0
    half = float(stats.t.ppf(0.975, folds.size - 1) * std / np.sqrt(folds.size)) if std else 0.0
    return {
        "mean": round(mean, 6),
        "std": round(std, 6),
        "ci": [round(mean - half, 6), round(mean + half, 6)],
        "folds": [round(float(v), 6) for v in folds],
    }


def chance_level(labels: np.ndarray, n_classes: int) -> dict[str, float]:
    """max(majority rate, 1/K): what always guessing the biggest class (or at random) gets."""
    majority = float(np.bincount(labels, minlength=n_classes).max() / labels.size)
    return {"chance": max(majority, 1.0 / n_classes), "majority_rate": majority}
