"""How fast this machine runs a model, measured here once per process: what estimates rest on.

A constant measured on one machine is wrong on the next, and wrong on the same machine while
other work runs. So the first estimate that needs a model's speed times two batches of synthetic
texts (short and long) through it, for the model's own output and for the all-layers forward
pass, and keeps the result for the process. Two lengths give a cost per text (tokenising,
pooling, Python) and a cost per token (the forward pass), so a corpus of short texts and one of
long texts are both estimated from their own token counts. It takes a few seconds, once. Every
large run afterwards (``observe``) corrects it by how that run actually went, so estimates follow
the machine as other work comes and goes.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from analysis.models.encoders import _BATCH, Encoder, load_encoder
from analysis.models.tokens import count_tokens

Mode = Literal["output", "layers"]
CALIBRATION_TEXTS = _BATCH  # one batch, as the encoders run them
SHORT_WORDS, LONG_WORDS = 16, 230
# Ordinary words that are single word pieces in MiniLM's vocabulary, so a text of N words is
# about N tokens; the exact count is taken with the model's tokenizer anyway.
_WORDS = [
    "the",
    "value",
    "of",
    "each",
    "item",
    "in",
    "this",
    "list",
    "is",
    "returned",
    "by",
    "the",
    "function",
    "when",
    "called",
    "with",
    "a",
    "new",
    "object",
    "from",
    "data",
    "file",
    "name",
    "path",
    "or",
    "string",
    "and",
    "number",
    "type",
]
MIN_SECONDS_PER_TOKEN = 1e-6  # noise guard: two timings can make the slope come out negative
MIN_OBSERVED_TEXTS = 64  # a finished run this large updates the estimate (observe)
SCALE_LIMITS = (0.25, 4.0)  # how far one run may move it
WINDOW = 256  # positions counted for observed runs (the bundled model's window)


@dataclass(frozen=True)
class Throughput:
    """A linear cost model of one encoder on this machine: seconds = texts*a + tokens*b."""

    model: str
    mode: Mode
    seconds_per_text: float
    seconds_per_token: float
    calibration_seconds: float  # what measuring took, said so the cost is not hidden
    scale: float = 1.0  # actual / predicted of the last large run here (1.0 before any)
    observed_texts: int = 0  # how many texts that run encoded

    def seconds(self, texts: int, tokens: int) -> float:
        """Seconds to run ``texts`` texts holding ``tokens`` positions ([CLS]/[SEP] included)."""
        return (texts * self.seconds_per_text + tokens * self.seconds_per_token) * self.scale

    def tokens_per_second(self, mean_tokens: float) -> float:
        """The rate at a given mean text length, for a basis a user can read."""
        return mean_tokens / self.seconds(1, round(mean_tokens))

    def describe(self, texts: int, tokens: int) -> str:
        """'... measured at 5,400 tokens/s on this machine; 86,000 tokens ... to run'."""
        what = "all layers" if self.mode == "layers" else "output"
        rate = self.tokens_per_second(tokens / max(texts, 1))
        learnt = (
            f", as the last run here of {self.observed_texts:,} texts went"
            if self.observed_texts
            else ""
        )
        return (
            f"{self.model} ({what}) measured at {rate:,.0f} tokens/s on this machine{learnt}; "
            f"{tokens:,} tokens (padding included) in {texts:,} texts to run"
        )


def padded_positions(chars: np.ndarray, positions: np.ndarray) -> int:
    """Positions the model actually computes: every text of a batch is padded to the longest.

    The encoders batch texts longest first by characters, not tokens, so the batches of a real
    corpus carry padding (about 40% more positions on the demo docstrings); counting only the
    texts' own tokens underestimated by that much.
    """
    order = np.argsort(-np.asarray(chars), kind="stable")
    ordered = np.asarray(positions)[order]
    return int(
        sum(
            ordered[start : start + _BATCH].max() * ordered[start : start + _BATCH].size
            for start in range(0, ordered.size, _BATCH)
        )
    )


_MEASURED: dict[tuple[str, str], Throughput] = {}
_LOCK = threading.Lock()


def throughput(spec: str, mode: Mode) -> Throughput:
    """The measured throughput of a model spec, calibrated on first use in this process.

    Keyed by spec and mode, so 'default' and 'random' (same architecture, different weights)
    and each local model are measured once each.
    """
    spec = (spec or "default").strip()
    with _LOCK:
        found = _MEASURED.get((spec, mode))
        if found is None:
            found = _calibrate(load_encoder(spec), mode)
            _MEASURED[spec, mode] = found
        return found


def observe(spec: str, mode: Mode, texts: Sequence[str], seconds: float) -> None:
    """Learn from a finished run: the next estimate scales the calibration by how this run went.

    The calibration is a snapshot of a few seconds; other work on the same cores comes and goes.
    A run of at least ``MIN_OBSERVED_TEXTS`` texts measures the present too, so its ratio of
    actual to calibrated seconds (within ``SCALE_LIMITS``) moves later estimates halfway there
    (a geometric mean with the scale so far): one run under a burst of other work should not
    decide the next estimate alone. Nothing is learnt for a model this process never calibrated.
    """
    spec = (spec or "default").strip()
    with _LOCK:
        found = _MEASURED.get((spec, mode))
    if found is None or len(texts) < MIN_OBSERVED_TEXTS:
        return
    own = np.minimum(count_tokens(texts) + 2, WINDOW)
    tokens = padded_positions(np.array([len(t) for t in texts]), own)
    predicted = replace(found, scale=1.0).seconds(len(texts), tokens)
    low, high = SCALE_LIMITS
    ratio = min(max(seconds / max(predicted, 1e-9), low), high)
    scale = math.sqrt(found.scale * ratio)
    with _LOCK:
        _MEASURED[spec, mode] = replace(found, scale=scale, observed_texts=len(texts))


def _texts(words: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(_WORDS, size=words)) for _ in range(CALIBRATION_TEXTS)]


def _positions(encoder: Encoder, texts: list[str]) -> int:
    """Positions the model sees: word pieces plus specials, cut at the model's limit."""
    tokenizer = encoder.tokenizer
    limit = int(encoder.info.max_length or 512)
    if tokenizer is None:
        return sum(min(len(t.split()) + 2, limit) for t in texts)
    ids = tokenizer(texts, truncation=True, max_length=limit)["input_ids"]  # type: ignore[operator]
    return sum(len(row) for row in ids)


def _calibrate(encoder: Encoder, mode: Mode) -> Throughput:
    """Time a short and a long batch (after a tiny warm-up) and fit the two costs."""

    def run(texts: list[str]) -> float:
        start = time.perf_counter()
        if mode == "layers":
            encoder.encode_layers(texts, "mean", None)
        else:
            encoder.encode(texts)
        return time.perf_counter() - start

    began = time.perf_counter()
    run(_texts(4, seed=0)[:4])  # first call: lazy initialisation inside torch
    short, long = _texts(SHORT_WORDS, seed=1), _texts(LONG_WORDS, seed=2)
    # best of two: a burst of other work during one batch must not stick for the whole process
    t_short, t_long = min(run(short), run(short)), min(run(long), run(long))
    n_short, n_long = _positions(encoder, short), _positions(encoder, long)
    per_token = max((t_long - t_short) / max(n_long - n_short, 1), MIN_SECONDS_PER_TOKEN)
    per_text = max(t_short - n_short * per_token, 0.0) / CALIBRATION_TEXTS
    return Throughput(
        model=encoder.info.name,
        mode=mode,
        seconds_per_text=per_text,
        seconds_per_token=per_token,
        calibration_seconds=time.perf_counter() - began,
    )
