"""How fast this machine does numeric work now, relative to the machine the per-item costs were
measured on: the factor every non-model part of an estimate (fits, projections, clustering) is
scaled by.

Per-item costs of scikit-learn fits, UMAP or HDBSCAN cannot be calibrated on the user's data
before the run without doing the run; what can be measured in a fraction of a second is how long
a fixed piece of single-threaded linear algebra takes here, compared with the reference machine.
A slower or busier machine gets proportionally longer estimates. Measured at most once a minute
(a fifth of a second each time), so estimates follow other work as it comes and goes.
"""

from __future__ import annotations

import threading
import time

import numpy as np

#: The workload below on the reference machine (2 idle cores, the one the costs were measured on).
REFERENCE_SECONDS = 0.06
FRESH_SECONDS = 60.0  # a measurement older than this is taken again
_LOCK = threading.Lock()
_LAST: list[tuple[float, float]] = []  # (when, seconds) of the latest measurement


def _workload() -> float:
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.standard_normal((600, 384))
    with threadpool_limits(1):
        start = time.perf_counter()
        for _ in range(6):
            gram = a @ a.T
            np.linalg.eigvalsh(gram[:200, :200])
            np.argsort(gram, axis=1)
        return time.perf_counter() - start


def _measured() -> float:
    now = time.monotonic()
    if not _LAST or now - _LAST[0][0] > FRESH_SECONDS:
        _workload()  # warm-up: the first BLAS call initialises threads and caches
        _LAST[:] = [(now, min(_workload(), _workload()))]
    return _LAST[0][1]


def machine_factor() -> float:
    """Seconds here per reference second (1.0 = as fast as the reference, 2.0 = half as fast)."""
    with _LOCK:
        return _measured() / REFERENCE_SECONDS


def describe_factor() -> str:
    """'numeric work measured at 1.3x the reference time on this machine'."""
    return f"numeric work measured at {machine_factor():.1f}x the reference time on this machine"
