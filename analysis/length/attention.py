"""Attention as a low-pass filter, measured (diagnostic 8 of length_collapse.md).

The paper's mechanism: each attention matrix A damps the high-frequency part (I - J) X of the
token features, more so for longer inputs. Per layer and length, on a small subsample, this module
measures the largest singular value sigma_a of (I - J) A (power iteration), the retention
rho = ||(I - J) A X||_F / ||(I - J) X||_F of the layer's input X, and the attention entropy
normalised by log n; all averaged over heads and texts. Attention weights need the eager kernel,
so it runs on a private eager copy of the model (the shared one keeps its fast kernel).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from analysis.core.progress import ProgressFn
from analysis.length.forward import encode_batch
from analysis.length.sample import LengthSample
from analysis.length.tempscale import TempScale, transformer_of
from analysis.models.encoders import Encoder

TEXTS_PER_LENGTH = 16
MAX_LENGTHS = 3
POWER_STEPS = 30
NOTE = (
    "sigma_a is not bounded by 1: when heads put most weight on a few 'sink' tokens ([CLS], "
    "[SEP], punctuation), (I - J) A keeps a large component and sigma_a can exceed 1 and grow with "
    "n, so it is not evidence of filtering by itself; read it with the retention rho and entropy."
)


def attention_buckets(k: int) -> list[int]:
    """Shortest, middle and longest bucket (all of them when there are at most three)."""
    return sorted({0, k // 2, k - 1}) if k > MAX_LENGTHS else list(range(k))


def subsample(sample: LengthSample) -> list[tuple[int, int]]:
    """(column, item) pairs: the first TEXTS_PER_LENGTH texts of each bucket measured."""
    return [
        (column, int(item))
        for column, b in enumerate(attention_buckets(sample.k))
        for item in sample.items_of(b)[:TEXTS_PER_LENGTH]
    ]


def subsample_size(sample: LengthSample) -> int:
    """Texts the attention diagnostics run on (for progress and the time estimate)."""
    return len(subsample(sample))


def largest_singular_value(matrix: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per [..., n, n] matrix, by power iteration on M^T M (POWER_STEPS steps)."""
    v = torch.randn(*matrix.shape[:-1], 1, generator=generator, dtype=matrix.dtype)
    for _ in range(POWER_STEPS):
        v = matrix.transpose(-1, -2) @ (matrix @ v)
        v = v / v.norm(dim=-2, keepdim=True).clamp(min=1e-30)
    return (matrix @ v).norm(dim=(-2, -1))


def _layer_stats(
    attention: torch.Tensor, states: torch.Tensor, generator: torch.Generator
) -> tuple[float, float, float]:
    """sigma_a, rho and H / log n for one text and layer, averaged over heads.

    attention: [heads, n, n] (rows sum to 1); states: [n, d], the layer's input.
    """
    n = attention.shape[-1]
    high_pass = attention - attention.mean(dim=-2, keepdim=True)  # (I - J) A
    sigma = largest_singular_value(high_pass, generator)
    filtered = attention @ states  # [heads, n, d]
    filtered = filtered - filtered.mean(dim=-2, keepdim=True)
    centred = states - states.mean(dim=0, keepdim=True)
    rho = filtered.norm(dim=(-2, -1)) / centred.norm().clamp(min=1e-12)
    entropy = -(attention * attention.clamp(min=1e-30).log()).sum(dim=-1).mean(dim=-1)
    return float(sigma.mean()), float(rho.mean()), float(entropy.mean()) / float(np.log(n))


def attention_diagnostics(
    encoder: Encoder,
    sample: LengthSample,
    tau: float,
    seed: int,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """sigma_a, rho and normalised entropy per layer (rows) and length (columns) at ``tau``."""
    model, lock = transformer_of(encoder)
    buckets = attention_buckets(sample.k)
    chosen = subsample(sample)
    tokenizer = encoder._hidden.tokenizer
    with lock:  # an unpatched, idle model to copy; a tokenizer no other thread is calling
        eager = copy.deepcopy(model)
        inputs = [
            encode_batch(tokenizer, [sample.texts[i]], int(sample.max_tokens[i])) for _, i in chosen
        ]
    eager.set_attn_implementation("eager")
    generator = torch.Generator().manual_seed(seed)
    n_layers = int(encoder.info.n_layers)
    sums = np.zeros((3, n_layers, len(buckets)))
    counts = np.zeros(len(buckets))
    with TempScale(eager, tau), torch.inference_mode():
        for done, ((column, _), enc) in enumerate(zip(chosen, inputs, strict=True), start=1):
            out = eager(**enc, output_attentions=True, output_hidden_states=True)
            for layer in range(n_layers):
                sums[:, layer, column] += _layer_stats(
                    out.attentions[layer][0], out.hidden_states[layer][0], generator
                )
            counts[column] += 1
            if progress is not None:
                progress(done, len(chosen))
    means = sums / counts
    return {
        "buckets": [sample.bucket_names[b] for b in buckets],
        "n_texts": [int(c) for c in counts],
        "layers": list(range(1, n_layers + 1)),
        "sigma": means[0].tolist(),
        "retention": means[1].tolist(),
        "entropy": means[2].tolist(),
        "note": NOTE,
    }
