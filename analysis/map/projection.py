"""2-D and 3-D maps of a corpus (UMAP, PCA, t-SNE), stored with every parameter and reused.

A map is identified by (corpus, model, method, dims, canonical parameters including the seed):
asking for the same map again returns the stored coordinates, identical, without recomputation.
UMAP takes its neighbour graph from :mod:`analysis.map.neighbors`, so changing min_dist, the seed or
the number of dimensions does not search for neighbours again.
"""

from __future__ import annotations

import json
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from analysis.core.arrow_vectors import query_arrow
from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.results import params_key
from analysis.core.store import Store, first_row
from analysis.corpus.corpora import Corpus
from analysis.map.neighbors import corpus_knn
from analysis.map.quality import map_quality
from analysis.vectors.catalogue import CorpusModel, load_vectors

METHODS = ("umap", "pca", "tsne")
QUALITY_K = 10
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
        if self.method == "umap" and self.n_neighbors >= n_points:
            changes["n_neighbors"] = n_points - 1
        if self.method == "tsne" and self.perplexity >= (n_points - 1) / 3:
            changes["perplexity"] = max(1.0, (n_points - 1) / 3 - 1)
        return ProjectionParams(**{**self.as_dict(), **changes}) if changes else self

    def as_dict(self) -> dict[str, Any]:
        """Only the parameters the method uses, so equal maps get equal keys."""
        common = {"method": self.method, "dims": self.dims, "seed": self.seed}
        if self.method == "umap":
            return {
                **common,
                "n_neighbors": self.n_neighbors,
                "min_dist": self.min_dist,
                "densmap": self.densmap,
            }
        if self.method == "tsne":
            return {**common, "perplexity": self.perplexity}
        return common

    @property
    def method_name(self) -> str:
        """How the method is written in titles and axes: 'UMAP', 'PCA', 't-SNE'."""
        return "t-SNE" if self.method == "tsne" else self.method.upper()

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in self.as_dict().items() if k not in ("method", "dims")]
        return f"{self.method.upper()} {self.dims}-D, " + ", ".join(parts)


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
        return (
            f"Corpus {self.corpus}, model {self.model}; {self.params.describe()}; "
            f"n = {self.n_points:,}.{faithfulness}"
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


_UMAP_LOCK = threading.Lock()  # numba-parallel UMAP runs one at a time per process


def _run_umap(vectors: np.ndarray, params: ProjectionParams, knn: tuple) -> np.ndarray:
    import umap

    with _UMAP_LOCK, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*precomputed_knn.*")
        warnings.filterwarnings("ignore", message=".*n_jobs value.*")
        reducer = umap.UMAP(
            n_neighbors=params.n_neighbors,
            min_dist=params.min_dist,
            n_components=params.dims,
            metric="cosine",
            densmap=params.densmap,
            random_state=params.seed,
            precomputed_knn=knn,
        )
        return reducer.fit_transform(vectors)


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


def find_projection(
    store: Store, corpus: Corpus, record: CorpusModel, params: ProjectionParams
) -> Projection | None:
    row = first_row(
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
    stages = 3
    report = progress or (lambda done, total: None)
    report(0, stages)
    start = time.perf_counter()
    if vectors is None:
        vectors = load_vectors(store, corpus, record.model_key, record.dim)
    knn_reused = None
    if params.method == "umap":
        graph = corpus_knn(store, corpus.corpus_id, record.model_key, vectors, params.n_neighbors)
        knn_reused = graph.reused
        report(1, stages)
        coords = _run_umap(vectors, params, graph.pruned(params.n_neighbors))
    elif params.method == "pca":
        coords = _run_pca(vectors, params)
    else:
        coords = _run_tsne(vectors, params)
    seconds = time.perf_counter() - start
    report(2, stages)
    k = min(QUALITY_K, (corpus.n_rows - 1) // 2)
    quality_dict = map_quality(vectors, coords, k=k, seed=params.seed).as_dict() if k >= 1 else {}
    projection_id = _save(store, corpus, record, params, coords, seconds, quality_dict)
    report(3, stages)
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
    _run_umap(sample, params, exact_knn(sample, 10))
    approximate_knn(sample, 10, seed=0)
