"""Approximate-nearest-neighbour (IVF) search indexes kept in files beside the store.

An index is only as good as its match to the vectors it was built from, so each one is named by
a fingerprint of everything that defines them: the corpus (its id and when it was created), the
model key, when the corpus was embedded with it, the dimension and the number of documents.
Deleting and re-ingesting a corpus gives it a new id and creation time, so an old file is never
opened for new vectors (re-embedding with the same model gives the same vectors: the cache is
keyed by text and model). An index of the same corpus and model with another fingerprint is
reported as stale and exact search is used. A file that
cannot be read, or whose size, dimension or count differs from its JSON, is reported as unreadable
and ignored the same way. The DuckDB schema is untouched: the files live in ``<db>.indexes/``.

Files are memory-mapped (faiss ``IO_FLAG_MMAP``), so opening one is not a 1.5 GB read (the
time at 1M is in bench/million_search.py), and an opened index is kept per process, so a page
rerun does not open it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from analysis.core.store import Store
from analysis.corpus.corpora import Corpus
from analysis.vectors.catalogue import CorpusModel

INDEX_SUFFIX = ".faiss"
INFO_SUFFIX = ".json"
FORMAT_VERSION = 2  # 1 was a usearch HNSW graph


@dataclass(frozen=True)
class IndexKey:
    """Everything that defines the vectors an index was built from."""

    corpus_id: int
    corpus_created_at: str
    model_key: str
    embedded_at: str
    dim: int
    n: int

    @classmethod
    def of(cls, corpus: Corpus, record: CorpusModel) -> IndexKey:
        return cls(
            corpus_id=corpus.corpus_id,
            corpus_created_at=corpus.created_at,
            model_key=record.model_key,
            embedded_at=record.created_at,
            dim=record.dim,
            n=corpus.n_rows,
        )

    @property
    def family(self) -> str:
        """The part of the file name shared by every index of this corpus and model."""
        model = hashlib.sha256(self.model_key.encode()).hexdigest()[:10]
        return f"c{self.corpus_id}-{model}-"

    @property
    def file_stem(self) -> str:
        fingerprint = json.dumps(asdict(self), sort_keys=True)
        return self.family + hashlib.sha256(fingerprint.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class IndexInfo:
    """How an index was built and how well it does, stored as the JSON beside it."""

    key: IndexKey
    engine: str  # "faiss <version> IndexIVFFlat"
    lists: int  # k-means partitions the vectors are filed under
    probes: int  # lists scanned per query, chosen by the build to reach the target recall
    recall: float  # mean recall@k of the index against exact search
    recall_stderr: float  # standard error of that mean over the queries
    recall_k: int
    recall_queries: int
    recall_seed: int
    build_seconds: float
    file_bytes: int
    format_version: int = FORMAT_VERSION

    def as_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> IndexInfo:
        fields = json.loads(text)
        return cls(**{**fields, "key": IndexKey(**fields["key"])})


@dataclass(frozen=True)
class IndexLookup:
    """What was found beside the store for one corpus and model."""

    index: object | None  # a faiss IndexIVFFlat (memory-mapped), or None
    info: IndexInfo | None
    problem: str | None  # why an index that exists is not used, for the user


def index_folder(store: Store) -> Path:
    return store.path.with_name(store.path.name + ".indexes")


def index_paths(store: Store, key: IndexKey) -> tuple[Path, Path]:
    stem = index_folder(store) / key.file_stem
    return stem.with_suffix(INDEX_SUFFIX), stem.with_suffix(INFO_SUFFIX)


_OPENED: dict[tuple[str, int, int], object] = {}
_OPENED_LOCK = threading.Lock()


def find_index(store: Store, key: IndexKey) -> IndexLookup:
    """The usable index for these vectors, or why there is none (None problem: never built)."""
    index_path, info_path = index_paths(store, key)
    if not index_path.exists() or not info_path.exists():
        stale = _family_files(store, key)
        if stale:
            return IndexLookup(
                None,
                None,
                "The search index on disk was built from other vectors of this corpus and "
                "model (the store or the corpus changed since); rebuild it.",
            )
        return IndexLookup(None, None, None)
    try:
        info = IndexInfo.from_json(info_path.read_text(encoding="utf-8"))
        if info.key != key:
            raise ValueError("its record names other vectors")
        index = _open_view(index_path, info)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        problem = f"The search index on disk cannot be used ({exc}); rebuild it."
        return IndexLookup(None, None, problem)
    return IndexLookup(index, info, None)


def _open_view(index_path: Path, info: IndexInfo) -> object:
    """The memory-mapped index, checked against its JSON; cached per file version."""
    import faiss

    stat = index_path.stat()
    if stat.st_size != info.file_bytes:
        raise ValueError(f"file is {stat.st_size:,} bytes, its record says {info.file_bytes:,}")
    cache_key = (str(index_path), stat.st_mtime_ns, stat.st_size)
    with _OPENED_LOCK:
        index = _OPENED.get(cache_key)
        if index is None:
            index = faiss.read_index(str(index_path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
            if index.d != info.key.dim or index.ntotal != info.key.n:
                raise ValueError(
                    f"it holds {index.ntotal:,} vectors of {index.d} dimensions, "
                    f"expected {info.key.n:,} of {info.key.dim}"
                )
            # doc_id -> vector lookups (a clicked point's neighbours) without the store
            index.set_direct_map_type(faiss.DirectMap.Hashtable)
            for stale in [k for k in _OPENED if k[0] == cache_key[0]]:
                del _OPENED[stale]
            _OPENED[cache_key] = index
    index.nprobe = info.probes
    return index


def search_index(index: object, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """doc_ids and cosine scores of the ``count`` nearest stored vectors, best first."""
    q = np.asarray(query, dtype=np.float32).reshape(1, -1)
    q = q / max(float(np.linalg.norm(q)), 1e-12)
    scores, ids = index.search(q, count)  # type: ignore[attr-defined]
    found = ids[0] >= 0  # fewer than count vectors in the lists scanned: faiss pads with -1
    return ids[0][found].astype(np.int64), scores[0][found].astype(np.float32)


def stored_vector(index: object, doc_id: int) -> np.ndarray:
    """The vector the index holds for a document (the same float32 values as in the store)."""
    try:
        return np.asarray(index.reconstruct(int(doc_id)), dtype=np.float32)  # type: ignore[attr-defined]
    except RuntimeError as exc:
        raise ValueError(f"the search index holds no document {doc_id}") from exc


def save_index(store: Store, index: object, info: IndexInfo) -> IndexInfo:
    """Write the index, then its JSON (the JSON last: an index without one is never opened).

    Both go through temporary names and atomic renames, so a crash or a cancel leaves no file
    that looks complete.
    """
    index_path, info_path = index_paths(store, info.key)
    index_path.parent.mkdir(parents=True, exist_ok=True)
    mine = f".{os.getpid()}.partial"  # two processes building at once never share a file
    partial = index_path.with_suffix(INDEX_SUFFIX + mine)
    info_partial = info_path.with_suffix(INFO_SUFFIX + mine)
    try:
        import faiss

        faiss.write_index(index, str(partial))
        info = replace(info, file_bytes=partial.stat().st_size)
        info_partial.write_text(info.as_json(), encoding="utf-8")
        os.replace(partial, index_path)
        os.replace(info_partial, info_path)
    finally:
        partial.unlink(missing_ok=True)
        info_partial.unlink(missing_ok=True)
    return info


def prune_indexes(store: Store, live: set[IndexKey]) -> list[str]:
    """Delete every index file beside the store that no live corpus and model can use."""
    folder = index_folder(store)
    if not folder.is_dir():
        return []
    keep = {key.file_stem for key in live}
    removed = []
    for path in folder.iterdir():
        if path.name.split(".", 1)[0] not in keep:
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def _family_files(store: Store, key: IndexKey) -> list[Path]:
    folder = index_folder(store)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{key.family}*{INFO_SUFFIX}"))
