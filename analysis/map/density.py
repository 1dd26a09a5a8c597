"""A density picture of every point of a large map, binned on the server and sent as one PNG.

Past a few tens of thousands of points a scatter costs the browser more than it tells the eye
(points overdraw, the page stalls, the payload grows ~200 bytes per point with its hover text). So
large maps bin every point into a grid here (numpy ``bincount``, one pass) and ship the shaded
grid as a PNG that plotly places on the axes: the size of what is sent no longer grows with the
corpus. Shading follows datashader's defaults in spirit: cells with points are never invisible
(opacity starts at MIN_ALPHA) and opacity rises with the log of the count, so both sparse and
crowded regions stay readable; with classes, a cell's colour is the mix of its classes' colours
weighted by how many of its points each has (per-category density, blended).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

GRID_CELLS = 480  # cells along the longer side of the view: finer than a marker, ~1 per 2 px
MIN_ALPHA = 0.3  # a cell holding one point is still visible at this opacity
VIRIDIS = (
    "#440154",
    "#482878",
    "#3E4989",
    "#31688E",
    "#26828E",
    "#1F9E89",
    "#35B779",
    "#6ECE58",
    "#B5DE2B",
    "#FDE725",
)  # plotly's Viridis stops, so the density matches the colour bar


@dataclass(frozen=True)
class Extent:
    """A rectangle of the map in data coordinates (x0 < x1, y0 < y1)."""

    x0: float
    x1: float
    y0: float
    y1: float

    @classmethod
    def around(cls, xy: np.ndarray) -> Extent:
        """The points' bounding box, widened by 1% a side so no point sits on the frame."""
        if len(xy) == 0:
            return cls(-1.0, 1.0, -1.0, 1.0)
        low, high = xy.min(axis=0).astype(float), xy.max(axis=0).astype(float)
        pad = np.maximum((high - low) * 0.01, 1e-6)
        return cls(low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1])

    def contains(self, xy: np.ndarray) -> np.ndarray:
        """A mask of the points inside, edges included (as a box selection counts them)."""
        x, y = xy[:, 0], xy[:, 1]
        return (x >= self.x0) & (x <= self.x1) & (y >= self.y0) & (y <= self.y1)

    def shape(self, cells: int = GRID_CELLS) -> tuple[int, int]:
        """(rows, columns) of the grid: square cells, ``cells`` along the longer side."""
        width, height = self.x1 - self.x0, self.y1 - self.y0
        if width >= height:
            return max(1, round(cells * height / width)), cells
        return cells, max(1, round(cells * width / height))


@dataclass(frozen=True)
class DensityImage:
    """The shaded grid as a PNG data URI, where it lies, and what it counts."""

    source: str
    extent: Extent
    rows: int
    columns: int
    points: int  # how many points the grid holds (those inside the extent)
    max_count: int  # the most points in one cell

    @property
    def cell_width(self) -> float:
        return (self.extent.x1 - self.extent.x0) / self.columns

    @property
    def cell_height(self) -> float:
        return (self.extent.y1 - self.extent.y0) / self.rows


def density_image(
    xy: np.ndarray,
    extent: Extent,
    *,
    codes: np.ndarray | None = None,
    colours: tuple[str, ...] = ("#1f77b4",),
    values: np.ndarray | None = None,
    value_range: tuple[float, float] | None = None,
    cells: int = GRID_CELLS,
) -> DensityImage:
    """Every point of ``xy`` inside ``extent`` binned and shaded.

    ``codes`` (one int per point, -1 or a code >= len(colours) - 1 for grey) blends class colours;
    ``values`` (floats, NaN = missing) shades each cell by its points' mean value on Viridis over
    ``value_range``; neither: one colour, ``colours[0]``.
    """
    rows, columns = extent.shape(cells)
    inside = extent.contains(xy)
    cell = _cell_index(xy[inside], extent, rows, columns)
    counts = np.bincount(cell, minlength=rows * columns)
    if codes is not None:
        rgb = _blend_classes(cell, codes[inside], colours, rows * columns, counts)
    elif values is not None:
        low, high = value_range if value_range is not None else (0.0, 1.0)
        rgb = _mean_value_colours(cell, values[inside], low, high, rows * columns)
    else:
        rgb = np.tile(_rgb(colours[0]), (rows * columns, 1))
    rgba = np.concatenate([rgb, _alpha(counts)[:, None]], axis=1)
    # Row 0 is the lowest y. It stays the PNG's first row: plotly draws a source image's first
    # row at y0 (the bottom of an upward y axis), checked in Chromium (tests/browser).
    picture = rgba.reshape(rows, columns, 4)
    return DensityImage(
        source=_png_data_uri(picture),
        extent=extent,
        rows=rows,
        columns=columns,
        points=int(inside.sum()),
        max_count=int(counts.max(initial=0)),
    )


def _cell_index(xy: np.ndarray, extent: Extent, rows: int, columns: int) -> np.ndarray:
    """Row-major cell of each point; a point on the far edge goes in the last cell."""
    col = ((xy[:, 0] - extent.x0) / (extent.x1 - extent.x0) * columns).astype(np.int64)
    row = ((xy[:, 1] - extent.y0) / (extent.y1 - extent.y0) * rows).astype(np.int64)
    return np.clip(row, 0, rows - 1) * columns + np.clip(col, 0, columns - 1)


def _alpha(counts: np.ndarray) -> np.ndarray:
    """0 for an empty cell, MIN_ALPHA for one point, 1 for the fullest: log-scaled between."""
    top = max(int(counts.max(initial=0)), 1)
    scaled = np.log(np.maximum(counts, 1)) / np.log(top) if top > 1 else np.zeros(counts.shape)
    alpha = np.where(counts > 0, MIN_ALPHA + (1 - MIN_ALPHA) * scaled, 0.0)
    return np.round(alpha * 255).astype(np.uint8)


def _blend_classes(
    cell: np.ndarray, codes: np.ndarray, colours: tuple[str, ...], n_cells: int, counts: np.ndarray
) -> np.ndarray:
    """Each cell's colour: its classes' colours weighted by their counts there."""
    palette = np.array([_rgb(c) for c in colours], dtype=float)
    grey = len(colours) - 1  # the last colour is for "other" and missing
    codes = np.where((codes >= 0) & (codes < grey), codes, grey)
    point_rgb = palette[codes]
    # One weighted count per channel: no cells-by-classes matrix (and no slow matrix product).
    mixed = np.column_stack(
        [np.bincount(cell, weights=point_rgb[:, i], minlength=n_cells) for i in range(3)]
    )
    return np.round(mixed / np.maximum(counts, 1)[:, None]).astype(np.uint8)


def _mean_value_colours(
    cell: np.ndarray, values: np.ndarray, low: float, high: float, n_cells: int
) -> np.ndarray:
    """Each cell's mean value on Viridis; a cell of missing values only is grey."""
    finite = np.isfinite(values)
    sums = np.bincount(cell[finite], weights=values[finite], minlength=n_cells)
    present = np.bincount(cell[finite], minlength=n_cells)
    mean = sums / np.maximum(present, 1)
    position = np.clip((mean - low) / (high - low), 0, 1) if high > low else np.zeros(n_cells)
    stops = np.array([_rgb(c) for c in VIRIDIS], dtype=float)
    at = np.linspace(0, 1, len(VIRIDIS))
    rgb = np.column_stack([np.interp(position, at, stops[:, i]) for i in range(3)])
    rgb[present == 0] = _rgb("#BBBBBB")
    return np.round(rgb).astype(np.uint8)


def _rgb(colour: str) -> np.ndarray:
    value = colour.lstrip("#")
    return np.array([int(value[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.uint8)


def _png_data_uri(picture: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(picture), mode="RGBA").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
