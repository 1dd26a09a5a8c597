""" "Paper mode": a faithful replication of the Concept Depth protocol (Jin et al., COLING 2025).

The paper trains scikit-learn's LogisticRegression with its defaults on unscaled last-token
states, on one 60/40 split with random_state 42, and reads accuracy, F1 and AUC per layer. The
default probes are more careful (standardised features, 5 folds, intervals); this mode exists so
a user can put their numbers next to the paper's, computed the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from analysis.core.analysis import ChartSpec, Estimate
from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.results import StoredResult
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus
from analysis.probes.concept_depth import concept_depth, depth_percent
from analysis.probes.corpus_probe import CorpusProbe
from analysis.probes.estimate import estimate_paper
from analysis.probes.figures import paper_figure
from analysis.probes.fit import Steps, cross_validate, rows_of, single_thread
from analysis.probes.inputs import probe_data
from analysis.probes.requests import (
    PAPER_POOLING,
    PAPER_RANDOM_STATE,
    PAPER_SPLIT,
    PAPER_TEST_SIZE,
    PaperRequest,
)
from analysis.probes.summary import paper_reading, paper_table
from analysis.vectors.text_layers import corpus_rows_layer_vectors

KIND = "probe-paper"


class PaperProbe(CorpusProbe[PaperRequest]):
    """The Concept Depth protocol as published: one 60/40 split, unscaled last-token states."""

    kind = KIND
    title = "Paper-mode probe"
    method: ClassVar[dict[str, str]] = {
        "pooling": PAPER_POOLING,
        "split": PAPER_SPLIT,
        "probe": "LogisticRegression() defaults, no scaling",
    }

    def compute(self, progress: ProgressFn | None) -> dict[str, Any]:
        return _compute(self.store, self.corpus, self.request, progress)

    def estimate(self) -> Estimate:
        return estimate_paper(self.store, self.corpus, self.request)

    def reading(self, result: StoredResult) -> str:
        return paper_reading(result.result)

    def figures(
        self, result: StoredResult, view: Mapping[str, Any] | None = None
    ) -> list[ChartSpec]:
        data = result.result
        figure = paper_figure(data, self.corpus.name)
        return [ChartSpec("paper", figure, "probe-paper", data["model"], paper_table(data))]


def _split(labels: np.ndarray, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(
        np.arange(labels.size), test_size=PAPER_TEST_SIZE, random_state=PAPER_RANDOM_STATE
    )
    for part, name in ((train, "training"), (test, "test")):
        missing = sorted(set(range(len(classes))) - set(labels[part].tolist()))
        if missing:
            raise UserError(
                f"The paper's 60/40 split leaves class '{classes[missing[0]]}' out of the {name} "
                "part; paper mode needs more examples of every class."
            )
    return train, test


def _compute(
    store: Store, corpus: Corpus, request: PaperRequest, progress: ProgressFn | None
) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    data = probe_data(store, corpus, request.label_column, seed=PAPER_RANDOM_STATE)
    split = [_split(data.labels, data.classes)]
    layers = corpus_rows_layer_vectors(
        store, corpus, data.rows, data.texts, request.model, PAPER_POOLING, request.max_length
    )
    tensor = layers.tensor
    steps = Steps(tensor.shape[0], progress)
    with single_thread():
        scores = [
            cross_validate(rows_of(layer), data.labels, split, LogisticRegression, data.k, steps)
            for layer in tensor
        ]
    n_layers = tensor.shape[0] - 1
    accuracy = [s["accuracy"][0] for s in scores]
    depth = {**concept_depth(accuracy), "shown": "paper"}
    notices = list(data.notices)
    if steps.unconverged:
        notices.append(
            f"{steps.unconverged} of {len(scores)} fits stopped at scikit-learn's default 100 "
            "iterations before converging, as they would in the paper's setup."
        )
    return {
        "kind": KIND,
        "label_column": request.label_column,
        "model": layers.model.name,
        "model_key": layers.model.model_key,
        "pooling": PAPER_POOLING,
        "n": data.n,
        "n_corpus": data.n_corpus,
        "k": data.k,
        "classes": data.classes,
        "split": PAPER_SPLIT,
        "layers": [
            {
                "layer": index,
                "depth_pct": depth_percent(index, n_layers),
                **{name: round(values[0], 6) for name, values in s.items()},
            }
            for index, s in enumerate(scores)
        ],
        "concept_depth": depth,
        "notices": notices,
    }
