"""Box and lasso selections resolved against every stored point of a map in DuckDB."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from analysis.core.store import Store
from analysis.map.density import Extent
from analysis.map.region import (
    Region,
    enclosing,
    in_polygon,
    region_doc_ids,
    selection_regions,
)

PROJECTION = 7


def _store_coords(store: Store, xy: np.ndarray) -> None:
    rows = pa.table(
        {
            "projection_id": np.full(len(xy), PROJECTION, np.int32),
            "doc_id": np.arange(len(xy), dtype=np.int32),
            "x": xy[:, 0].astype(np.float32),
            "y": xy[:, 1].astype(np.float32),
        }
    )
    with store.transaction() as cur:
        cur.register("incoming", rows)
        cur.execute("INSERT INTO projection_coords SELECT *, NULL FROM incoming")
        cur.unregister("incoming")


def test_shapes_are_read_from_the_selection_and_bad_ones_skipped() -> None:
    selection = {
        "points": [],
        "box": [{"xref": "x", "yref": "y", "x": [2, 0.5], "y": [1, 3]}, {"x": [1], "y": [2]}],
        "lasso": [{"x": [0, 1, 0], "y": [0, 0, 1]}, {"x": [0, "a", 1], "y": [0, 1, 2]}],
    }
    regions = selection_regions(selection)
    assert regions == [
        Region("box", (2.0, 0.5), (1.0, 3.0)),
        Region("lasso", (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    ]
    assert regions[0].bounds.x0 == 0.5 and regions[0].bounds.y1 == 3.0
    assert selection_regions(None) == [] and selection_regions({"box": [], "lasso": []}) == []


def test_a_box_finds_every_stored_point_inside_not_only_drawn_ones(store: Store) -> None:
    xy = np.random.default_rng(0).uniform(-10, 10, (20_000, 2)).astype(np.float32)
    _store_coords(store, xy)
    box = Region("box", (-2.5, 4.0), (7.0, -1.0))
    found = region_doc_ids(store, PROJECTION, [box])
    expected = np.flatnonzero(
        (xy[:, 0] >= -2.5) & (xy[:, 0] <= 4.0) & (xy[:, 1] >= -1.0) & (xy[:, 1] <= 7.0)
    )
    assert found.tolist() == expected.tolist() and found.size > 1000
    assert region_doc_ids(store, PROJECTION + 1, [box]).size == 0  # another map's points
    assert region_doc_ids(store, PROJECTION, []).size == 0


def test_a_lasso_keeps_only_the_points_inside_its_path(store: Store) -> None:
    xy = np.array([[1, 1], [3, 1], [1, 3], [2.5, 2.5], [0.2, 3.5], [5, 5]], dtype=np.float32)
    _store_coords(store, xy)
    triangle = Region("lasso", (0.0, 4.5, 0.0), (0.0, 0.0, 4.5))  # below x + y = 4.5
    assert region_doc_ids(store, PROJECTION, [triangle]).tolist() == [0, 1, 2, 4]
    box = Region("box", (4.5, 6.0), (4.5, 6.0))
    assert region_doc_ids(store, PROJECTION, [triangle, box]).tolist() == [0, 1, 2, 4, 5]


def test_even_odd_rule_on_a_concave_shape() -> None:
    # A "U": the notch between the arms is outside.
    px = np.array([0, 3, 3, 2, 2, 1, 1, 0], dtype=float)
    py = np.array([0, 0, 3, 3, 1, 1, 3, 3], dtype=float)
    x = np.array([0.5, 1.5, 2.5, 1.5, 4.0])
    y = np.array([2.0, 2.0, 2.0, 0.5, 0.5])
    assert in_polygon(x, y, px, py).tolist() == [True, False, True, True, False]


def test_the_zoom_region_encloses_every_shape_and_needs_an_area() -> None:
    box = Region("box", (2.0, 0.5), (1.0, 3.0))
    lasso = Region("lasso", (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    assert enclosing([box, lasso]) == Extent(0.0, 2.0, 0.0, 3.0)
    assert enclosing([]) is None
    assert enclosing([Region("box", (1.0, 1.0), (0.0, 2.0))]) is None  # a drag along a line
