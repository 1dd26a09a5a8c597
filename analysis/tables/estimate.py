"""How long a table-property run will take, said before it starts.

Per property, seconds per column of a table for the bundled MiniLM on this 2-core machine,
measured on the demo employees table (200 rows x 10 columns, default settings, nothing cached);
order properties scale with K, sample fidelity with ratios x samples. LSA costs a small fraction,
loading a transformer the first time a few seconds. Cached serialisations make reruns faster, so
the estimate is an upper bound, said as "about".
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.models.encoders import is_loaded
from analysis.tables.context import DEFAULT_RATIOS, DEFAULT_SAMPLES, TablesRequest
from analysis.tables.data import Table
from analysis.tables.permutations import DEFAULT_PERMUTATIONS
from analysis.vectors.estimate import format_seconds

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


def _scale(prop: str, request: TablesRequest) -> float:
    if prop in SCALES_WITH_K:
        return request.permutations / DEFAULT_PERMUTATIONS
    if prop == "sample-fidelity":
        return len(request.ratios) * request.samples / (len(DEFAULT_RATIOS) * DEFAULT_SAMPLES)
    return 1.0


def estimate_seconds(
    tables: Sequence[Table], request: TablesRequest, properties: Sequence[str]
) -> str:
    columns = sum(len(t.columns) for t in tables)
    total = 0.0
    for model in request.models:
        factor = LSA_FACTOR if model == "lsa" else 1.0
        if model != "lsa" and not is_loaded(model):
            total += MODEL_LOAD_SECONDS
        for prop in properties:
            total += SECONDS_PER_COLUMN[prop] * columns * factor * _scale(prop, request)
    return format_seconds(total)
