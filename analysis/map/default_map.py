"""Which map of a corpus other analyses draw on: the stored default UMAP, else a PCA made now.

The Compare page's change map and a report's map both colour the corpus's map by their own
values; they reuse the UMAP the Map page made with default parameters rather than starting a
slow UMAP of their own, and fall back to a PCA (seconds) when no such map is stored.
"""

from __future__ import annotations

from analysis.core.store import Store
from analysis.corpus.corpora import Corpus
from analysis.map.projection import Projection, ProjectionParams
from analysis.map.projection_analysis import ProjectionAnalysis
from analysis.vectors.catalogue import CorpusModel, corpus_models

UMAP_MIN_POINTS = 5  # below this the Map page itself only offers PCA


def corpus_map(store: Store, corpus: Corpus, preferred_key: str) -> Projection | None:
    """The stored default UMAP of the preferred model (else the first), else a PCA made now.

    None when the corpus has no embedded model at all.
    """
    models = corpus_models(store, corpus)
    if not models:
        return None
    ordered: list[CorpusModel] = sorted(models, key=lambda m: m.model_key != preferred_key)
    if corpus.n_rows >= UMAP_MIN_POINTS:
        for record in ordered:
            found = ProjectionAnalysis(store, corpus, record, ProjectionParams()).find()
            if found is not None:
                return found
    return ProjectionAnalysis(store, corpus, ordered[0], ProjectionParams(method="pca")).run()
