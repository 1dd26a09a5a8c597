"""Embedding corpora through the content-addressed cache, and reading the vectors back.

The cache key is (model, layer, pooling, max length, temperature, sha256 of the text): the same text
embedded twice with the same settings never runs the model twice, across corpora and restarts.
A corpus counts as embedded with a model only once every one of its vectors is in the cache; that
record and the new vectors are written in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.core.arrow_vectors import arrow_to_matrix, matrix_to_arrow, query_arrow
from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.store import Store, cache_table, first_row
from analysis.corpus.corpora import Corpus, PreparedCorpus, get_corpus, load_documents
from analysis.models.encoders import (
    DEFAULT_MODEL_NAME,
    Encoder,
    ModelInfo,
    expected_key,
    load_encoder,
)

OUTPUT_LAYER = -1  # the model's own sentence embedding, as opposed to a hidden layer
OUTPUT_POOLING = "model"
DEFAULT_KEY_PREFIX = f"st:{DEFAULT_MODEL_NAME}@"


@dataclass(frozen=True)
class Representation:
    """Which vectors of a model: its output, or one pooled hidden layer."""

    layer: int = OUTPUT_LAYER
    pooling: str = OUTPUT_POOLING
    max_length: int = 0  # 0 = the model's own maximum
    temperature: float = 1.0

    def params(self) -> list[object]:
        return [self.layer, self.pooling, self.max_length, self.temperature]


@dataclass(frozen=True)
class EmbedResult:
    corpus: str
    model: str
    model_key: str
    rows: int
    dim: int
    seconds: float
    cached: int  # texts whose vectors came from the cache
    encoded: int  # texts the model actually ran on


def upsert_model(cur: duckdb.DuckDBPyConnection, info: ModelInfo) -> None:
    cur.execute(
        """
        INSERT OR REPLACE INTO models
            (model_key, name, kind, source, revision, dim, n_layers, pooling, max_length)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            info.model_key,
            info.name,
            info.kind,
            info.source,
            info.revision,
            info.dim,
            info.n_layers,
            info.pooling,
            info.max_length,
        ],
    )


def cached_hashes(
    store: Store, model_key: str, dim: int, rep: Representation, hashes: Sequence[str]
) -> set[str]:
    """Which of these text hashes already have a vector for this model and representation."""
    cur = store.cursor()
    table = store.ensure_cache_table(cur, dim)
    cur.register("wanted_hashes", pa.table({"h": pa.array(list(set(hashes)), pa.string())}))
    try:
        rows = cur.execute(
            f"""
            SELECT DISTINCT c.text_sha256 FROM {table} c JOIN wanted_hashes w ON c.text_sha256 = w.h
            WHERE c.model_key = ? AND c.layer = ? AND c.pooling = ? AND c.max_length = ?
              AND c.temperature = ?
            """,
            [model_key, *rep.params()],
        ).fetchall()
    finally:
        cur.unregister("wanted_hashes")
    return {row[0] for row in rows}


def cached_vectors(
    store: Store, model_key: str, dim: int, rep: Representation, hashes: list[str]
) -> np.ndarray:
    """Cached vectors of these hashes, in the given order (hashes may repeat)."""
    cur = store.cursor()
    unique = list(dict.fromkeys(hashes))
    cur.register("wanted_cached_hashes", pa.table({"h": pa.array(unique, pa.string())}))
    try:
        table = query_arrow(
            cur,
            f"""
            SELECT c.text_sha256, c.vector FROM {cache_table(dim)} c
            JOIN wanted_cached_hashes w ON c.text_sha256 = w.h
            WHERE c.model_key = ? AND c.layer = ? AND c.pooling = ? AND c.max_length = ?
              AND c.temperature = ?
            """,
            [model_key, *rep.params()],
        )
    finally:
        cur.unregister("wanted_cached_hashes")
    position = {h: i for i, h in enumerate(table.column("text_sha256").to_pylist())}
    matrix = arrow_to_matrix(table.column("vector"), dim)
    return matrix[[position[h] for h in hashes]]


def write_cache(
    cur: duckdb.DuckDBPyConnection,
    store: Store,
    model_key: str,
    rep: Representation,
    hashes: Sequence[str],
    vectors: np.ndarray,
) -> None:
    """Insert vectors for hashes not cached yet (inside the caller's transaction)."""
    if len(hashes) == 0:
        return
    table = store.ensure_cache_table(cur, int(vectors.shape[1]))
    batch = pa.table({"text_sha256": pa.array(list(hashes)), "vector": matrix_to_arrow(vectors)})
    cur.register("incoming_vectors", batch)
    try:
        cur.execute(
            f"""
            INSERT INTO {table}
            SELECT ?, ?, ?, ?, ?, i.text_sha256, i.vector FROM incoming_vectors i
            WHERE NOT EXISTS (
                SELECT 1 FROM {table} c
                WHERE c.text_sha256 = i.text_sha256 AND c.model_key = ? AND c.layer = ?
                  AND c.pooling = ? AND c.max_length = ? AND c.temperature = ?)
            """,
            [model_key, *rep.params(), model_key, *rep.params()],
        )
    finally:
        cur.unregister("incoming_vectors")


def record_corpus_embedding(
    cur: duckdb.DuckDBPyConnection,
    corpus_id: int,
    model_key: str,
    rep: Representation,
    dim: int,
    seconds: float,
) -> None:
    cur.execute(
        "INSERT OR REPLACE INTO corpus_embeddings "
        "(corpus_id, model_key, layer, pooling, max_length, temperature, dim, seconds) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [corpus_id, model_key, *rep.params(), dim, seconds],
    )


def _unique_texts(documents: pd.DataFrame) -> tuple[list[str], list[str]]:
    unique = documents.drop_duplicates("text_sha256")
    return unique["text"].tolist(), unique["text_sha256"].tolist()


def _stored_model(store: Store, key: str | None) -> ModelInfo | None:
    if key is None:
        return None
    row = first_row(
        store.cursor()
        .execute(
            "SELECT model_key, name, kind, source, revision, dim, n_layers, pooling, max_length "
            "FROM models WHERE model_key = ?",
            [key],
        )
        .fetchall()
    )
    return ModelInfo(*row) if row else None


def embed_corpus(
    store: Store,
    corpus_name: str,
    model_spec: str = "default",
    progress: ProgressFn | None = None,
) -> EmbedResult:
    """Embed every document of a corpus with a model's own output, using the cache.

    When every text is cached already the model is not even loaded.
    """
    start = time.perf_counter()
    corpus = get_corpus(store, corpus_name)
    documents = load_documents(store, corpus, with_metadata=False)
    texts, hashes = _unique_texts(documents)
    corpus_texts = texts if model_spec == "lsa" else None
    rep = Representation()
    info = _stored_model(store, expected_key(model_spec, corpus_texts))
    have = cached_hashes(store, info.model_key, info.dim, rep, hashes) if info else set()
    missing = [i for i, h in enumerate(hashes) if h not in have]
    if info is None or missing:
        encoder = load_encoder(model_spec, corpus_texts=corpus_texts)
        info = encoder.info
        have = cached_hashes(store, info.model_key, info.dim, rep, hashes)
        missing = [i for i, h in enumerate(hashes) if h not in have]
        vectors = encoder.encode([texts[i] for i in missing], progress) if missing else None
    else:
        vectors = None
    if vectors is None:
        vectors = np.empty((0, info.dim), np.float32)
        if progress is not None:
            progress(len(texts), len(texts))
    seconds = time.perf_counter() - start
    with store.transaction() as cur:
        upsert_model(cur, info)
        write_cache(cur, store, info.model_key, rep, [hashes[i] for i in missing], vectors)
        record_corpus_embedding(cur, corpus.corpus_id, info.model_key, rep, info.dim, seconds)
    return EmbedResult(
        corpus=corpus.name,
        model=info.name,
        model_key=info.model_key,
        rows=corpus.n_rows,
        dim=info.dim,
        seconds=round(time.perf_counter() - start, 3),
        cached=len(texts) - len(missing),
        encoded=len(missing),
    )


def register_imported_vectors(
    cur: duckdb.DuckDBPyConnection, store: Store, corpus_id: int, prepared: PreparedCorpus
) -> None:
    """Record vectors that came with the files as an 'external' model of this corpus.

    The key includes the corpus, since imported vectors say nothing about other corpora's texts.
    Where one text appears twice with different vectors, the first one is kept.
    """
    assert prepared.vectors is not None and prepared.vector_model is not None
    dim = int(prepared.vectors.shape[1])
    info = ModelInfo(
        model_key=f"external:{prepared.vector_model}@corpus{corpus_id}",
        name=prepared.vector_model,
        kind="external",
        source=", ".join(prepared.sources),
        revision=f"imported into corpus {corpus_id}",
        dim=dim,
        n_layers=None,
        pooling="external",
        max_length=None,
    )
    hashes = prepared.documents["text_sha256"]
    first = ~hashes.duplicated().to_numpy()
    upsert_model(cur, info)
    write_cache(
        cur,
        store,
        info.model_key,
        Representation(),
        hashes[first].tolist(),
        prepared.vectors[first],
    )
    record_corpus_embedding(cur, corpus_id, info.model_key, Representation(), dim, 0.0)


@dataclass(frozen=True)
class CorpusModel(ModelInfo):
    """A model a corpus has been embedded with, as listed to the user."""

    seconds: float = 0.0
    created_at: str = ""


def corpus_models(store: Store, corpus: Corpus) -> list[CorpusModel]:
    rows = (
        store.cursor()
        .execute(
            """
            SELECT m.model_key, m.name, m.kind, m.source, m.revision, m.dim, m.n_layers,
                   m.pooling, m.max_length, e.seconds, CAST(e.created_at AS VARCHAR)
            FROM corpus_embeddings e JOIN models m USING (model_key)
            WHERE e.corpus_id = ? AND e.layer = ? ORDER BY e.created_at
            """,
            [corpus.corpus_id, OUTPUT_LAYER],
        )
        .fetchall()
    )
    return [CorpusModel(*row) for row in rows]


def resolve_corpus_model(store: Store, corpus: Corpus, model: str | None) -> CorpusModel:
    """A model of this corpus by key, name or spec ('default', 'lsa', ...); None = the first."""
    models = corpus_models(store, corpus)
    if not models:
        raise UserError(
            f"Corpus '{corpus.name}' has no embeddings yet; embed it first "
            f"(python -m analysis embed '{corpus.name}')."
        )
    if model is None:
        return models[0]
    aliases = {"default": DEFAULT_KEY_PREFIX, "lsa": "lsa:", "random": "random:"}
    prefix = aliases.get(model)
    for candidate in models:
        if model in (candidate.model_key, candidate.name) or (
            prefix and candidate.model_key.startswith(prefix)
        ):
            return candidate
    names = ", ".join(m.name for m in models)
    raise UserError(
        f"Corpus '{corpus.name}' is not embedded with '{model}'; it has: {names}. "
        "Embed it with that model first."
    )


def load_vectors(
    store: Store, corpus: Corpus, model_key: str, dim: int, rep: Representation | None = None
) -> np.ndarray:
    """The corpus's vectors in doc_id order, float32 [n_rows, dim].

    A plain join: write_cache never stores a hash twice for one key, and an aggregate over the
    1.5 KB vectors would cost seconds at 100k documents. Ordering is done in numpy, not SQL.
    """
    rep = rep or Representation()
    result = query_arrow(
        store.cursor(),
        f"""
        SELECT d.doc_id, c.vector FROM documents d
        JOIN {cache_table(dim)} c ON c.text_sha256 = d.text_sha256
        WHERE d.corpus_id = ? AND c.model_key = ? AND c.layer = ? AND c.pooling = ?
          AND c.max_length = ? AND c.temperature = ?
        """,
        [corpus.corpus_id, model_key, *rep.params()],
    )
    if result.num_rows != corpus.n_rows:
        raise UserError(
            f"Corpus '{corpus.name}' has {corpus.n_rows} documents but {result.num_rows} "
            f"cached vectors for this model; embed it again."
        )
    order = np.argsort(result.column("doc_id").to_numpy(), kind="stable")
    return arrow_to_matrix(result.column("vector"), dim)[order]


def load_model_vectors(
    store: Store, corpus_name: str, model: str | None = None
) -> tuple[Corpus, CorpusModel, np.ndarray]:
    """Corpus, model record and vectors in one call, for the CLI and the analyses."""
    corpus = get_corpus(store, corpus_name)
    record = resolve_corpus_model(store, corpus, model)
    return corpus, record, load_vectors(store, corpus, record.model_key, record.dim)


def encoder_for(store: Store, corpus: Corpus, record: CorpusModel) -> Encoder:
    """The encoder behind a stored model record, e.g. to embed a search query the same way."""
    if record.kind == "external":
        raise UserError(
            f"'{record.name}' holds vectors imported with the corpus; it cannot embed new text."
        )
    if record.kind == "lsa":
        texts, _ = _unique_texts(load_documents(store, corpus, with_metadata=False))
        return load_encoder("lsa", corpus_texts=texts)
    if record.kind == "random":
        return load_encoder("random")
    spec = "default" if record.model_key.startswith(DEFAULT_KEY_PREFIX) else record.source
    return load_encoder(spec)
