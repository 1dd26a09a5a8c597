"""`embed --engine ray`: a Ray Data pipeline of encoder actors on a local Ray instance writes the
same vectors into the cache as the in-process path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.corpus.corpora import IngestOptions, get_corpus
from analysis.corpus.readers import read_bytes
from analysis.vectors.catalogue import corpus_models, load_vectors
from analysis.vectors.embedding import embed_corpus
from analysis.vectors.ingest import ingest
from tests.shared import DEMO_DOCS

pytestmark = pytest.mark.slow

TEXTS = pd.read_csv(DEMO_DOCS)["text"].iloc[::9].head(200).tolist()


@pytest.fixture
def local_ray():
    """A local Ray instance for the test (started by the engine), shut down after it."""
    import ray

    yield
    ray.shutdown()


def docs(store: Store, texts: list[str]) -> None:
    csv = pd.DataFrame({"text": texts}).to_csv(index=False).encode("utf-8")
    ingest(store, [read_bytes(csv, "docs.csv", Limits())], IngestOptions(name="docs"))


def vectors(store: Store) -> np.ndarray:
    corpus = get_corpus(store, "docs")
    (model,) = corpus_models(store, corpus)
    return load_vectors(store, corpus, model.model_key, model.dim)


def test_ray_engine_gives_the_local_paths_vectors(tmp_path, local_ray, default_encoder) -> None:
    on_ray = Store(tmp_path / "ray.duckdb")
    docs(on_ray, TEXTS)
    reports: list[tuple[int, int]] = []
    result = embed_corpus(on_ray, "docs", "default", lambda d, t: reports.append((d, t)), 64, "ray")
    assert result.encoded == len(TEXTS) and result.cached == 0
    assert reports[0] == (0, len(TEXTS)) and reports[-1] == (len(TEXTS), len(TEXTS))

    local = Store(tmp_path / "local.duckdb")
    docs(local, TEXTS)
    embed_corpus(local, "docs")
    np.testing.assert_allclose(vectors(on_ray), vectors(local), atol=1e-5)

    again = embed_corpus(on_ray, "docs", engine="ray")  # everything cached: Ray is not needed
    assert again.encoded == 0 and again.cached == len(TEXTS)


def test_lsa_stays_local_and_unknown_engines_are_refused(store: Store, local_ray) -> None:
    docs(store, TEXTS[:20])
    with pytest.raises(UserError, match="without --engine ray"):
        embed_corpus(store, "docs", "lsa", engine="ray")
    with pytest.raises(UserError, match="Unknown engine 'spark'"):
        embed_corpus(store, "docs", engine="spark")
