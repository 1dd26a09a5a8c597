"""Throughput is measured on this machine, once per process and model: what estimates rest on."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from analysis.core.speed import describe_factor, machine_factor
from analysis.models import throughput as module
from analysis.models.throughput import padded_positions, throughput
from analysis.models.tokens import count_tokens


def test_padding_counts_every_text_at_its_batchs_longest() -> None:
    # 40 texts: batches of 32 and 8, longest first by characters
    chars = np.arange(40)[::-1] + 1
    positions = np.full(40, 10)
    positions[0] = 100  # the longest text by characters is also the longest in tokens
    assert padded_positions(chars, positions) == 32 * 100 + 8 * 10
    # characters order the batches, not tokens: a short text with many tokens pads its batch
    chars = np.arange(40) + 1
    positions = np.full(40, 10)
    positions[0] = 100  # the fewest characters: sorted into the last batch
    assert padded_positions(chars, positions) == 32 * 10 + 8 * 100
    assert padded_positions(np.array([]), np.array([])) == 0


@pytest.mark.slow  # calibrates the bundled model (a few seconds)
def test_calibrates_once_per_process_model_and_mode(default_encoder) -> None:
    output = throughput("default", "output")
    layers = throughput("default", "layers")
    assert throughput(" default ", "output") is output  # cached: no second measurement
    assert module._MEASURED[("default", "layers")] is layers
    for measured in (output, layers):
        assert measured.seconds_per_token > 0 and measured.seconds_per_text >= 0
        assert measured.calibration_seconds < 30
        # longer texts cost more; more texts cost more
        assert measured.seconds(100, 20_000) > measured.seconds(100, 2_000) > 0
        assert measured.seconds(200, 4_000) > measured.seconds(100, 2_000)


@pytest.mark.slow
def test_the_basis_says_the_measured_rate_and_the_work(default_encoder) -> None:
    measured = throughput("default", "layers")
    text = measured.describe(2_000, 86_000)
    assert "tokens/s on this machine" in text
    assert "86,000 tokens (padding included) in 2,000 texts" in text
    assert "all layers" in text
    rate = measured.tokens_per_second(43)
    assert f"{rate:,.0f} tokens/s" in text


def test_machine_factor_is_measured_and_kept_for_a_minute() -> None:
    factor = machine_factor()
    assert factor > 0 and machine_factor() == factor
    assert f"{factor:.1f}x the reference time" in describe_factor()


@pytest.mark.slow
def test_a_finished_run_corrects_later_estimates(default_encoder, monkeypatch) -> None:
    # Earlier runs in this process may have taught the calibration already: start from none.
    calibrated = replace(throughput("default", "layers"), scale=1.0, observed_texts=0)
    monkeypatch.setitem(module._MEASURED, ("default", "layers"), calibrated)  # restored after
    texts = [f"A short text number {i} about the standard library." for i in range(80)]
    own = np.minimum(count_tokens(texts) + 2, 256)
    chars = np.array([len(t) for t in texts])
    predicted = calibrated.seconds(len(texts), padded_positions(chars, own))

    module.observe("default", "layers", texts[:10], 100 * predicted)  # too small a run: ignored
    assert throughput("default", "layers") is calibrated
    module.observe("default", "layers", texts, 4 * predicted)  # halfway (geometric): 2x
    learnt = throughput("default", "layers")
    assert learnt.scale == pytest.approx(2.0, rel=0.05) and learnt.observed_texts == 80
    assert learnt.seconds(100, 5_000) == pytest.approx(2 * calibrated.seconds(100, 5_000), rel=0.05)
    assert "as the last run here of 80 texts went" in learnt.describe(100, 5_000)
    module.observe("default", "layers", texts, 4 * predicted)  # the same again: closer to 4x
    assert throughput("default", "layers").scale == pytest.approx(8**0.5, rel=0.05)
    module.observe("default", "layers", texts, 1e6 * predicted)  # one run counts at most 4x
    assert throughput("default", "layers").scale == pytest.approx((8**0.5 * 4) ** 0.5, rel=0.05)
    module.observe("other-model", "layers", texts, 1.0)  # never calibrated: nothing to learn
    assert ("other-model", "layers") not in module._MEASURED
