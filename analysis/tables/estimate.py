"""How long a table-property run will take, said before it starts.

Per property, seconds per column of a table for the bundled MiniLM on this 2-core machine,
measured on the demo employees table (200 rows x 10 columns, default settings, nothing cached);
order properties scale with K, sample fidelity with ratios x samples. LSA costs a small fraction,
loading a transformer the first time a few seconds. Cached serialisations make reruns faster, so
the estimate is an upper bound.
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.core.analysis import Estimate
from analysis.models.encoders import is_loaded
from analysis.tables.context import DEFAULT_RATIOS, DEFAULT_SAMPLES, TablesRequest
from analysis.tables.data import Table
from analysis.tables.permutations import DEFAULT_PERMUTATIONS

SECONDS_PER_COLUMN = {
    "row-order": 0.25,
    "column-order": 0.6,
    "join": 0.03,
    "functional-dependencies": 0.25,
    "sample-fidelity": 0.45,
    "entity-stability": 0.15,
    "perturbation": 0.45,
    "heterogeneous-context": 0.2,
}
SCALES_WITH_K = ("row-order", "column-order")
MODEL_LOAD_SECONDS = 6.0
LSA_FACTOR = 0.1
MIN_SECONDS = 1.0  # storing the result and drawing it, however small the tables
BASIS = (
    "on 2 idle cores; longer while other work runs, such as the Map's one-time UMAP "
    "compilation after start"
)


def _scale(request: TablesRequest) -> float:
    if request.property in SCALES_WITH_K:
        return request.permutations / DEFAULT_PERMUTATIONS
    if request.property == "sample-fidelity":
        return len(request.ratios) * request.samples / (len(DEFAULT_RATIOS) * DEFAULT_SAMPLES)
    return 1.0


def estimate_run(tables: Sequence[Table], request: TablesRequest) -> Estimate:
    """Seconds per column of every table, for every model, plus loading the models not loaded."""
    columns = sum(len(t.columns) for t in tables)
    per_model = SECONDS_PER_COLUMN[request.property] * columns * _scale(request)
    total = 0.0
    for model in request.models:
        if model == "lsa":
            total += per_model * LSA_FACTOR
        else:
            total += per_model + (0.0 if is_loaded(model) else MODEL_LOAD_SECONDS)
    return Estimate(max(total, MIN_SECONDS), BASIS)
