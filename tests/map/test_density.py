"""The server-side density layer: every point binned, shaded, and placed where it belongs."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from analysis.map.density import MIN_ALPHA, Extent, density_image


def _pixels(source: str) -> np.ndarray:
    assert source.startswith("data:image/png;base64,")
    data = base64.b64decode(source.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def test_extent_pads_contains_edges_and_keeps_cells_square() -> None:
    xy = np.array([[0.0, 0.0], [10.0, 5.0]])
    extent = Extent.around(xy)
    assert extent.x0 < 0 < 10 < extent.x1 and extent.y0 < 0 < 5 < extent.y1
    box = Extent(0.0, 1.0, 0.0, 1.0)
    assert box.contains(np.array([[0.0, 1.0], [1.0, 0.5], [1.01, 0.5]])).tolist() == [
        True,
        True,
        False,
    ]
    assert Extent(0, 10, 0, 5).shape(100) == (50, 100)
    assert Extent(0, 5, 0, 10).shape(100) == (100, 50)


def test_every_point_is_counted_and_the_first_row_is_the_lowest_y() -> None:
    extent = Extent(0.0, 4.0, 0.0, 2.0)  # 2 rows x 4 columns of unit cells
    xy = np.array([[0.5, 0.5]] * 3 + [[3.5, 1.5]] + [[9.0, 9.0]])  # the last one is outside
    image = density_image(xy, extent, colours=("#ff0000",), cells=4)
    assert (image.rows, image.columns, image.points, image.max_count) == (2, 4, 4, 3)
    pixels = _pixels(image.source)
    assert pixels.shape == (2, 4, 4)
    alpha = pixels[:, :, 3]
    # Row 0 of the PNG is y in [0, 1), where the crowded cell is (plotly draws it at the bottom).
    assert alpha[0, 0] == 255 and alpha[1, 3] == round(MIN_ALPHA * 255)
    assert (alpha > 0).sum() == 2
    assert pixels[0, 0, :3].tolist() == [255, 0, 0]


def test_classes_blend_by_count_and_grey_takes_other_and_missing() -> None:
    extent = Extent(0.0, 2.0, 0.0, 1.0)
    xy = np.array([[0.5, 0.5]] * 4 + [[1.5, 0.5]] * 2)
    codes = np.array([0, 0, 0, 1, 5, -1])  # 5 is beyond the named classes: grey, like missing
    colours = ("#ff0000", "#0000ff", "#808080")
    pixels = _pixels(density_image(xy, extent, codes=codes, colours=colours, cells=2).source)
    assert pixels[0, 0, :3].tolist() == [191, 0, 64]  # 3 red + 1 blue, weighted
    assert pixels[0, 1, :3].tolist() == [128, 128, 128]


def test_numbers_shade_by_the_cell_mean_on_the_whole_range() -> None:
    extent = Extent(0.0, 2.0, 0.0, 1.0)
    xy = np.array([[0.5, 0.5], [0.5, 0.5], [1.5, 0.5]])
    values = np.array([0.0, np.nan, 10.0])
    image = density_image(xy, extent, values=values, value_range=(0.0, 10.0), cells=2)
    pixels = _pixels(image.source)
    assert pixels[0, 0, :3].tolist() == [0x44, 0x01, 0x54]  # the low end of Viridis
    assert pixels[0, 1, :3].tolist() == [0xFD, 0xE7, 0x25]  # the high end


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_and_empty_inputs_still_make_an_image(n: int) -> None:
    xy = np.zeros((n, 2))
    image = density_image(xy, Extent.around(xy), cells=8)
    assert image.points == n and _pixels(image.source).shape[2] == 4
