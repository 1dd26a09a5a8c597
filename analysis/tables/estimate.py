"""How long a table-property run will take, said before it starts.

Per property, seconds per column of a table for the bundled MiniLM on the 2-core reference
machine, measured by bench/estimates.py on the Tables page's default demo tables (countries 71 x 8
and employees 200 x 10, default settings, nothing cached, other work running: load about 4.5);
order properties scale with K, sample fidelity with ratios x samples. Table runs are
model work, so the per-column costs are scaled by how long a reference batch (32 texts of 40
tokens) takes here with the model's measured throughput (``models.throughput``) against the
reference machine (measuring loads the model, so loading is not part of the run). LSA costs a
small fraction. Cached serialisations make reruns faster, so the estimate is an upper bound.
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.core.analysis import Estimate
from analysis.core.speed import machine_factor
from analysis.models.throughput import throughput
from analysis.tables.context import DEFAULT_RATIOS, DEFAULT_SAMPLES, TablesRequest
from analysis.tables.data import Table
from analysis.tables.permutations import DEFAULT_PERMUTATIONS

SECONDS_PER_COLUMN = {
    "row-order": 0.16,
    "column-order": 0.38,
    "join": 0.025,
    "functional-dependencies": 0.12,
    "sample-fidelity": 0.19,
    "entity-stability": 0.1,
    "perturbation": 0.2,
    "heterogeneous-context": 0.12,
}
SCALES_WITH_K = ("row-order", "column-order")
LSA_FACTOR = 0.1
MIN_SECONDS = 1.0  # storing the result and drawing it, however small the tables
REFERENCE_BATCH = (32, 32 * 40)  # texts, tokens
REFERENCE_BATCH_SECONDS = 0.17  # the bundled MiniLM's output on the reference machine


def _scale(request: TablesRequest) -> float:
    if request.property in SCALES_WITH_K:
        return request.permutations / DEFAULT_PERMUTATIONS
    if request.property == "sample-fidelity":
        return len(request.ratios) * request.samples / (len(DEFAULT_RATIOS) * DEFAULT_SAMPLES)
    return 1.0


def _model_factor(model: str) -> float:
    """Seconds of this model here per second of the bundled MiniLM on the reference machine."""
    return throughput(model, "output").seconds(*REFERENCE_BATCH) / REFERENCE_BATCH_SECONDS


def estimate_run(tables: Sequence[Table], request: TablesRequest) -> Estimate:
    """Seconds per column of every table, for every model, at each model's measured speed."""
    columns = sum(len(t.columns) for t in tables)
    per_model = SECONDS_PER_COLUMN[request.property] * columns * _scale(request)
    total, rates = 0.0, []
    for model in request.models:
        if model == "lsa":
            total += per_model * LSA_FACTOR * machine_factor()
            continue
        factor = _model_factor(model)  # measuring loads the model: the run will not
        total += per_model * factor
        rates.append(f"{model} at {factor:.1f}x the reference time")
    basis = f"{columns} columns; " + (
        "models measured on this machine: " + ", ".join(rates) if rates else "LSA only"
    )
    return Estimate(max(total, MIN_SECONDS), basis)
