"""Sentence-pair corpora (text_a, text_b, score): how well each layer and prefix size ranks pairs.

For STS-style data the layer x dimension heatmap of 2D Matryoshka Sentence Embeddings (Li et al.
2024) needs no probe: each cell is the Spearman correlation between the cosine of the two texts'
vectors (layer l, first d dimensions) and the gold score, x 100. The corpus's text column holds
text_a; text_b and the score are two of its columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis.core.analysis import ChartSpec, Estimate
from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.results import StoredResult
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, load_documents
from analysis.probes.corpus_probe import CorpusProbe
from analysis.probes.dimension_curves import pair_heatmap
from analysis.probes.estimate import estimate_pairs
from analysis.probes.figures import pair_heatmap_figure
from analysis.probes.fit import Steps
from analysis.probes.requests import PairRequest
from analysis.probes.summary import heatmap_table, pair_reading
from analysis.vectors.text_layers import corpus_rows_layer_vectors, text_layer_vectors

KIND = "probe-pairs"
MIN_PAIRS = 10


class PairHeatmap(CorpusProbe[PairRequest]):
    """Spearman of pair cosines against gold scores, per layer and prefix size; no fitting."""

    kind = KIND
    title = "Sentence-pair heatmap"

    def compute(self, progress: ProgressFn | None) -> dict[str, Any]:
        return _compute(self.store, self.corpus, self.request, progress)

    def estimate(self) -> Estimate:
        return estimate_pairs(self.store, self.corpus, self.request)

    def reading(self, result: StoredResult) -> str:
        return pair_reading(result.result)

    def figures(
        self, result: StoredResult, view: Mapping[str, Any] | None = None
    ) -> list[ChartSpec]:
        """The heatmap; ``view['relative']``: its cells as % of the full model."""
        data = result.result
        relative = bool((view or {}).get("relative"))
        figure = pair_heatmap_figure(data, self.corpus.name, relative)
        table = heatmap_table(data["heatmap"])
        return [ChartSpec("pairs", figure, "probe-pairs", data["model"], table)]


def _pairs(store: Store, corpus: Corpus, request: PairRequest) -> tuple[pd.DataFrame, list[str]]:
    documents = load_documents(store, corpus)
    for column in (request.pair_column, request.score_column):
        if column not in corpus.metadata_names:
            raise UserError(
                f"Corpus '{corpus.name}' has no column '{column}'; its columns are: "
                f"{', '.join(corpus.metadata_names) or 'none'}."
            )
    second = documents[request.pair_column].astype("string").fillna("").str.strip()
    score = pd.to_numeric(documents[request.score_column], errors="coerce")
    keep = (second != "") & score.notna()
    notices = []
    if not keep.all():
        notices.append(
            f"Dropped {int((~keep).sum()):,} pair(s) without a second text or a numeric score."
        )
    if keep.sum() < MIN_PAIRS:
        raise UserError(
            f"Only {int(keep.sum())} complete pairs (text, '{request.pair_column}', numeric "
            f"'{request.score_column}'); a rank correlation needs at least {MIN_PAIRS}."
        )
    if score[keep].nunique() < 2:
        raise UserError(f"Every score in '{request.score_column}' is the same; nothing to rank.")
    pairs = pd.DataFrame(
        {
            "doc_id": documents.loc[keep, "doc_id"],
            "text_a": documents.loc[keep, "text"],
            "text_b": second[keep],
            "score": score[keep].astype(float),
        }
    )
    return pairs, notices


def _compute(
    store: Store, corpus: Corpus, request: PairRequest, progress: ProgressFn | None
) -> dict[str, Any]:
    pairs, notices = _pairs(store, corpus, request)
    n = len(pairs)
    steps = Steps(2 * n, progress)
    rows = pairs["doc_id"].to_numpy(dtype=np.int64)
    spec = (request.model, request.pooling, request.max_length)
    a = corpus_rows_layer_vectors(
        store, corpus, rows, pairs["text_a"].tolist(), *spec, steps.encoding(n)
    )
    b = text_layer_vectors(store, pairs["text_b"].tolist(), *spec, steps.encoding(n))
    heatmap = pair_heatmap(a.tensor, b.tensor, pairs["score"].to_numpy(), request.dims)
    return {
        "kind": KIND,
        "pair_column": request.pair_column,
        "score_column": request.score_column,
        "model": a.model.name,
        "model_key": a.model.model_key,
        "pooling": request.pooling,
        "n": n,
        "heatmap": heatmap,
        "notices": notices,
    }
