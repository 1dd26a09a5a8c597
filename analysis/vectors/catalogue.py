"""Which models a corpus is embedded with, and its vectors read back in document order.

A model is named by key, name or spec ('default', 'lsa', ...); every analysis resolves it here, so
the same words mean the same model on every page and on the command line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from analysis.core.arrow_vectors import arrow_to_matrix, query_arrow
from analysis.core.errors import UserError
from analysis.core.store import Store, cache_table
from analysis.corpus.corpora import Corpus, get_corpus
from analysis.models.encoders import (
    DEFAULT_MODEL_NAME,
    Encoder,
    ModelInfo,
    load_encoder,
)
from analysis.vectors.cache import (
    OUTPUT_LAYER,
    Representation,
)
from analysis.vectors.corpus_texts import unique_corpus_texts

DEFAULT_KEY_PREFIX = f"st:{DEFAULT_MODEL_NAME}@"


@dataclass(frozen=True)
class CorpusModel(ModelInfo):
    """A model a corpus has been embedded with, as listed to the user."""

    seconds: float = 0.0
    created_at: str = ""


def corpus_models(store: Store, corpus: Corpus) -> list[CorpusModel]:
    rows = store.fetch_all(
        """
            SELECT m.model_key, m.name, m.kind, m.source, m.revision, m.dim, m.n_layers,
                   m.pooling, m.max_length, e.seconds, CAST(e.created_at AS VARCHAR)
            FROM corpus_embeddings e JOIN models m USING (model_key)
            WHERE e.corpus_id = ? AND e.layer = ? ORDER BY e.created_at
            """,
        [corpus.corpus_id, OUTPUT_LAYER],
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
    with store.connection() as cur:
        result = query_arrow(cur, _vectors_sql(dim), [corpus.corpus_id, model_key, *rep.params()])
    if result.num_rows != corpus.n_rows:
        raise UserError(
            f"Corpus '{corpus.name}' has {corpus.n_rows} documents but {result.num_rows} "
            f"cached vectors for this model; embed it again."
        )
    order = np.argsort(result.column("doc_id").to_numpy(), kind="stable")
    return arrow_to_matrix(result.column("vector"), dim)[order]


def _vectors_sql(dim: int, extra_condition: str = "") -> str:
    """(doc_id, vector) of a corpus under one model: the one join every vector read goes through.

    Parameters: corpus_id, model_key and the representation's params, then the extra condition's.
    """
    return f"""
        SELECT d.doc_id, c.vector FROM documents d
        JOIN {cache_table(dim)} c ON c.text_sha256 = d.text_sha256
        WHERE d.corpus_id = ? AND c.model_key = ? AND c.layer = ? AND c.pooling = ?
          AND c.max_length = ? AND c.temperature = ? {extra_condition}
        """


def iter_vector_batches(
    store: Store, corpus: Corpus, record: CorpusModel, batch_rows: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(doc_ids, vectors) in batches of about ``batch_rows``, in no particular order.

    For work that streams over every vector (building a search index) without holding the whole
    float32 matrix a second time.
    """
    params = [corpus.corpus_id, record.model_key, *Representation().params()]
    with store.connection() as cur:
        reader = cur.sql(_vectors_sql(record.dim), params=params).to_arrow_reader(batch_rows)
        for batch in reader:
            doc_ids = batch.column("doc_id").to_numpy(zero_copy_only=False).astype(np.int64)
            yield doc_ids, arrow_to_matrix(batch.column("vector"), record.dim)


def load_doc_vectors(
    store: Store, corpus: Corpus, record: CorpusModel, doc_ids: list[int]
) -> np.ndarray:
    """The vectors of the given documents only, float32 [len(doc_ids), dim] in that order."""
    if not doc_ids:
        return np.empty((0, record.dim), np.float32)
    marks = ", ".join("?" for _ in doc_ids)
    params = [corpus.corpus_id, record.model_key, *Representation().params(), *doc_ids]
    with store.connection() as cur:
        result = query_arrow(cur, _vectors_sql(record.dim, f"AND d.doc_id IN ({marks})"), params)
    found = result.column("doc_id").to_numpy(zero_copy_only=False)
    row_of = {int(doc_id): row for row, doc_id in enumerate(found)}
    missing = [doc_id for doc_id in doc_ids if doc_id not in row_of]
    if missing:
        raise UserError(
            f"Corpus '{corpus.name}' has no vector for document {missing[0]} under this model."
        )
    matrix = arrow_to_matrix(result.column("vector"), record.dim)
    return matrix[[row_of[doc_id] for doc_id in doc_ids]]


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
        return load_encoder("lsa", corpus_texts=unique_corpus_texts(store, corpus))
    if record.kind == "random":
        return load_encoder("random")
    spec = "default" if record.model_key.startswith(DEFAULT_KEY_PREFIX) else record.source
    return load_encoder(spec)
