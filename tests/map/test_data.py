"""What the map can be coloured by, in which order, and the values behind each choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.core.config import Limits
from analysis.corpus.corpora import IngestOptions, load_documents
from analysis.corpus.readers import read_path
from analysis.map.clustering import Clustering
from analysis.map.colours import (
    COLOR_CLUSTER,
    COLOR_NONE,
    COLOR_TOKENS,
    color_choices,
    color_values,
    hover_columns,
)
from analysis.vectors.ingest import ingest


@pytest.fixture
def tiny(store, tiny_csv: Path):
    corpus, _ = ingest(store, [read_path(tiny_csv, Limits())], IngestOptions(name="tiny"))
    return corpus, load_documents(store, corpus)


@pytest.fixture
def wide(store, tmp_path: Path):
    """Two label columns chosen out of column order, plus several other metadata columns."""
    path = tmp_path / "wide.csv"
    rows = ["text,year,lang,source_id,topic,rating"]
    for i in range(8):
        rows.append(
            f"text number {i} about things,{2000 + i},{'en' if i % 2 else 'de'},s{i},t{i % 3},{i}"
        )
    path.write_text("\n".join(rows) + "\n")
    options = IngestOptions(name="wide", label_columns=["topic", "lang"])
    corpus, _ = ingest(store, [read_path(path, Limits())], options)
    return corpus, load_documents(store, corpus)


def test_choices_put_labels_first_then_metadata_length_cluster_and_none(tiny, wide) -> None:
    corpus, _ = tiny
    assert corpus.label_columns == ["topic"]
    assert color_choices(corpus, has_clusters=False) == ["topic", "score", COLOR_TOKENS, COLOR_NONE]
    assert color_choices(corpus, has_clusters=True) == [
        "topic",
        "score",
        COLOR_TOKENS,
        COLOR_CLUSTER,
        COLOR_NONE,
    ]
    corpus, _ = wide
    assert color_choices(corpus, has_clusters=True) == [
        "topic",
        "lang",
        "year",
        "source_id",
        "rating",
        COLOR_TOKENS,
        COLOR_CLUSTER,
        COLOR_NONE,
    ]


def test_a_corpus_without_metadata_offers_length_and_none(store, tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("text\nfirst text here\nsecond text here\nthird one\n")
    corpus, _ = ingest(store, [read_path(path, Limits())], IngestOptions(name="plain"))
    assert color_choices(corpus, has_clusters=False) == [COLOR_TOKENS, COLOR_NONE]
    assert color_choices(corpus, has_clusters=True) == [COLOR_TOKENS, COLOR_CLUSTER, COLOR_NONE]
    assert hover_columns(corpus) == []


def test_every_choice_has_values_in_doc_id_order(tiny) -> None:
    corpus, docs = tiny
    assert color_values(docs, COLOR_NONE, None) is None
    topic = color_values(docs, "topic", None)
    assert topic.tolist() == ["animals"] * 6 + ["finance"] * 6
    score = color_values(docs, "score", None)
    assert score.tolist() == list(range(1, 13))
    tokens = color_values(docs, COLOR_TOKENS, None)
    assert tokens.dtype == float
    assert tokens.tolist() == docs["n_tokens"].astype(float).tolist()
    assert (tokens > 3).all()  # word pieces of whole sentences, not 0 placeholders
    assert len(topic) == len(score) == len(tokens) == corpus.n_rows


def test_cluster_values_name_each_cluster_by_its_keywords_and_noise(tiny) -> None:
    _, docs = tiny
    labels = np.array([0] * 5 + [-1] + [1] * 6)
    clustering = Clustering(
        method="hdbscan",
        params={},
        labels=labels,
        sizes={-1: 1, 0: 5, 1: 6},
        keywords={0: ["cat", "dog", "parrot", "owl"], 1: ["bank"]},
        silhouette=0.5,
        silhouette_sample=11,
    )
    values = color_values(docs, COLOR_CLUSTER, clustering)
    assert values.index.equals(docs.index)
    assert values.tolist() == ["0: cat, dog, parrot"] * 5 + ["noise"] + ["1: bank"] * 6
    assert color_values(docs, COLOR_CLUSTER, None) is None


def test_cluster_values_follow_a_non_default_index() -> None:
    docs = pd.DataFrame({"n_tokens": [3, 4, 5]}, index=[10, 11, 12])
    clustering = Clustering(
        "kmeans", {}, np.array([1, 0, 1]), {0: 1, 1: 2}, {0: ["a"], 1: ["b"]}, None, 0
    )
    values = color_values(docs, COLOR_CLUSTER, clustering)
    assert values.to_dict() == {10: "1: b", 11: "0: a", 12: "1: b"}


def test_hover_columns_put_labels_first_and_stop_at_the_limit(tiny, wide) -> None:
    corpus, _ = tiny
    assert hover_columns(corpus) == ["topic", "score"]
    corpus, _ = wide
    assert hover_columns(corpus) == ["topic", "lang", "year"]
    assert hover_columns(corpus, limit=5) == ["topic", "lang", "year", "source_id", "rating"]
    assert hover_columns(corpus, limit=1) == ["topic"]


def test_a_user_column_named_like_a_built_in_choice_wins(store, tmp_path: Path) -> None:
    from analysis.map.colours import BUILT_IN_MARK

    path = tmp_path / "clash.csv"
    path.write_text("text,cluster\nfirst text,user-a\nsecond text,user-b\n")
    options = IngestOptions(name="clash", label_columns=[])
    corpus, _ = ingest(store, [read_path(path, Limits())], options)
    choices = color_choices(corpus, has_clusters=True)
    assert choices == ["cluster", COLOR_TOKENS, COLOR_CLUSTER + BUILT_IN_MARK, COLOR_NONE]
    docs = load_documents(store, corpus)
    assert color_values(docs, "cluster", None).tolist() == ["user-a", "user-b"]
    assert color_values(docs, COLOR_CLUSTER + BUILT_IN_MARK, None) is None


def test_reserved_column_names_are_kept_under_another_name(store, tmp_path: Path) -> None:
    path = tmp_path / "reserved.csv"
    path.write_text("body,source,n_tokens\nfirst text,web,7\nsecond text,book,9\n")
    options = IngestOptions(name="r", text_column="body", label_columns=["source"])
    corpus, _ = ingest(store, [read_path(path, Limits())], options)
    assert corpus.label_columns == ["source_original"]
    docs = load_documents(store, corpus)
    assert docs["source_original"].tolist() == ["web", "book"]
    assert docs["source"].tolist() == ["reserved.csv", "reserved.csv"]
    assert docs["n_tokens_original"].tolist() == [7, 9]
    assert any("reserved" in notice for notice in corpus.notices)
