"""Which map a caller shows now, and which it leaves to a background job: one rule for all.

PCA takes seconds even for large corpora, so it is computed where it is asked for. UMAP and t-SNE
take minutes: a caller that can run work in the background (the Map page) shows a stored map at
once, and otherwise a PCA preview of the same dimensions and seed while the requested map is
computed in the background. A caller that has to wait anyway (the CLI, a report) computes what is
asked. The page, the CLI and reports all go through ``plan_map``, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.core.progress import ProgressFn
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus
from analysis.map.projection import Projection, ProjectionParams
from analysis.map.projection_analysis import ProjectionAnalysis
from analysis.vectors.catalogue import CorpusModel

INLINE_METHODS = ("pca",)  # seconds at any corpus size: never worth a background job


@dataclass(frozen=True)
class MapPlan:
    """The requested map, the one to show now, and (when the plan found it) its stored result."""

    requested: ProjectionAnalysis
    now: ProjectionAnalysis  # the requested map, or its PCA preview
    found: Projection | None = None  # ``now``'s stored map, already looked up

    @property
    def background(self) -> ProjectionAnalysis | None:
        """The requested map when it is left to a background job; None when ``now`` is it."""
        return None if self.now is self.requested else self.requested

    def show(self, progress: ProgressFn | None = None) -> Projection:
        """The map to draw now: the stored one, or computed here (PCA, or what a CLI asked)."""
        return self.found if self.found is not None else self.now.run(progress)


def plan_map(
    store: Store,
    corpus: Corpus,
    record: CorpusModel,
    params: ProjectionParams,
    *,
    background: bool,
    vectors: np.ndarray | None = None,
    documents: pd.DataFrame | None = None,
) -> MapPlan:
    """What to show for ``params`` now; ``background``: whether the caller can run a job."""
    requested = ProjectionAnalysis(
        store, corpus, record, params, vectors=vectors, documents=documents
    )
    if not background:
        return MapPlan(requested, requested)
    found = requested.find()
    if found is not None or requested.effective.method in INLINE_METHODS:
        return MapPlan(requested, requested, found)
    preview = ProjectionParams(
        method="pca", dims=requested.effective.dims, seed=requested.effective.seed
    )
    return MapPlan(
        requested,
        ProjectionAnalysis(store, corpus, record, preview, vectors=vectors, documents=documents),
    )
