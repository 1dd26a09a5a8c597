"""Building an inverted-file (IVF) index over a corpus's stored vectors, recall measured on the way.

IVF, not HNSW, because of what it costs to build on this machine: k-means on a seeded sample
picks ``lists`` centroids, every vector is filed under its nearest one, and a query scans only
the vectors of its ``probes`` nearest lists, exactly (faiss ``IndexIVFFlat``, inner product on
unit vectors = cosine). Measured on bench/million_search.py's mixture on 2 shared cores: at
1,000,000 x 384 an HNSW graph (usearch, M=16) took 2,485 s to build and reached recall@10 0.86;
the richer M=32 graph that reached 1.0 at 200k would take over an hour at 1M. This IVF index
at 1M (2,000 lists) built in 112 s, peak RSS 5.9 GB (the vectors read in one query, their matrix
and the index's copy), and answered top-10 in 1.4 ms median scanning 8 lists, recall@10 0.9995
against exact on 200 held-out queries (bench/million_search.py, load ~3).

Recall is measured on neighbours of documents: each sampled document's vector is a query, and
the document itself is left out of both the exact and the index answer (it is trivially found),
so the number is the share of its true 10 nearest other documents that the index returns. The
number of lists scanned per query (``probes``) is the smallest of ``PROBES`` reaching
``TARGET_RECALL`` on those queries.

The vectors are read from the store in one query (the store is not held while the index is
built) and filed in batches, so the build holds them once plus the index's own copy.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np

from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn, report_stage
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus
from analysis.vectors.ann_index import IndexInfo, IndexKey, save_index
from analysis.vectors.catalogue import CorpusModel, load_vectors

LISTS_PER_ROOT = 2  # lists = 2 sqrt(n): about sqrt(n) / 2 vectors per list (500 at 1M)
TRAINING_PER_LIST = 40  # k-means sample: faiss asks for at least 39 points per centroid
PROBES = (1, 2, 4, 8, 16, 32, 64, 128, 256)  # lists scanned per query, tried in turn
TARGET_RECALL = 0.95
RECALL_K = 10
RECALL_QUERIES = 1000
SEED = 0
BATCH_ROWS = 65_536
STAGE = "filing vectors"


@dataclass(frozen=True)
class IvfParams:
    """How finely the vectors are partitioned: None = ``LISTS_PER_ROOT`` sqrt(n) lists."""

    lists: int | None = None

    def __post_init__(self) -> None:
        if self.lists is not None and not 1 <= self.lists <= 1_000_000:
            raise UserError(f"lists must be 1-1,000,000, got {self.lists}.")

    def lists_for(self, n: int) -> int:
        """The lists for n vectors: never more than k-means can train on the corpus itself."""
        wanted = self.lists or round(LISTS_PER_ROOT * math.sqrt(n))
        return max(1, min(wanted, n // TRAINING_PER_LIST))


DEFAULT_IVF = IvfParams()


class ExactNeighbours:
    """The running top-(k+1) of each query over vectors seen batch by batch (exact cosine)."""

    def __init__(self, queries: np.ndarray, k: int) -> None:
        self.queries_t = np.ascontiguousarray(queries.T)
        self.k = k
        self.scores = np.full((k, queries.shape[0]), -np.inf, np.float32)
        self.ids = np.full((k, queries.shape[0]), -1, np.int64)

    def update(self, doc_ids: np.ndarray, vectors: np.ndarray) -> None:
        batch = vectors @ self.queries_t  # [rows, queries]
        keep = min(self.k, len(doc_ids))
        best = np.argpartition(-batch, keep - 1, axis=0)[:keep]
        scores = np.concatenate([self.scores, np.take_along_axis(batch, best, axis=0)])
        ids = np.concatenate([self.ids, doc_ids[best]])
        top = np.argpartition(-scores, self.k - 1, axis=0)[: self.k]
        self.scores = np.take_along_axis(scores, top, axis=0)
        self.ids = np.take_along_axis(ids, top, axis=0)

    def without(self, query_ids: np.ndarray, k: int) -> list[set[int]]:
        """Each query's k best other documents (itself left out)."""
        order = np.argsort(-self.scores, axis=0, kind="stable")
        ranked = np.take_along_axis(self.ids, order, axis=0).T
        pairs = zip(ranked, query_ids, strict=True)
        return [set([int(i) for i in row if i != own][:k]) for row, own in pairs]


def build_index(
    store: Store,
    corpus: Corpus,
    record: CorpusModel,
    progress: ProgressFn | None = None,
    batch_rows: int = BATCH_ROWS,
    ivf: IvfParams = DEFAULT_IVF,
) -> IndexInfo:
    """Build, measure and save the index of this corpus and model; returns what was saved."""
    import faiss

    n = corpus.n_rows
    k = min(RECALL_K, n - 1)
    if k < 1:
        raise UserError(f"Corpus '{corpus.name}' has {n} document; a search index needs two.")
    report = progress or (lambda done, total: None)
    start = time.perf_counter()
    report_stage(report, 0, n, "reading vectors")
    vectors = load_vectors(store, corpus, record.model_key, record.dim)
    rng = np.random.default_rng(SEED)
    lists = ivf.lists_for(n)
    report_stage(report, 0, n, f"k-means into {lists:,} lists")
    training = vectors[np.sort(rng.choice(n, min(n, TRAINING_PER_LIST * lists), replace=False))]
    quantizer = faiss.IndexFlatIP(record.dim)
    index = faiss.IndexIVFFlat(quantizer, record.dim, lists, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = SEED
    index.cp.min_points_per_centroid = 1  # a tiny corpus has one list: no warning about it
    index.train(training)
    del training
    query_ids = np.sort(rng.choice(n, min(RECALL_QUERIES, n), replace=False))
    exact = ExactNeighbours(vectors[query_ids], k + 1)
    for offset in range(0, n, batch_rows):
        batch = vectors[offset : offset + batch_rows]
        doc_ids = np.arange(offset, offset + len(batch), dtype=np.int64)
        index.add_with_ids(batch, doc_ids)
        exact.update(doc_ids, batch)
        report_stage(report, min(offset + len(batch), n - 1), n, STAGE)
    del vectors
    expected = exact.without(query_ids, k)
    probes, recalls = _tune_probes(index, exact.queries_t.T, query_ids, expected, k)
    info = IndexInfo(
        key=IndexKey.of(corpus, record),
        engine=f"faiss {version('faiss-cpu')} IndexIVFFlat",
        lists=lists,
        probes=probes,
        recall=round(float(recalls.mean()), 4),
        recall_stderr=round(_stderr(recalls), 4),
        recall_k=k,
        recall_queries=len(query_ids),
        recall_seed=SEED,
        build_seconds=round(time.perf_counter() - start, 1),
        file_bytes=0,  # set by save_index
    )
    saved = save_index(store, index, info)
    report_stage(report, n, n, STAGE)
    return saved


def _tune_probes(
    index: object, queries: np.ndarray, query_ids: np.ndarray, expected: list[set[int]], k: int
) -> tuple[int, np.ndarray]:
    """The fewest lists per query reaching the target recall (the most tried if none does)."""
    lists = index.nlist  # type: ignore[attr-defined]
    for probes in [p for p in PROBES if p < lists] + [lists]:
        index.nprobe = probes  # type: ignore[attr-defined]
        _, found = index.search(np.ascontiguousarray(queries), k + 1)  # type: ignore[attr-defined]
        recalls = np.array(
            [
                len(set([int(i) for i in row if i != own and i >= 0][:k]) & truth) / k
                for row, own, truth in zip(found, query_ids, expected, strict=True)
            ]
        )
        if recalls.mean() >= TARGET_RECALL:
            break
    return probes, recalls


def _stderr(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0
