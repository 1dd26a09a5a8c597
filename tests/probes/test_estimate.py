"""Probe estimates: encoding only what the cache lacks, at the rate measured here; heavy options
offered with their own estimate before anyone ticks them."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.core.store import Store
from analysis.corpus.corpora import get_corpus
from analysis.probes.estimate import estimate_pairs, estimate_paper, estimate_probe
from analysis.probes.requests import PairRequest, PaperRequest, ProbeRequest
from analysis.vectors.text_layers import text_layer_vectors
from tests.probe_corpus import NAME, PAIRS, copy_of, ingest_pairs, template

pytestmark = pytest.mark.slow  # calibrates the bundled model


def test_cached_layers_cost_nothing_and_heavy_options_say_their_cost(
    tmp_path_factory, tmp_path: Path
) -> None:
    store = Store(copy_of(template(tmp_path_factory), tmp_path / "cached.duckdb"))
    corpus = get_corpus(store, NAME)
    plain = estimate_probe(store, corpus, ProbeRequest("topic"))
    assert "90 texts, 3 classes; all layers are cached" in plain.basis
    for option in ("random-weight encoder: about", "MLP probe: about", "heatmap: about"):
        assert option in plain.basis  # offered, not counted
    heavy = estimate_probe(store, corpus, ProbeRequest("topic", mlp=True, heatmap=True))
    assert heavy.seconds > plain.seconds and "plus MLP probe about" in heavy.basis
    # another pooling is not cached: its encoding is counted at the measured rate
    other = estimate_probe(store, corpus, ProbeRequest("topic", pooling="max"))
    assert other.seconds > plain.seconds and "tokens/s on this machine" in other.basis
    assert "90 texts to run" in other.basis
    paper = estimate_paper(store, corpus, PaperRequest("topic"))
    assert "all layers are cached" in paper.basis  # the template cached last-token pooling
    store.close()


def test_a_subsample_encodes_only_its_rows(tmp_path_factory, tmp_path: Path) -> None:
    store = Store(copy_of(template(tmp_path_factory, embed=False), tmp_path / "plain.duckdb"))
    corpus = get_corpus(store, NAME)
    whole = estimate_probe(store, corpus, ProbeRequest("topic", subsample=0, folds=3))
    part = estimate_probe(store, corpus, ProbeRequest("topic", subsample=45, folds=3))
    assert "90 texts to run" in whole.basis and "45 texts to run" in part.basis
    assert part.seconds < whole.seconds
    store.close()


def test_pairs_count_both_texts_against_the_cache(store: Store) -> None:
    corpus = ingest_pairs(store)
    cold = estimate_pairs(store, corpus, PairRequest("text_b", "score"))
    assert f"{2 * len(PAIRS)} texts to run" in cold.basis
    text_layer_vectors(store, [b for _, b, _ in PAIRS])
    warm = estimate_pairs(store, corpus, PairRequest("text_b", "score"))
    assert f"{len(PAIRS)} texts to run" in warm.basis and warm.seconds < cold.seconds
