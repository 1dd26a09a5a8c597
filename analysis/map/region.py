"""Box and lasso selections on a map, resolved against every stored point, not the drawn ones.

A large map draws a density picture, not its points, so the documents in a drawn box or lasso
are found here from the shape's data coordinates: a range query on ``projection_coords`` in
DuckDB for a box, and for a lasso the same query on its bounding box followed by an even-odd
point-in-polygon test in numpy (the rule plotly and SVG use to fill a path).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from analysis.core.arrow_vectors import query_arrow
from analysis.core.store import Store
from analysis.map.density import Extent


@dataclass(frozen=True)
class Region:
    """One drawn shape in data coordinates: a box (two corners) or a lasso (its vertices)."""

    kind: str  # "box" or "lasso"
    xs: tuple[float, ...]
    ys: tuple[float, ...]

    @property
    def bounds(self) -> Extent:
        return Extent(min(self.xs), max(self.xs), min(self.ys), max(self.ys))


def selection_regions(selection: Mapping | None) -> list[Region]:
    """The box and lasso shapes of a Streamlit plotly selection (see ``map.selection``); shapes
    without usable numbers (an empty drag, a non-finite value) are skipped."""
    if not selection:
        return []
    regions = []
    for kind, least in (("box", 2), ("lasso", 3)):
        for shape in selection.get(kind) or []:
            xs, ys = _numbers(shape.get("x")), _numbers(shape.get("y"))
            if xs is not None and ys is not None and len(xs) == len(ys) >= least:
                regions.append(Region(kind, xs, ys))
    return regions


def _numbers(values: object) -> tuple[float, ...] | None:
    if not isinstance(values, Sequence) or isinstance(values, str):
        return None
    try:
        numbers = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        return None
    return numbers if all(math.isfinite(v) for v in numbers) else None


def enclosing(regions: Sequence[Region]) -> Extent | None:
    """The smallest rectangle around all regions, or None when there is none with an area (no
    shape, or a drag along a line) to zoom into."""
    if not regions:
        return None
    boxes = [region.bounds for region in regions]
    box = Extent(
        min(b.x0 for b in boxes),
        max(b.x1 for b in boxes),
        min(b.y0 for b in boxes),
        max(b.y1 for b in boxes),
    )
    return box if box.x1 > box.x0 and box.y1 > box.y0 else None


def region_doc_ids(store: Store, projection_id: int, regions: Sequence[Region]) -> np.ndarray:
    """Sorted doc ids of every point of the map inside any of the regions (edges included)."""
    found = [_inside(store, projection_id, region) for region in regions]
    if not found:
        return np.empty(0, dtype=np.int64)
    return np.unique(np.concatenate(found)).astype(np.int64)


def _inside(store: Store, projection_id: int, region: Region) -> np.ndarray:
    box = region.bounds
    with store.connection() as cur:
        table = query_arrow(
            cur,
            "SELECT doc_id, x, y FROM projection_coords WHERE projection_id = ? "
            "AND x BETWEEN ? AND ? AND y BETWEEN ? AND ?",
            [projection_id, box.x0, box.x1, box.y0, box.y1],
        )
    ids = table.column("doc_id").to_numpy()
    if region.kind == "box":
        return ids
    x = table.column("x").to_numpy().astype(float)
    y = table.column("y").to_numpy().astype(float)
    return ids[in_polygon(x, y, np.array(region.xs), np.array(region.ys))]


def in_polygon(x: np.ndarray, y: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Even-odd rule: a point is inside when a ray to its right crosses the edges an odd number
    of times. One vectorised pass per edge, so a lasso of a few hundred vertices over a million
    points stays well under a second."""
    inside = np.zeros(x.shape, dtype=bool)
    for i in range(len(px)):
        x1, y1, x2, y2 = px[i - 1], py[i - 1], px[i], py[i]
        if y1 == y2:
            continue
        spans = (y1 > y) != (y2 > y)
        crossing = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= spans & (x < crossing)
    return inside
