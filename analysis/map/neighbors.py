"""The k-nearest-neighbour graph of a corpus's embeddings, computed once and reused.

UMAP spends much of its time finding neighbours; the graph depends only on the vectors and k, not
on min_dist, the seed of the layout or the number of output dimensions. Storing it lets every later
map of the same representation skip that step (as Embedding Atlas does with its kNN cache).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from analysis.core.arrow_vectors import query_arrow
from analysis.core.store import Store, first_row

EXACT_LIMIT = 10_000  # up to here an exact blockwise search is about as fast as NN-descent
_BLOCK = 2048


@dataclass(frozen=True)
class KnnGraph:
    """Neighbour indices (row positions, self first) and cosine distances, [n, k] each."""

    indices: np.ndarray
    distances: np.ndarray
    method: str
    seconds: float
    reused: bool = False

    @property
    def k(self) -> int:
        return int(self.indices.shape[1])

    def pruned(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The first k neighbours: umap-learn does not prune a larger graph below 4,096 points."""
        return self.indices[:, :k].copy(), self.distances[:, :k].copy()


def exact_knn(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine kNN of unit vectors, in blocks to bound memory; each point is its own first."""
    n = vectors.shape[0]
    k = min(k, n)
    indices = np.empty((n, k), dtype=np.int32)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, _BLOCK):
        sims = vectors[start : start + _BLOCK] @ vectors.T
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = np.inf  # the point itself always comes first
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        top_sims = np.take_along_axis(sims, top, axis=1)
        order = np.argsort(-top_sims, axis=1, kind="stable")
        indices[start : start + _BLOCK] = np.take_along_axis(top, order, axis=1)
        sorted_sims = np.take_along_axis(top_sims, order, axis=1)
        sorted_sims[:, 0] = 1.0
        distances[start : start + _BLOCK] = np.clip(1.0 - sorted_sims, 0.0, 2.0)
    return indices, distances


def approximate_knn(vectors: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """NN-descent, exactly as umap-learn runs it for large inputs."""
    from umap.umap_ import nearest_neighbors

    indices, distances, _ = nearest_neighbors(
        vectors,
        n_neighbors=k,
        metric="cosine",
        metric_kwds={},
        angular=False,
        random_state=np.random.RandomState(seed),
        low_memory=True,
        use_pynndescent=True,
        n_jobs=-1,
    )
    return indices.astype(np.int32), distances.astype(np.float32)


def compute_knn(vectors: np.ndarray, k: int, seed: int = 0) -> KnnGraph:
    start = time.perf_counter()
    if vectors.shape[0] <= EXACT_LIMIT:
        indices, distances = exact_knn(vectors, k)
        method = "exact"
    else:
        indices, distances = approximate_knn(vectors, k, seed)
        method = "nndescent"
    return KnnGraph(indices, distances, method, time.perf_counter() - start)


def _load_graph(store: Store, graph_id: int, method: str, seconds: float) -> KnnGraph:
    with store.connection() as cur:
        table = query_arrow(
            cur,
            "SELECT neighbors, distances FROM knn_edges WHERE graph_id = ? ORDER BY doc_id",
            [graph_id],
        )
    k = len(table.column("neighbors")[0]) if table.num_rows else 0
    flat = table.column("neighbors").combine_chunks().flatten().to_numpy()
    dist = table.column("distances").combine_chunks().flatten().to_numpy()
    return KnnGraph(
        flat.astype(np.int32).reshape(-1, k),
        dist.astype(np.float32).reshape(-1, k),
        method,
        seconds,
        reused=True,
    )


def _rows_as_lists(matrix: np.ndarray) -> pa.ListArray:
    """One Arrow list per row, built from the flat buffer: at a million rows, converting row by
    row (a Python list of arrays) takes seconds and a copy per row."""
    n, k = matrix.shape
    offsets = pa.array(np.arange(0, n * k + 1, k, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(np.ascontiguousarray(matrix).ravel()))


def corpus_knn(
    store: Store, corpus_id: int, model_key: str, vectors: np.ndarray, k: int, seed: int = 0
) -> KnnGraph:
    """The stored graph with at least k neighbours for this representation, or a new one.

    Row positions equal doc ids, because corpora number their documents 0..n-1.
    """
    k = min(k, vectors.shape[0])
    row = first_row(
        store.fetch_all(
            "SELECT graph_id, method, seconds FROM knn_graphs WHERE corpus_id = ? "
            "AND model_key = ? AND k >= ? ORDER BY k, graph_id LIMIT 1",
            [corpus_id, model_key, k],
        )
    )
    if row is not None:
        return _load_graph(store, int(row[0]), row[1], float(row[2]))
    graph = compute_knn(vectors, k, seed)
    edges = pa.table(
        {
            "doc_id": pa.array(np.arange(vectors.shape[0], dtype=np.int32)),
            "neighbors": _rows_as_lists(graph.indices),
            "distances": _rows_as_lists(graph.distances),
        }
    )
    with store.transaction() as cur:
        graph_id = cur.execute(
            "INSERT INTO knn_graphs (corpus_id, model_key, k, method, seed, seconds) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING graph_id",
            [corpus_id, model_key, graph.k, graph.method, seed, graph.seconds],
        ).fetchall()[0][0]
        cur.register("incoming_edges", edges)
        cur.execute(
            "INSERT INTO knn_edges SELECT ?, doc_id, neighbors, distances FROM incoming_edges",
            [graph_id],
        )
        cur.unregister("incoming_edges")
    return graph
