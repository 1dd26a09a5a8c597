"""2-D and 3-D maps of a corpus (UMAP, PCA, t-SNE), stored with every parameter and reused.

A map is identified by (corpus, model, method, dims, canonical parameters including the seed):
asking for the same map again returns the stored coordinates, identical, without recomputation.
UMAP takes its neighbour graph from :mod:`analysis.map.neighbors`, so changing min_dist, the seed or
the number of dimensions does not search for neighbours again. Above FULL_UMAP_LIMIT points UMAP
is by default fitted on a seeded sample and the rest placed with the fitted model
(``umap_run``); a sampled and a full map are stored apart, and both are scored on the same
evaluation sample (EVALUATION_SEED) so their faithfulness compares.
"""

from __future__ import annotations

import json
import numbers
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from analysis.core.arrow_vectors import query_arrow
from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn, report_stage
from analysis.core.results import params_key
from analysis.core.store import Store, first_row
from analysis.corpus.corpora import Corpus
from analysis.map.neighbors import corpus_knn
from analysis.map.quality import map_quality
from analysis.map.umap_run import sampled_umap_layout, umap_layout
from analysis.vectors.catalogue import CorpusModel, load_vectors

METHODS = ("umap", "pca", "tsne")
QUALITY_K = 10
#: Every map's faithfulness is measured on the sample drawn with this seed, whatever the map's
#: own seed, so the scores of two maps of one corpus (full and sampled UMAP, PCA) are comparable.
EVALUATION_SEED = 0
AUTO = "auto"  # fit_sample chosen by the size rule below
#: The size rule (``auto_fit_sample``): full UMAP up to FULL_UMAP_LIMIT points; above, fitted on
#: AUTO_FIT_SAMPLE seeded points. Measured with bench/million_umap.py on the shared 2-core machine
#: (clustered 384-d vectors; trustworthiness@10 / kNN recall@10 on one seeded 5,000-point sample):
#: at 200,000 points full UMAP took 239 s (0.977 / 0.497), a 50,000 fit + transform 159 s
#: (0.869 / 0.245), so full is worth its time; at 1,000,000 the fit + transform took 538 s
#: (0.838 / 0.195), full UMAP 20 to 70 min depending on the load (its stages timed in the bench).
FULL_UMAP_LIMIT = 200_000
AUTO_FIT_SAMPLE = 50_000
FIT_SAMPLE_CHOICES = (10_000, 25_000, 50_000, 100_000, 200_000)  # what the Map page offers
#: The stages of a UMAP that report no progress of their own (a job shows their estimate instead).
KNN_STAGE = "kNN graph"
GRAPH_STAGE = "fuzzy graph and spectral start"
MIN_FIT_SAMPLE = 50  # fewer points cannot hold a neighbourhood structure worth transforming into
_FIELD_TYPES = {
    "dims": int,
    "seed": int,
    "n_neighbors": int,
    "min_dist": float,
    "densmap": bool,
    "perplexity": float,
}


@dataclass(frozen=True)
class ProjectionParams:
    """Every knob that changes a map; validated like scikit-learn estimators validate theirs."""

    method: str = "umap"
    dims: int = 2
    seed: int = 0
    n_neighbors: int = 15
    min_dist: float = 0.1
    densmap: bool = False
    perplexity: float = 30.0
    #: UMAP only: fit on this many seeded points and place the rest with ``transform``; None fits
    #: on every point; AUTO applies the size rule (``auto_fit_sample``) once the size is known.
    fit_sample: int | str | None = AUTO

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise UserError(f"Unknown projection '{self.method}'; choose {', '.join(METHODS)}.")
        if self.dims not in (2, 3):
            raise UserError(f"A map has 2 or 3 dimensions, not {self.dims}.")
        if not 2 <= self.n_neighbors <= 200:
            raise UserError(f"n_neighbors must be between 2 and 200, got {self.n_neighbors}.")
        if not 0.0 <= self.min_dist <= 1.0:
            raise UserError(f"min_dist must be between 0 and 1, got {self.min_dist}.")
        if not 1.0 <= self.perplexity <= 100.0:
            raise UserError(f"perplexity must be between 1 and 100, got {self.perplexity}.")
        # Plain Python types, so 0 and 0.0 (or numpy scalars) give the same key, and JSON works.
        for name, kind in _FIELD_TYPES.items():
            value = getattr(self, name)
            if kind is int and value != int(value):
                raise UserError(f"{name} must be a whole number, got {value}.")
            object.__setattr__(self, name, kind(value))
        self._check_fit_sample()

    def _check_fit_sample(self) -> None:
        value = self.fit_sample
        if value is None or value == AUTO:
            return
        whole = isinstance(value, numbers.Real) and float(value).is_integer()
        if isinstance(value, bool) or not whole:
            raise UserError(
                f"fit_sample must be a whole number of points, '{AUTO}' or None, got {value!r}."
            )
        if value < MIN_FIT_SAMPLE:
            raise UserError(f"fit_sample must be at least {MIN_FIT_SAMPLE} points, got {value}.")
        if self.method != "umap":
            raise UserError("Fitting on a sample applies to UMAP only; PCA and t-SNE use all.")
        if self.densmap:
            raise UserError(
                "densMAP cannot place points with transform: fit on all points or turn it off."
            )
        object.__setattr__(self, "fit_sample", int(value))

    def effective(self, n_points: int) -> ProjectionParams:
        """The parameters actually usable on n points (recorded, so the map says what ran)."""
        if n_points < 3:
            raise UserError(
                f"A map needs at least 3 documents; this corpus has {n_points}. Add texts first."
            )
        if self.method == "umap" and n_points < 5:
            raise UserError(
                f"UMAP needs at least 5 documents; this corpus has {n_points}. Use PCA instead."
            )
        changes: dict[str, Any] = {}
        if self.method == "umap":
            fit_sample = self.fit_sample
            if fit_sample == AUTO:  # densMAP cannot transform, so it always fits on every point
                fit_sample = None if self.densmap else auto_fit_sample(n_points)
            if isinstance(fit_sample, int) and fit_sample >= n_points:
                fit_sample = None  # a sample of everything is a full fit, and stored as one
            if fit_sample != self.fit_sample:
                changes["fit_sample"] = fit_sample
            fitted_on = fit_sample if isinstance(fit_sample, int) else n_points
            if self.n_neighbors >= fitted_on:
                changes["n_neighbors"] = fitted_on - 1
        if self.method == "tsne" and self.perplexity >= (n_points - 1) / 3:
            changes["perplexity"] = max(1.0, (n_points - 1) / 3 - 1)
        kept = {**self.as_dict(), "fit_sample": self.fit_sample}
        return ProjectionParams(**{**kept, **changes}) if changes else self

    def as_dict(self) -> dict[str, Any]:
        """Only the parameters the method uses, so equal maps get equal keys."""
        common = {"method": self.method, "dims": self.dims, "seed": self.seed}
        if self.method == "umap":
            umap = {
                **common,
                "n_neighbors": self.n_neighbors,
                "min_dist": self.min_dist,
                "densmap": self.densmap,
            }
            # Only when set, so a full map keeps the key it was stored under before the option.
            return {**umap, "fit_sample": self.fit_sample} if self.sampled else umap
        if self.method == "tsne":
            return {**common, "perplexity": self.perplexity}
        return common

    @property
    def method_name(self) -> str:
        """How the method is written in titles and axes: 'UMAP', 'PCA', 't-SNE'."""
        return "t-SNE" if self.method == "tsne" else self.method.upper()

    @property
    def sampled(self) -> bool:
        """Whether UMAP is fitted on a sample (once ``effective`` resolved the size rule)."""
        return isinstance(self.fit_sample, int)

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in self.as_dict().items() if k not in ("method", "dims")]
        return f"{self.method.upper()} {self.dims}-D, " + ", ".join(parts)

    def fit_note(self, n_points: int) -> str:
        """How the map was fitted, in words: '' for a fit on every point."""
        if not self.sampled:
            return ""
        return (
            f"UMAP fitted on a seeded sample of {self.fit_sample:,} of {n_points:,} points "
            f"(seed {self.seed}), the rest placed with transform."
        )


def auto_fit_sample(n_points: int) -> int | None:
    """The size rule: full UMAP up to FULL_UMAP_LIMIT points, a fitted sample above it."""
    return AUTO_FIT_SAMPLE if n_points > FULL_UMAP_LIMIT else None


AUTO_RULE = (
    f"Automatic: UMAP on every point up to {FULL_UMAP_LIMIT:,} documents; above that, fitted on "
    f"a seeded sample of {AUTO_FIT_SAMPLE:,} and the rest placed with transform."
)


@dataclass(eq=False)
class Projection:
    """One stored map: its coordinates, the parameters that ran and how faithful it is."""

    projection_id: int
    corpus: str
    model: str
    model_key: str
    params: ProjectionParams
    coords: np.ndarray  # float32 [n, dims], row i = doc_id i
    n_points: int
    seconds: float
    quality: dict[str, Any] = field(default_factory=dict)
    reused: bool = False
    knn_reused: bool | None = None

    def caption(self) -> str:
        q = self.quality
        faithfulness = (
            f" Trustworthiness@{q['k']} {q['trustworthiness']:.3f}, continuity "
            f"{q['continuity']:.3f}, kNN recall@{q['k']} {q['knn_recall']:.3f} "
            f"(sample of {q['sample_size']:,}, seed {q['seed']})."
            if q
            else ""
        )
        fitted = self.params.fit_note(self.n_points)
        return (
            f"Corpus {self.corpus}, model {self.model}; {self.params.describe()}; "
            f"n = {self.n_points:,}.{' ' + fitted if fitted else ''}{faithfulness}"
        )

    def __eq__(self, other: object) -> bool:
        """The same stored map: same row, parameters and coordinates (however it was reached)."""
        if not isinstance(other, Projection):
            return NotImplemented
        return (
            self.projection_id == other.projection_id
            and self.params == other.params
            and np.array_equal(self.coords, other.coords)
        )


def fit_stage(fit_sample: int | str | None) -> str:
    """The first stage of a sampled UMAP: its own neighbours and fuzzy graph."""
    return f"neighbours and fuzzy graph of the {fit_sample:,}-point sample"


def _run_umap(
    vectors: np.ndarray, params: ProjectionParams, knn: tuple | None, progress: ProgressFn
) -> np.ndarray:
    """UMAP of every point from the corpus's neighbour graph ``knn``, or (``knn`` None) fitted on
    the seeded sample, which finds its own neighbours, with the rest placed by transform."""
    if knn is None:
        return sampled_umap_layout(vectors, params, progress, fit_stage(params.fit_sample))
    return umap_layout(vectors, params, knn, progress)


def _run_pca(vectors: np.ndarray, params: ProjectionParams) -> np.ndarray:
    from sklearn.decomposition import PCA

    return PCA(n_components=params.dims, random_state=params.seed).fit_transform(vectors)


def _run_tsne(vectors: np.ndarray, params: ProjectionParams) -> np.ndarray:
    from sklearn.manifold import TSNE

    return TSNE(
        n_components=params.dims,
        metric="cosine",
        init="pca",
        perplexity=params.perplexity,
        random_state=params.seed,
    ).fit_transform(vectors)


def _stored_row(
    store: Store, corpus: Corpus, record: CorpusModel, params: ProjectionParams
) -> tuple | None:
    return first_row(
        store.fetch_all(
            "SELECT projection_id, n_points, seconds, quality FROM projections WHERE corpus_id = ? "
            "AND model_key = ? AND method = ? AND dims = ? AND params = ? "
            "ORDER BY projection_id DESC LIMIT 1",
            [
                corpus.corpus_id,
                record.model_key,
                params.method,
                params.dims,
                params_key(params.as_dict()),
            ],
        )
    )


def stored_quality(
    store: Store, corpus: Corpus, record: CorpusModel, params: ProjectionParams
) -> tuple[float, dict[str, Any]] | None:
    """Seconds and faithfulness of the stored map for these parameters, without its coordinates
    (a page compares options with it on every rerun); None when it is not stored."""
    row = _stored_row(store, corpus, record, params)
    return None if row is None else (float(row[2]), json.loads(row[3]) if row[3] else {})


def find_projection(
    store: Store, corpus: Corpus, record: CorpusModel, params: ProjectionParams
) -> Projection | None:
    row = _stored_row(store, corpus, record, params)
    if row is None:
        return None
    projection_id = int(row[0])
    with store.connection() as cur:
        table = query_arrow(
            cur,
            "SELECT x, y, z FROM projection_coords WHERE projection_id = ? ORDER BY doc_id",
            [projection_id],
        )
    columns = ["x", "y", "z"][: params.dims]
    coords = np.column_stack([table.column(c).to_numpy() for c in columns]).astype(np.float32)
    return Projection(
        projection_id=projection_id,
        corpus=corpus.name,
        model=record.name,
        model_key=record.model_key,
        params=params,
        coords=coords,
        n_points=int(row[1]),
        seconds=float(row[2]),
        quality=json.loads(row[3]) if row[3] else {},
        reused=True,
    )


def _save(
    store: Store,
    corpus: Corpus,
    record: CorpusModel,
    params: ProjectionParams,
    coords: np.ndarray,
    seconds: float,
    quality: dict[str, Any],
) -> int:
    n = coords.shape[0]
    z = coords[:, 2] if params.dims == 3 else np.full(n, np.nan, np.float32)
    batch = pa.table(
        {
            "doc_id": pa.array(np.arange(n, dtype=np.int32)),
            "x": pa.array(coords[:, 0].astype(np.float32)),
            "y": pa.array(coords[:, 1].astype(np.float32)),
            "z": pa.array(z.astype(np.float32), from_pandas=True),
        }
    )
    with store.transaction() as cur:
        projection_id = cur.execute(
            "INSERT INTO projections (corpus_id, model_key, method, dims, params, n_points, "
            "seconds, quality) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING projection_id",
            [
                corpus.corpus_id,
                record.model_key,
                params.method,
                params.dims,
                params_key(params.as_dict()),
                n,
                seconds,
                json.dumps(quality),
            ],
        ).fetchall()[0][0]
        cur.register("incoming_coords", batch)
        cur.execute(
            "INSERT INTO projection_coords SELECT ?, doc_id, x, y, "
            "CASE WHEN isnan(z) THEN NULL ELSE z END FROM incoming_coords",
            [projection_id],
        )
        cur.unregister("incoming_coords")
    return int(projection_id)


def usable_params(
    params: ProjectionParams, corpus: Corpus, record: CorpusModel
) -> ProjectionParams:
    """The parameters that run on this corpus and model (clamped to its size), or why none can."""
    params = params.effective(corpus.n_rows)
    if params.method != "umap" and params.dims > record.dim:
        # PCA (and t-SNE's PCA start) cannot have more components than the vectors have.
        raise UserError(
            f"A {params.dims}-D {params.method.upper()} map needs vectors of at least "
            f"{params.dims} dimensions; '{record.name}' has {record.dim}. Use UMAP or a 2-D map."
        )
    return params


def project(
    store: Store,
    corpus: Corpus,
    record: CorpusModel,
    params: ProjectionParams,
    progress: ProgressFn | None = None,
    vectors: np.ndarray | None = None,
) -> Projection:
    """The map for these parameters: stored if it exists, else computed, measured and stored."""
    params = usable_params(params, corpus, record)
    found = find_projection(store, corpus, record, params)
    if found is not None:
        return found
    report = progress or (lambda done, total: None)
    start = time.perf_counter()
    if vectors is None:
        report_stage(report, 0, 1, "loading vectors")
        vectors = load_vectors(store, corpus, record.model_key, record.dim)
    knn_reused = None
    if params.method == "umap" and params.sampled:
        coords = _run_umap(vectors, params, None, report)
    elif params.method == "umap":
        report_stage(report, 0, 1, KNN_STAGE)
        graph = corpus_knn(store, corpus.corpus_id, record.model_key, vectors, params.n_neighbors)
        knn_reused = graph.reused
        report_stage(report, 0, 1, GRAPH_STAGE)
        coords = _run_umap(vectors, params, graph.pruned(params.n_neighbors), report)
    else:
        report_stage(report, 0, 1, params.method_name)
        coords = _run_pca(vectors, params) if params.method == "pca" else _run_tsne(vectors, params)
    seconds = time.perf_counter() - start
    report_stage(report, 0, 1, "faithfulness and saving")
    k = min(QUALITY_K, (corpus.n_rows - 1) // 2)
    quality_dict = (
        map_quality(vectors, coords, k=k, seed=EVALUATION_SEED).as_dict() if k >= 1 else {}
    )
    projection_id = _save(store, corpus, record, params, coords, seconds, quality_dict)
    report_stage(report, 1, 1, "faithfulness and saving")
    return Projection(
        projection_id=projection_id,
        corpus=corpus.name,
        model=record.name,
        model_key=record.model_key,
        params=params,
        coords=coords.astype(np.float32),
        n_points=corpus.n_rows,
        seconds=seconds,
        quality=quality_dict,
        knn_reused=knn_reused,
    )


def warm_up() -> None:
    """Compile umap-learn's numba code paths (exact and NN-descent neighbours, seeded layout).

    Run once in a background thread when the server starts, so the first real map does not pay a
    minute of JIT compilation.
    """
    from analysis.map.neighbors import approximate_knn, exact_knn

    rng = np.random.default_rng(0)
    sample = rng.standard_normal((300, 16)).astype(np.float32)
    sample /= np.linalg.norm(sample, axis=1, keepdims=True)
    params = ProjectionParams(n_neighbors=10)
    umap_layout(sample, params, exact_knn(sample, 10), lambda done, total: None)
    approximate_knn(sample, 10, seed=0)
