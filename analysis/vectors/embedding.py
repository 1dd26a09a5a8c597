"""Embedding corpora through the content-addressed cache, and reading the vectors back.

The cache key is (model, layer, pooling, max length, temperature, sha256 of the text): the same text
embedded twice with the same settings never runs the model twice, across corpora and restarts.
New vectors are committed to the cache chunk by chunk, so a kill, crash or cancel loses at most
one chunk and the next run resumes from the cache; a corpus counts as embedded with a model only
once every one of its vectors is in (its corpus_embeddings row is written last).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from analysis.core.config import EMBED_CHUNK_TEXTS, EMBED_ENGINES
from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, get_corpus
from analysis.models.encoders import Encoder, expected_key, load_encoder
from analysis.models.throughput import observe
from analysis.vectors.cache import (
    Representation,
    cached_hashes,
    record_corpus_embedding,
    stored_model,
    upsert_model,
    write_cache,
)
from analysis.vectors.corpus_texts import corpus_text_hashes, texts_of


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

    @property
    def duplicates(self) -> int:
        """Rows repeating another row's text: embedded once, so encoded + cached + duplicates
        adds up to the corpus's rows."""
        return self.rows - self.cached - self.encoded


def embed_job_key(corpus_name: str, model_spec: str) -> str:
    """One background embedding per corpus and model spec (a model's key is known only once it
    is loaded, and loading is the job's own work)."""
    return f"embed:{corpus_name}:{model_spec}"


def embed_corpus(
    store: Store,
    corpus_name: str,
    model_spec: str = "default",
    progress: ProgressFn | None = None,
    chunk_texts: int = EMBED_CHUNK_TEXTS,
    engine: str = "local",
    address: str | None = None,
) -> EmbedResult:
    """Embed every document of a corpus with a model's own output, through the cache.

    Only texts missing from the cache are encoded, ``chunk_texts`` at a time, each chunk
    committed on its own. When every text is cached already the model is not even loaded.
    ``engine`` 'ray' encodes on a Ray cluster at ``address`` (a local one without it); the
    vectors and the cache are the same.
    """
    if chunk_texts < 1:
        raise UserError(f"A chunk must hold at least 1 text, not {chunk_texts}.")
    if engine not in EMBED_ENGINES:
        raise UserError(f"Unknown engine '{engine}'; use one of: {', '.join(EMBED_ENGINES)}.")
    start = time.perf_counter()
    corpus = get_corpus(store, corpus_name)
    hashes = corpus_text_hashes(store, corpus)
    # LSA is fitted on the whole corpus, so only it needs every text at once.
    corpus_texts = texts_of(store, corpus, hashes) if model_spec == "lsa" else None
    rep = Representation()
    info = stored_model(store, expected_key(model_spec, corpus_texts))
    have = cached_hashes(store, info.model_key, info.dim, rep, hashes) if info else set()
    missing = [h for h in hashes if h not in have]
    if info is None or missing:
        encoder = load_encoder(model_spec, corpus_texts=corpus_texts)
        info = encoder.info
        have = cached_hashes(store, info.model_key, info.dim, rep, hashes)
        missing = [h for h in hashes if h not in have]
        del have
        if missing:
            if engine == "ray":
                from analysis.vectors.ray_engine import ray_chunks

                run_texts = texts_of(store, corpus, missing)  # Ray's actors take one dataset
                chunks = ray_chunks(model_spec, run_texts, missing, chunk_texts, progress, address)
            else:
                chunks = _local_chunks(
                    store, corpus, encoder, model_spec, missing, chunk_texts, progress
                )
            for chunk_hashes, vectors in chunks:
                with store.transaction() as cur:
                    upsert_model(cur, info)
                    write_cache(cur, store, info.model_key, rep, chunk_hashes, vectors)
    if not missing and progress is not None:
        progress(len(hashes), len(hashes))
    seconds = time.perf_counter() - start
    with store.transaction() as cur:
        upsert_model(cur, info)
        record_corpus_embedding(cur, corpus.corpus_id, info.model_key, rep, info.dim, seconds)
    return EmbedResult(
        corpus=corpus.name,
        model=info.name,
        model_key=info.model_key,
        rows=corpus.n_rows,
        dim=info.dim,
        seconds=round(time.perf_counter() - start, 3),
        cached=len(hashes) - len(missing),
        encoded=len(missing),
    )


def _local_chunks(
    store: Store,
    corpus: Corpus,
    encoder: Encoder,
    model_spec: str,
    hashes: list[str],
    chunk_texts: int,
    progress: ProgressFn | None,
) -> Iterator[tuple[list[str], np.ndarray]]:
    """(text hashes, vectors) ``chunk_texts`` at a time; progress counts across all chunks.

    Each chunk's texts are read from the store when it is its turn, so memory holds one chunk
    of texts, not the corpus (a million documents of a few hundred characters would be ~1 GB of
    Python strings). Each chunk also teaches the throughput model how fast the model runs now.
    """
    total = len(hashes)
    for offset in range(0, total, chunk_texts):
        part = hashes[offset : offset + chunk_texts]
        texts = texts_of(store, corpus, part)

        def report(done: int, _part_total: int, offset: int = offset) -> None:
            if progress is not None:
                progress(offset + done, total)

        began = time.perf_counter()
        vectors = encoder.encode(texts, report)
        observe(model_spec, "output", texts, time.perf_counter() - began)
        yield part, vectors
