"""A small labelled corpus for the probe and compare tests, and stores prepared once per session.

90 real docstrings from the bundled demo (30 each of three topics): enough for 5 folds with 5
examples of every class in every fold, small enough to encode at every layer in seconds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from analysis.core.config import Limits
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, IngestOptions, get_corpus
from analysis.corpus.readers import read_bytes
from analysis.vectors.embedding import embed_corpus
from analysis.vectors.ingest import ingest
from analysis.vectors.layers import layer_vectors
from tests.shared import DEMO_SMALL

TOPICS = ("concurrency", "data formats", "math & numbers")
PER_TOPIC = 30
NAME = "docs"
_TEMPLATES: dict[str, Path] = {}


def probe_frame() -> pd.DataFrame:
    """text, topic, kind (kind has classes of 1-15 rows: too small for 5 folds)."""
    frame = pd.read_csv(DEMO_SMALL)
    parts = [frame[frame["topic"] == topic].head(PER_TOPIC) for topic in TOPICS]
    return pd.concat(parts, ignore_index=True)[["text", "topic", "kind"]]


def ingest_frame(
    store: Store, frame: pd.DataFrame, name: str = NAME, labels: tuple[str, ...] = ("topic", "kind")
) -> Corpus:
    table = read_bytes(frame.to_csv(index=False).encode("utf-8"), f"{name}.csv", Limits())
    corpus, _ = ingest(
        store, [table], IngestOptions(name=name, text_column="text", label_columns=list(labels))
    )
    return corpus


def template(tmp_path_factory, embed: bool = True) -> Path:
    """A closed store holding corpus 'docs': embedded with the bundled model and LSA, with every
    layer of the bundled model cached (mean and last-token pooling) when ``embed``.

    Built once per session.
    """
    kind = "embedded" if embed else "plain"
    if kind not in _TEMPLATES:
        path = tmp_path_factory.mktemp(f"probe_{kind}") / "template.duckdb"
        store = Store(path)
        try:
            ingest_frame(store, probe_frame())
            if embed:
                embed_corpus(store, NAME)
                embed_corpus(store, NAME, "lsa")
                for pooling in ("mean", "last"):  # the default probe and paper mode
                    layer_vectors(store, get_corpus(store, NAME), pooling=pooling)
        finally:
            store.close()
        _TEMPLATES[kind] = path
    return _TEMPLATES[kind]


def copy_of(template_path: Path, target: Path) -> Path:
    shutil.copyfile(template_path, target)
    return target


PAIRS = [
    ("A cat sits on the mat.", "A cat is sitting on a mat.", 4.8),
    ("A man plays the guitar.", "Someone is playing a guitar.", 4.2),
    ("The stock market fell.", "Shares dropped sharply today.", 3.9),
    ("A dog runs in the park.", "The weather is cold today.", 0.2),
    ("She is cooking pasta.", "A woman prepares spaghetti.", 4.0),
    ("Kids play football.", "Children are playing soccer.", 4.5),
    ("The train is late.", "Bananas are yellow.", 0.1),
    ("He reads a book.", "A man is reading.", 3.6),
    ("The sun is shining.", "It is a sunny day.", 4.1),
    ("A bird sings.", "The car needs fuel.", 0.3),
    ("Rain falls on the roof.", "It is raining.", 3.8),
    ("The baby sleeps.", "Stocks rallied at noon.", 0.0),
]


def ingest_pairs(store: Store, name: str = "pairs") -> Corpus:
    """A tiny STS-style corpus: text (first sentence), text_b, score (0-5)."""
    frame = pd.DataFrame(PAIRS, columns=["text", "text_b", "score"])
    return ingest_frame(store, frame, name=name, labels=())
