"""Selections map back to documents through customdata, whatever the payload looks like."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np

from analysis.map.selection import selected_doc_ids


def _point(curve: int, index: int, **extra) -> dict:
    return {"curve_number": curve, "point_number": index, "point_index": index, **extra}


def _selection(points: list) -> dict:
    indices = sorted({point["point_index"] for point in points})
    return {"points": points, "point_indices": indices, "box": [], "lasso": []}


def _ids(selection) -> list[int]:
    result = selected_doc_ids(selection)
    assert result.dtype.kind == "i"
    return result.tolist()


def test_list_customdata_uses_the_first_element():
    points = [_point(0, 1, customdata=[42, "extra"]), _point(0, 2, customdata=[7])]
    assert _ids(_selection(points)) == [7, 42]


def test_scalar_customdata_including_json_floats():
    points = [_point(0, 0, customdata=5), _point(0, 3, customdata=3.0)]
    assert _ids(_selection(points)) == [3, 5]


def test_points_from_several_traces_are_told_apart_by_customdata_not_index():
    points = [
        _point(0, 0, customdata=100),
        _point(1, 0, customdata=200),
        _point(2, 0, customdata=300),
    ]
    assert _ids(_selection(points)) == [100, 200, 300]


def test_points_without_usable_customdata_are_skipped():
    points = [
        _point(0, 0),
        _point(1, 0, customdata=None),
        _point(1, 1, customdata=[]),
        _point(1, 2, customdata="label"),
        _point(1, 3, customdata=True),
        _point(1, 4, customdata=2.5),
        _point(1, 5, customdata=float("nan")),
        _point(1, 6, customdata=9),
    ]
    assert _ids(_selection(points)) == [9]


def test_none_and_empty_selections_give_an_empty_int_array():
    for empty in (None, {}, _selection([]), {"selection": _selection([])}):
        result = selected_doc_ids(empty)
        assert result.size == 0 and result.dtype == np.int64


def test_duplicate_points_give_unique_sorted_ids():
    points = [_point(0, 4, customdata=8), _point(3, 0, customdata=[8]), _point(0, 1, customdata=2)]
    assert _ids(_selection(points)) == [2, 8]


def test_whole_event_and_attribute_style_payloads():
    selection = _selection([_point(0, 0, customdata=11)])
    assert _ids({"selection": selection}) == [11]
    event = SimpleNamespace(selection=SimpleNamespace(points=[SimpleNamespace(customdata=[12])]))
    assert _ids(event) == [12]


def test_streamlit_state_objects():
    from streamlit.elements.plotly_chart import PlotlyChartSelectionSerde

    point = {"curve_number": 1, "point_index": 0, "customdata": 6}
    raw = json.dumps({"selection": _selection([point])})
    event = PlotlyChartSelectionSerde().deserialize(raw)
    assert _ids(event) == [6]
    assert _ids(event.selection) == [6]
    assert _ids(PlotlyChartSelectionSerde().deserialize(None).selection) == []
