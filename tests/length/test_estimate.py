"""The length estimate counts only the temperatures not stored yet, at the rate measured here."""

from __future__ import annotations

from dataclasses import replace

import pytest

from analysis.corpus.corpora import get_corpus
from analysis.length.length_analysis import LengthAnalysis
from analysis.length.sample import LengthRequest
from tests.length.test_collapse import _ingest, _long_texts

pytestmark = pytest.mark.slow  # loads, calibrates and runs the bundled model


def test_a_sweep_that_adds_a_temperature_costs_one_temperature(store) -> None:
    _ingest(store, _long_texts(12), "twelve")
    corpus = get_corpus(store, "twelve")
    one = LengthRequest(lengths=(8, 16), per_bucket=12, taus=(1.0,))
    two = LengthRequest(lengths=(8, 16), per_bucket=12, taus=(1.0, 0.8))
    cold_one = LengthAnalysis(store, corpus, one).estimate()
    cold_two = LengthAnalysis(store, corpus, two).estimate()
    assert cold_two.seconds == pytest.approx(2 * cold_one.seconds)
    assert "2 temperature(s) to compute" in cold_two.basis
    assert "tokens/s on this machine" in cold_two.basis and "24 texts" in cold_two.basis
    assert "option not chosen: attention diagnostics about" in cold_two.basis
    assert "each further temperature about" in cold_two.basis
    with_attention = LengthAnalysis(store, corpus, replace(one, attention=True)).estimate()
    assert with_attention.seconds > cold_one.seconds
    assert "attention diagnostics about" in with_attention.basis

    LengthAnalysis(store, corpus, one).run()
    assert LengthAnalysis(store, corpus, one).estimate().seconds == 0
    warm_two = LengthAnalysis(store, corpus, two).estimate()
    assert warm_two.seconds == pytest.approx(cold_one.seconds)
    assert "1 temperature(s) to compute" in warm_two.basis
