"""Where along the layers a concept becomes decodable: the Concept Depth summary (Jin et al.).

Jin et al. (COLING 2025) define a variation rate beta_i = A[i] / A[i-1], a jumping point (first
beta >= 1.1) and a converging point (the start of the final stable stretch, |beta - 1| < 0.03).
Read literally ("the last layer with |beta - 1| < 0.03") the converging point lands near 100%
depth for almost every curve, which contradicts the paper's own figures; both readings are given,
with robust definitions that do not depend on ratios of small accuracies:

    peak l* = first argmax A;  converging C = min{l : A[m] >= max A - delta for all m >= l};
    jump J = min{l >= 1 : A[l] - A[l-1] >= tau} (or none);
    half-rise J' = min{l : A[l] >= A[0] + (max A - A[0]) / 2}.

With only 7 readouts (MiniLM-L6), a one-layer difference is within fold noise: figures show the
fold spread next to these markers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

DELTA = 0.01
TAU = 0.05
PAPER_JUMP = 1.1
PAPER_STABLE = 0.03
COMPREHENSION = 0.7
SHOWN = "robust"  # the definitions drawn on figures and named in captions
ROBUST_NOTE = (
    f"concept depth after Jin et al. (COLING 2025), robust definitions: peak = first best layer; "
    f"converging = first layer from which accuracy stays within {DELTA:g} of the best; jump = "
    f"first rise of at least {TAU:g} over the previous layer"
)


def depth_percent(layer: int | None, n_layers: int) -> float | None:
    """Layer as % of the depth, 100 l / L (layer 0 = embeddings = 0%)."""
    return None if layer is None else round(100.0 * layer / n_layers, 1)


def peak_layer(acc: Sequence[float]) -> int:
    best = max(acc)
    return next(i for i, a in enumerate(acc) if a == best)


def converging_layer(acc: Sequence[float], delta: float = DELTA) -> int | None:
    """None when the last layer has fallen more than delta below the peak (nothing converges)."""
    floor = max(acc) - delta
    layer = len(acc) - 1
    if acc[layer] < floor:
        return None
    while layer > 0 and acc[layer - 1] >= floor:
        layer -= 1
    return layer


def jump_layer(acc: Sequence[float], tau: float = TAU) -> int | None:
    return next((i for i in range(1, len(acc)) if acc[i] - acc[i - 1] >= tau), None)


def half_rise_layer(acc: Sequence[float]) -> int:
    target = acc[0] + 0.5 * (max(acc) - acc[0])
    return next(i for i, a in enumerate(acc) if a >= target)


def variation_rates(acc: Sequence[float]) -> list[float | None]:
    """beta_i = A[i] / A[i-1] for i = 1..L (None where A[i-1] is 0)."""
    return [acc[i] / acc[i - 1] if acc[i - 1] > 0 else None for i in range(1, len(acc))]


def paper_jump_layer(acc: Sequence[float], threshold: float = PAPER_JUMP) -> int | None:
    betas = variation_rates(acc)
    return next((i + 1 for i, b in enumerate(betas) if b is not None and b >= threshold), None)


def _stable(beta: float | None, band: float) -> bool:
    return beta is not None and abs(beta - 1.0) < band


def paper_converging_layer(acc: Sequence[float], band: float = PAPER_STABLE) -> int | None:
    """Start of the final stable stretch: the layer from which every later beta is within band.

    None when the last step itself is not stable (the curve is still moving at the top).
    """
    betas = variation_rates(acc)
    if not betas or not _stable(betas[-1], band):
        return None
    start = len(betas)  # betas[i] compares layer i+1 with layer i
    while start > 1 and _stable(betas[start - 2], band):
        start -= 1
    return start - 1


def paper_converging_literal(acc: Sequence[float], band: float = PAPER_STABLE) -> int | None:
    """The literal reading: the last layer whose beta is within band (for comparison only)."""
    betas = variation_rates(acc)
    stable = [i + 1 for i, b in enumerate(betas) if _stable(b, band)]
    return stable[-1] if stable else None


def comprehension_layer(acc: Sequence[float], level: float = COMPREHENSION) -> int | None:
    return next((i for i, a in enumerate(acc) if a >= level), None)


def concept_depth(acc: Sequence[float], delta: float = DELTA, tau: float = TAU) -> dict[str, Any]:
    """Both sets of definitions, in layers and % depth; ``shown`` names the set on the figures."""
    n_layers = len(acc) - 1
    robust = {
        "peak_layer": peak_layer(acc),
        "converging_layer": converging_layer(acc, delta),
        "jump_layer": jump_layer(acc, tau),
        "half_rise_layer": half_rise_layer(acc),
    }
    paper = {
        "jump_layer": paper_jump_layer(acc),
        "converging_layer": paper_converging_layer(acc),
        "converging_layer_literal": paper_converging_literal(acc),
        "comprehension_layer": comprehension_layer(acc),
    }
    return {
        "shown": SHOWN,
        "n_layers": n_layers,
        "robust": {
            **robust,
            **{
                k.replace("_layer", "_depth_pct"): depth_percent(v, n_layers)
                for k, v in robust.items()
            },
            "delta": delta,
            "tau": tau,
        },
        "paper": {
            **paper,
            **{
                k.replace("_layer", "_depth_pct"): depth_percent(v, n_layers)
                for k, v in paper.items()
            },
            "variation_rates": [None if b is None else round(b, 6) for b in variation_rates(acc)],
            "jump_threshold": PAPER_JUMP,
            "stable_band": PAPER_STABLE,
            "comprehension_level": COMPREHENSION,
        },
    }
