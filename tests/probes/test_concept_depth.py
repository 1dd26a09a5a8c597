"""Concept-depth markers on hand-made accuracy curves, under both sets of definitions."""

from __future__ import annotations

import pytest

from analysis.probes.concept_depth import (
    concept_depth,
    converging_layer,
    half_rise_layer,
    jump_layer,
    paper_converging_layer,
    paper_converging_literal,
    paper_jump_layer,
    peak_layer,
)

RISE_THEN_PLATEAU = [0.50, 0.52, 0.70, 0.80, 0.805, 0.81, 0.808]


def test_robust_definitions_on_a_rise_then_plateau() -> None:
    acc = RISE_THEN_PLATEAU
    assert peak_layer(acc) == 5
    assert converging_layer(acc, delta=0.01) == 3  # 0.80 is within 0.01 of 0.81, and so on
    assert jump_layer(acc, tau=0.05) == 2  # +0.18 from layer 1 to 2
    assert half_rise_layer(acc) == 2  # 0.50 + (0.81 - 0.50) / 2 = 0.655


def test_peak_is_the_first_argmax_and_nothing_converges_after_a_drop() -> None:
    assert peak_layer([0.6, 0.9, 0.9, 0.7]) == 1
    assert converging_layer([0.6, 0.9, 0.9, 0.7]) is None  # the last layer fell from the peak
    assert converging_layer([0.6, 0.9, 0.9, 0.895]) == 1


def test_no_jump_on_a_slow_climb_and_a_flat_curve() -> None:
    slow = [0.50, 0.53, 0.56, 0.59, 0.62]
    assert jump_layer(slow, tau=0.05) is None
    assert paper_jump_layer(slow) is None  # every ratio below 1.1
    flat = [0.7] * 5
    assert converging_layer(flat) == 0
    assert half_rise_layer(flat) == 0


def test_paper_definitions_and_the_literal_reading() -> None:
    acc = [0.5, 0.6, 0.8, 0.81, 0.815]
    # ratios 1.2, 1.333, 1.0125, 1.006: first >= 1.1 at layer 1
    assert paper_jump_layer(acc) == 1
    # the final stretch of |ratio - 1| < 0.03 covers layers 2 -> 3 -> 4
    assert paper_converging_layer(acc) == 2
    # read literally, "the last stable layer" is simply the last layer
    assert paper_converging_literal(acc) == 4
    assert paper_converging_layer([0.5, 0.6, 0.7, 0.9]) is None  # still rising at the top


def test_summary_reports_layers_and_percent_depth_and_names_what_is_shown() -> None:
    summary = concept_depth(RISE_THEN_PLATEAU)
    assert summary["shown"] == "robust"
    assert summary["n_layers"] == 6
    robust = summary["robust"]
    assert robust["peak_layer"] == 5 and robust["peak_depth_pct"] == pytest.approx(83.3)
    assert robust["converging_layer"] == 3 and robust["converging_depth_pct"] == 50.0
    assert robust["jump_layer"] == 2 and robust["jump_depth_pct"] == pytest.approx(33.3)
    paper = summary["paper"]
    assert paper["jump_layer"] == 2  # 0.70 / 0.52 = 1.35
    assert paper["comprehension_layer"] == 2  # first layer at accuracy >= 0.7
    assert len(paper["variation_rates"]) == 6
