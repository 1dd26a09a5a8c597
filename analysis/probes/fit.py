"""Fitting probes: the estimators, cross-validation over a fixed split, and progress in steps.

Every fit runs on one BLAS thread. On this 2-core machine the default thread pools made the same
5-fold x 7-layer logistic-regression job take 47 s (binary) and 250 s (7 classes) instead of 0.6 s
and 4 s (see specs/probes.md), so callers wrap the fitting phase in :func:`single_thread`, after
and apart from the torch encoding phase.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from analysis.core.progress import ProgressFn
from analysis.probes.inputs import Folds
from analysis.probes.metrics import fold_scores

MAX_ITER = 2000  # lbfgs on standardised 384-d features converges in < 200 iterations here
MLP_HIDDEN = 256
# (fold index, train rows, test rows) -> (X_train, X_test)
Features = Callable[[int, np.ndarray, np.ndarray], tuple[Any, Any]]
Scorer = Callable[[np.ndarray, np.ndarray, int], dict[str, float]]


@contextmanager
def single_thread() -> Iterator[None]:
    """One BLAS / OpenMP thread for everything inside (process-wide while it lasts)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def logistic_probe(seed: int, c: float = 1.0) -> Any:
    """L2 logistic regression on features standardised inside the training fold (lbfgs).

    scikit-learn fits a multinomial model for K > 2 with lbfgs; lbfgs beat newton-cholesky here.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        StandardScaler(), LogisticRegression(C=c, max_iter=MAX_ITER, random_state=seed)
    )


def mlp_probe(seed: int) -> Any:
    """One hidden layer with early stopping: the nonlinear probe Hewitt & Liang warn about."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(MLP_HIDDEN,), early_stopping=True, max_iter=300, random_state=seed
        ),
    )


def tfidf_probe(seed: int, c: float = 1.0) -> Any:
    """The surface baseline: word TF-IDF (fitted on the training fold) + the same regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(sublinear_tf=True),
        LogisticRegression(C=c, max_iter=MAX_ITER, random_state=seed),
    )


def accuracy_only(y_true: np.ndarray, proba: np.ndarray, n_classes: int) -> dict[str, float]:
    """For control labels, which need not cover every class in a fold (AUC would be undefined)."""
    return {"accuracy": float((proba.argmax(axis=1) == y_true).mean())}


def full_proba(estimator: Any, x: Any, n_classes: int) -> np.ndarray:
    """Class probabilities with one column per class code, even for classes absent in training."""
    proba = np.zeros((x.shape[0], n_classes))
    proba[:, estimator.classes_] = estimator.predict_proba(x)
    return proba


class Steps:
    """Progress of a run in steps: texts encoded (per encoder), then probes fitted."""

    def __init__(self, total: int, progress: ProgressFn | None) -> None:
        self.total = total
        self.done = 0
        self.progress = progress
        self.unconverged = 0

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)

    def encoding(self, n_texts: int) -> ProgressFn:
        """A ProgressFn for one encoder's pass, mapped onto the next ``n_texts`` steps."""
        start = self.done

        def report(done: int, total: int) -> None:
            self.done = start + int(n_texts * done / max(total, 1))
            if self.progress is not None:
                self.progress(min(self.done, self.total), self.total)

        return report


def cross_validate(
    features: Features,
    y: np.ndarray,
    folds: Folds,
    make_estimator: Callable[[], Any],
    n_classes: int,
    steps: Steps,
    scorer: Scorer = fold_scores,
) -> dict[str, list[float]]:
    """Scores per fold (same split for every caller), counting fits that did not converge."""
    from sklearn.exceptions import ConvergenceWarning

    scores: dict[str, list[float]] = {}
    for fold, (train, test) in enumerate(folds):
        x_train, x_test = features(fold, train, test)
        estimator = make_estimator() if np.unique(y[train]).size > 1 else _constant()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            estimator.fit(x_train, y[train])
        steps.unconverged += sum(issubclass(w.category, ConvergenceWarning) for w in caught)
        fold = scorer(y[test], full_proba(estimator, x_test, n_classes), n_classes)
        for name, value in fold.items():
            scores.setdefault(name, []).append(value)
        steps.advance()
    return scores


def _constant() -> Any:
    """For a training fold with one class (possible for control labels, whose keys need not
    spread over the classes): predicting that class is what any probe would learn."""
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="prior")


def rows_of(matrix: np.ndarray) -> Features:
    """Features that are just rows of a matrix (or of an array of texts)."""
    return lambda fold, train, test: (matrix[train], matrix[test])


def permutation_p_value(
    matrix: np.ndarray,
    y: np.ndarray,
    folds: Folds,
    groups: np.ndarray | None,
    n_permutations: int,
    seed: int,
    steps: Steps,
) -> dict[str, Any]:
    """Accuracy with shuffled labels, same folds: p = (1 + #{perm >= real}) / (1 + K)."""
    from sklearn.model_selection import permutation_test_score

    score, permuted, p_value = permutation_test_score(
        logistic_probe(seed),
        matrix,
        y,
        groups=groups,
        cv=folds,
        n_permutations=n_permutations,
        random_state=seed,
        scoring="accuracy",
    )
    steps.advance((n_permutations + 1) * len(folds))
    return {
        "accuracy": round(float(score), 6),
        "p_value": round(float(p_value), 6),
        "permutations": n_permutations,
        "permuted_mean": round(float(np.mean(permuted)), 6),
        "permuted_max": round(float(np.max(permuted)), 6),
    }
