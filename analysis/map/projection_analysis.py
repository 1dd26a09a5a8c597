"""A map of a corpus as an analysis: one model's vectors projected to 2-D or 3-D, bound to a store.

Maps live in their own tables (``projections``, ``projection_coords``), not in
``analysis_results``, so ``find`` and ``run`` are written here on top of ``find_projection`` and
``project``; the keys, the job and the provenance come from the contract like every analysis's.

The estimate rests on throughput measured on the shared 2-core reference machine (random unit
vectors in 30 clusters, 384 dimensions, 2,000 and 8,000 points): PCA 0.03 s and 1.2 s, UMAP 2.3 s
and 14 s (neighbour search and layout), t-SNE 9 s and 63 s, faithfulness 0.5 s and 2.6 s (a
sample of at most 5,000 points), scaled by how fast this machine does numeric work now
(``core.speed``). The costs per point below are rounded from the larger run.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.core.analysis import Analysis, ChartSpec, Estimate, format_seconds
from analysis.core.progress import ProgressFn, report_stage
from analysis.core.speed import describe_factor, machine_factor
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, load_documents
from analysis.map.cluster_runs import latest_clustering
from analysis.map.colours import cluster_choice, color_choices, projection_view
from analysis.map.figures import DEFAULT_CATEGORIES, MAX_DRAWN_POINTS
from analysis.map.projection import (
    GRAPH_STAGE,
    KNN_STAGE,
    Projection,
    ProjectionParams,
    find_projection,
    fit_stage,
    project,
    usable_params,
)
from analysis.vectors.catalogue import CorpusModel

#: Seconds per document, measured (see the module docstring); t-SNE grows faster than linearly.
# Measured with bench/estimates.py on the 2,000-text demo (PCA with its faithfulness: 0.3-0.6 s).
# UMAP's rate held at scale (bench/million_umap.py, clustered 384-d vectors, 2 shared cores):
# 200,000 points in 239 s (kNN graph 66 s, fuzzy graph and spectral start 28 s, layout 145 s);
# 1,000,000 points: kNN graph 586-738 s, fuzzy graph 329-625 s, layout 3.5-14 s an epoch (200
# epochs) depending on the other work on the machine, 27-70 min in all.
SECONDS_PER_POINT = {"pca": 0.0001, "umap": 0.002, "tsne": 0.008}
#: Shares of a full UMAP's time in its stages without progress of their own (rounded across the
#: runs above: 0.18-0.36 and 0.12-0.20); the layout's epochs report their own progress.
UMAP_STAGE_SHARES = {KNN_STAGE: 0.25, GRAPH_STAGE: 0.15}
QUALITY_SECONDS_PER_POINT = 0.00015  # trustworthiness, continuity and kNN recall
# UMAP fitted on a sample: the fit costs what UMAP costs on that many points (50,000 in 112 s at
# 0.9x load); each other point is placed by transform (its neighbours among the sample, then a
# third of the epochs): 950,000 in 426 s at 0.9x load (bench/million_umap.py, 1,000,000 points).
TRANSFORM_SECONDS_PER_POINT = 0.0005
#: Faithfulness is measured on a sample of at most this many points (``quality.map_quality``).
QUALITY_MAX_POINTS = 5000
# Before the first UMAP of a process: importing umap-learn and compiling its numba code, or only
# loading it from numba's on-disk cache when an earlier process compiled it on this machine.
UMAP_COMPILE_SECONDS = 45
UMAP_CACHED_SECONDS = 4


def numba_cache_exists() -> bool:
    """Whether numba's on-disk cache holds umap-learn's compiled functions already."""
    spec = importlib.util.find_spec("umap")
    if spec is None or spec.origin is None:
        return False
    return any((Path(spec.origin).parent / "__pycache__").glob("*.nbi"))


def umap_compiled() -> bool:
    """Whether umap-learn's layout is compiled in this process (by the warm-up or a map)."""
    layouts = sys.modules.get("umap.layouts")
    jitted = getattr(layouts, "_nb_optimize_layout_euclidean_single_epoch", None)
    return bool(getattr(jitted, "signatures", None))


class ProjectionAnalysis(Analysis[Projection]):
    """A 2-D or 3-D map of a corpus in one model's space, with how faithful it is."""

    kind = "project"
    title = "Map"

    def __init__(
        self,
        store: Store,
        corpus: Corpus,
        record: CorpusModel,
        params: ProjectionParams,
        *,
        vectors: np.ndarray | None = None,
        documents: pd.DataFrame | None = None,
    ) -> None:
        """``vectors`` and ``documents`` are the page's in-memory copies, so a rerun and a
        background job do not read them from the store again; they change no number."""
        self.corpus, self.record, self.request = corpus, record, params
        self.vectors, self.documents = vectors, documents
        self.effective = usable_params(params, corpus, record)
        super().__init__(store, corpus.scope)

    def canonical_params(self) -> dict[str, Any]:
        """The parameters that ran (clamped to the corpus) and the model's weight-hashed key;
        the stored map is found by the parameters, its model by its own column."""
        return {"model_key": self.record.model_key, **self.effective.as_dict()}

    @property
    def label(self) -> str:
        fitted = self.effective.fit_sample
        on = f" (fitted on {fitted:,} sampled)" if isinstance(fitted, int) else ""
        return f"{self.effective.method_name} map of {self.corpus.name}{on}"

    def find(self) -> Projection | None:
        return find_projection(self.store, self.corpus, self.record, self.effective)

    def run(self, progress: ProgressFn | None = None) -> Projection:
        if progress is not None:
            progress = self._with_stage_estimates(progress)
        return project(self.store, self.corpus, self.record, self.effective, progress, self.vectors)

    def stage_estimates(self) -> dict[str, float]:
        """Seconds of the UMAP stages that report no progress of their own, on this machine."""
        params, rate = self.effective, SECONDS_PER_POINT["umap"] * machine_factor()
        if params.method != "umap":
            return {}
        if params.sampled:  # the sample's neighbours and fuzzy graph, in one stage
            silent = sum(UMAP_STAGE_SHARES.values())
            return {fit_stage(params.fit_sample): int(params.fit_sample) * rate * silent}
        n = self.corpus.n_rows
        return {stage: n * rate * share for stage, share in UMAP_STAGE_SHARES.items()}

    def _with_stage_estimates(self, progress: ProgressFn) -> ProgressFn:
        """``progress`` with each silent stage named with its estimate, so a job at 0/1 for ten
        minutes says how long that stage should take ('kNN graph, about 12 min estimated')."""
        seconds = self.stage_estimates()

        def report(done: int, total: int, stage: str | None = None) -> None:
            if stage is None:
                progress(done, total)
                return
            if stage in seconds:
                stage = f"{stage}, {format_seconds(seconds[stage])} estimated"
            report_stage(progress, done, total, stage)

        return report

    def estimate(self) -> Estimate:
        params, factor = self.effective, machine_factor()
        n, method = self.corpus.n_rows, params.method
        scored = min(n, QUALITY_MAX_POINTS)
        per_ms = 1000 * SECONDS_PER_POINT[method] * factor
        if params.sampled:
            fitted, placed = int(params.fit_sample), n - int(params.fit_sample)
            seconds = (
                fitted * SECONDS_PER_POINT[method]
                + placed * TRANSFORM_SECONDS_PER_POINT
                + scored * QUALITY_SECONDS_PER_POINT
            ) * factor
            basis = (
                f"UMAP fitted on {fitted:,} sampled documents at about {per_ms:.2g} ms each, "
                f"the other {placed:,} placed with transform at about "
                f"{1000 * TRANSFORM_SECONDS_PER_POINT * factor:.2g} ms each, plus its "
                f"faithfulness; {describe_factor()}"
            )
        else:
            seconds = (n * SECONDS_PER_POINT[method] + scored * QUALITY_SECONDS_PER_POINT) * factor
            basis = (
                f"{params.method_name} at about {per_ms:.2g} ms per document plus its "
                f"faithfulness; {n:,} documents; {describe_factor()}"
            )
        if method == "umap" and not umap_compiled():
            cached = numba_cache_exists()
            first = (UMAP_CACHED_SECONDS if cached else UMAP_COMPILE_SECONDS) * factor
            seconds += first
            what = "loading compiled UMAP code" if cached else "compiling UMAP"
            basis += f"; includes {what} once per process ({format_seconds(first)})"
        if method == "tsne":
            basis += "; more per document on larger corpora"
        return Estimate(seconds, basis)

    def reading(self, result: Projection) -> str:
        q, name = result.quality, result.params.method_name
        if not q:
            return (
                f"A {name} map of {result.n_points:,} documents in the {result.model} space; "
                "too few documents to measure how faithful it is."
            )
        fitted = result.params.fit_note(result.n_points)
        same = (
            " (the same points for every map of this corpus, so maps compare)"
            if q["sample_size"] < q["n_points"]
            else ""
        )
        return (
            f"Trustworthiness@{q['k']} {q['trustworthiness']:.3f}, continuity "
            f"{q['continuity']:.3f}, kNN recall@{q['k']} {q['knn_recall']:.3f}: how faithful the "
            f"{name} map is to the {result.model} space, neighbours kept (trustworthiness, "
            f"continuity; Venna & Kaski 2006) and shared (kNN recall), measured on "
            f"{q['sample_size']:,} of {q['n_points']:,} points, seed {q['seed']}{same}."
            + (f" {fitted}" if fitted else "")
        )

    def provenance(self) -> str:
        """The canonical parameters, and for a sampled UMAP how it was fitted, in words."""
        fitted = self.effective.fit_note(self.corpus.n_rows)
        return super().provenance() + (f" · {fitted}" if fitted else "")

    def notices(self, result: Projection) -> list[str]:
        if result.n_points <= MAX_DRAWN_POINTS:
            return []
        return [
            f"Drawn: a sample of {MAX_DRAWN_POINTS:,} of {result.n_points:,} points (and any "
            "search results); search and selection still cover every document."
        ]

    def stored_note(self, result: Projection) -> str:
        return f"Map computed in {result.seconds:.1f} s"

    def figures(self, result: Projection, view: Mapping[str, Any] | None = None) -> list[ChartSpec]:
        """The map; ``view`` may hold 'colour' (a ``color_choices`` entry, default the first
        without clusters), 'highlight' (doc ids ringed on the map, e.g. search results) and
        'categories' (how many classes get a colour of their own, default DEFAULT_CATEGORIES)."""
        view = view or {}
        corpus = self.corpus
        colour = view.get("colour") or color_choices(corpus, has_clusters=False)[0]
        clustering = None
        if colour == cluster_choice(corpus):
            stored = latest_clustering(self.store, corpus, self.record)
            clustering = stored.clustering if stored is not None else None
        documents = self.documents
        if documents is None:
            documents = load_documents(self.store, corpus)
        drawn = projection_view(
            result,
            documents,
            corpus,
            colour,
            clustering,
            view.get("highlight"),
            view.get("categories", DEFAULT_CATEGORIES),
        )
        axes = ["x", "y", "z"][: result.params.dims]
        data = pd.concat(
            [documents[["doc_id", "text"]], pd.DataFrame(result.coords, columns=axes)], axis=1
        )
        what = self.meaning(result)
        return [
            ChartSpec("map", drawn.figure, f"map-{result.params.method}", result.model, data, what)
        ]

    def meaning(self, result: Projection) -> str:
        """What the map shows, said under it wherever it is drawn."""
        return (
            f"where each document lies when the {result.model} space is flattened to "
            f"{result.params.dims}-D by {result.params.method_name}; near points are similar "
            "texts as far as the faithfulness scores say."
        )
