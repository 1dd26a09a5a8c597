"""End to end in Debian Chromium on a 300,000-point map: the density view, a box selection that
finds every stored document in the box (not only drawn points), and the selection's export; and
the density picture the right way up."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import plotly.io as pio
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from analysis.core.store import Store
from analysis.map.density import Extent
from analysis.map.figures import DrawnPoints, density_map_figure
from analysis.map.projection import ProjectionParams, _save, find_projection
from analysis.map.projection_analysis import ProjectionAnalysis
from bench.million_map import build_map_store

pytestmark = pytest.mark.browser

N = 300_000

# Data coordinates of two page positions, from plotly's own axes on the graph div.
DATA_AT = """(gd, points) => {
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.getBoundingClientRect();
  return points.map(([x, y]) => [xa.p2l(x - box.left - xa._offset),
                                 ya.p2l(y - box.top - ya._offset)]);
}"""
# The box plotly makes of a drag, in data coordinates (what Streamlit sends to the server), kept
# from plotly's own event: the rerun the selection starts may redraw the chart without it.
LISTEN_FOR_BOX = """gd => {
  window.drawnBox = null;
  gd.on('plotly_selected', e => {
    const r = e && e.range;
    if (r) window.drawnBox = [[r.x[0], r.y[0]], [r.x[1], r.y[1]]];
  });
}"""
IN_BOX_SELECT = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  return gd && gd._fullLayout && gd._fullLayout.dragmode === 'select';
}"""


def _fill(folder: Path) -> Callable[[Store], None]:
    def fill(store: Store) -> None:
        """A 300k-document corpus (ingested Parquet with a vector column) and its PCA map, also
        stored under the default UMAP's parameters: the page opens on that stored map instead of
        starting a UMAP of 300,000 points (what is tested here is drawing and selecting)."""
        corpus, record, pca = build_map_store(store, folder, N)
        default = ProjectionAnalysis(store, corpus, record, ProjectionParams()).effective
        if find_projection(store, corpus, record, default) is None:
            _save(store, corpus, record, default, pca.coords, pca.seconds, pca.quality)

    return fill


def test_density_box_selection_and_export_at_300k(
    serve: Callable[..., str], page: Page, tmp_path: Path
) -> None:
    db = tmp_path / "million.duckdb"
    url = serve(db=db, fill=_fill(tmp_path))
    snapshot = tmp_path / "snapshot.duckdb"  # read by the test while the server holds db
    shutil.copyfile(db, snapshot)

    page.goto(f"{url}/map")
    plot = page.locator(".js-plotly-plot").first
    expect(plot).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Showing the density of all 300,000 points")).to_be_visible()
    expect(plot.locator("g.imagelayer image")).to_have_count(1)
    expect(page.locator("svg text.legendtext", has_text="class 00")).to_have_count(1)
    expect(page.get_by_role("heading", name="Selected documents (0)")).to_be_visible()

    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0)  # the run is over
    plot.hover()
    page.locator('.modebar-btn[data-title="Box Select"]').first.click()
    page.wait_for_function(IN_BOX_SELECT)
    plot.evaluate(LISTEN_FOR_BOX)
    area = plot.locator(".nsewdrag").first.bounding_box()
    assert area is not None
    start = (area["x"] + area["width"] * 0.35, area["y"] + area["height"] * 0.3)
    end = (area["x"] + area["width"] * 0.6, area["y"] + area["height"] * 0.55)
    (x0, y0), (x1, y1) = plot.evaluate(DATA_AT, [start, end])
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=5)
    page.mouse.move(*end, steps=5)
    page.mouse.up()

    drawn = page.wait_for_function("() => window.drawnBox", timeout=10_000).json_value()
    # The box is the drag's, give or take the pixel where plotly starts a drag.
    for dragged, made in (
        ((x0, x1), (drawn[0][0], drawn[1][0])),
        ((y0, y1), (drawn[0][1], drawn[1][1])),
    ):
        size = abs(dragged[1] - dragged[0])
        assert np.allclose(sorted(dragged), sorted(made), atol=0.02 * size), (dragged, made)
    (x0, y0), (x1, y1) = drawn
    with duckdb.connect(str(snapshot), read_only=True) as con:
        expected = con.execute(
            "SELECT count(*) FROM projection_coords c JOIN projections p USING (projection_id) "
            "WHERE p.method = 'umap' AND c.x BETWEEN ? AND ? AND c.y BETWEEN ? AND ?",
            [min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)],
        ).fetchall()[0][0]
    assert 1_000 < expected < N
    heading = page.get_by_role("heading", name=re.compile(r"Selected documents \([\d,]+\)"))
    expect(heading).not_to_have_text("Selected documents (0)", timeout=60_000)
    shown = int(re.sub(r"\D", "", heading.inner_text()))
    assert shown == expected
    expect(page.get_by_text(f"{expected:,} documents; rows 1 to 1,000")).to_be_visible()

    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download CSV").click()
    path = download.value.path()
    assert download.value.suggested_filename == "million-selection.csv"
    lines = Path(path).read_bytes().split(b"\r\n")
    assert lines[0] == b"doc_id,text,n_tokens,label" and lines[-1] == b""
    assert len(lines) - 2 == expected

    page.get_by_role("button", name="Zoom to the selection").click()
    expect(
        page.get_by_text(f"Showing the density of all {expected:,} points in this view")
    ).to_be_visible()
    page.get_by_role("button", name="Show the whole map").click()
    expect(page.get_by_text("Showing the density of all 300,000 points")).to_be_visible()
    expect(page.get_by_text("Traceback")).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.screenshot(path="/tmp/map_million_e2e.png", full_page=True)


def test_the_density_is_drawn_the_right_way_up(page: Page) -> None:
    """Points only in the upper left: the picture must be there, not mirrored to the lower left
    (plotly places a source image by its own rule, which only a browser shows)."""
    rng = np.random.default_rng(0)
    xy = np.column_stack([rng.uniform(-1, -0.2, 400_000), rng.uniform(0.2, 1, 400_000)])
    view = density_map_figure(
        xy, np.arange(len(xy)), Extent(-1, 1, -1, 1), DrawnPoints(np.empty(0, int), [])
    )
    page.set_content(pio.to_html(view.figure, include_plotlyjs=True, full_html=True))
    area = page.locator(".nsewdrag").first.bounding_box()
    assert area is not None
    shot = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=area))).convert("RGB"), float)
    rows, columns = shot.shape[0] // 4, shot.shape[1] // 4
    upper_left = shot[rows : 2 * rows - 4, columns : 2 * columns - 4].mean()
    lower_left = shot[2 * rows + 4 : 3 * rows, columns : 2 * columns - 4].mean()
    assert lower_left > 250 > upper_left + 40  # white below, coloured above
