"""Turn a Streamlit plotly selection into the documents the user picked.

Payload shape (streamlit 1.67, ``elements/plotly_chart.py`` and its PlotlyChart frontend): with
``on_select="rerun"``, ``st.plotly_chart`` returns a ``PlotlyState``; ``event.selection`` is a
``PlotlySelectionState``. Both are read-only ``dict`` subclasses that also allow attribute access.
The selection holds:

- ``points``: one dict per selected point, plotly's event point with keys made snake_case:
  ``curve_number``, ``point_number``, ``point_index``, ``x``, ``y`` (``z`` in 3-D),
  ``customdata``, ``legendgroup``, marker fields ... ``customdata`` is that point's element of the
  trace's customdata: a scalar for 1-D customdata (what ``map_figure`` writes), a list for 2-D
  (what plotly express writes); it is absent when the trace has none.
- ``point_indices``: the union of ``point_index`` over all points. Indices are per trace, so
  across several traces they collide and say nothing about which document was picked.
- ``box`` / ``lasso``: the selection shapes, ``{"xref", "yref", "x": [...], "y": [...]}``.

An empty selection is ``{"points": [], "point_indices": [], "box": [], "lasso": []}``.
Values arrive through JSON, so integer ids may come back as floats.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real

import numpy as np


def selected_doc_ids(selection: Mapping | None) -> np.ndarray:
    """Sorted unique doc ids of the selected points, read from customdata alone.

    Accepts the selection itself or the whole event (anything with a ``selection`` entry),
    dict- or attribute-style. Points without a usable id, such as those of a trace that is not
    data, are skipped rather than failing the page.
    """
    if selection is None:
        return np.empty(0, dtype=np.int64)
    if _field(selection, "points") is None and _field(selection, "selection") is not None:
        selection = _field(selection, "selection")
    ids = [_doc_id(point) for point in _field(selection, "points") or []]
    return np.unique(np.array([i for i in ids if i is not None], dtype=np.int64))


def _field(obj: object, name: str) -> object:
    """Dict key first (plain dicts in tests, streamlit's dict subclasses), then attribute."""
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _doc_id(point: object) -> int | None:
    """The doc id in a point's customdata: the value itself or the first element of a list."""
    value = _field(point, "customdata")
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    if not math.isfinite(value) or value != int(value):
        return None
    return int(value)
