"""Row and column permutations for the order properties, reproducible and honest about counts.

The identity is index 0, always, and the K variants are distinct non-identity permutations; when
fewer than K exist (n! - 1 < K) all of them are used and the count says so. Permutations are of
``n`` items, where the caller passes len(rows) for rows and len(columns) for columns, the mix-up
seen in the reference code.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

MAX_PERMUTATIONS = 1000
DEFAULT_PERMUTATIONS = 5


def permutations(n: int, k: int, seed: int) -> list[tuple[int, ...]]:
    """[identity, p1, ..., pK']: K' = min(k, n! - 1) distinct non-identity permutations of n."""
    if not 1 <= k <= MAX_PERMUTATIONS:
        raise ValueError(f"K must be between 1 and {MAX_PERMUTATIONS}, got {k}")
    identity = tuple(range(n))
    available = math.factorial(n) - 1 if n < 10 else None
    if available is not None and available <= k:
        others = [p for p in itertools.permutations(range(n)) if p != identity]
        return [identity, *others]
    rng = np.random.default_rng(seed)
    chosen: list[tuple[int, ...]] = [identity]
    seen = {identity}
    while len(chosen) < k + 1:
        candidate = tuple(int(i) for i in rng.permutation(n))
        if candidate not in seen:
            seen.add(candidate)
            chosen.append(candidate)
    return chosen


def expected_count(n: int, k: int) -> int:
    """How many non-identity permutations ``permutations`` returns (for count assertions)."""
    return min(k, math.factorial(n) - 1) if n < 10 else k


def inverse(permutation: tuple[int, ...]) -> np.ndarray:
    """Where each original item ended up: variant[inverse[i]] is original item i."""
    out = np.empty(len(permutation), dtype=np.int64)
    out[list(permutation)] = np.arange(len(permutation))
    return out
