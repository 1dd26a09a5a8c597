"""End to end in Debian Chromium: one click on a point, in the map's default drag mode, lists
that document and its nearest neighbours (it used to need a switch to Pan first)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_map import _fill

pytestmark = pytest.mark.browser

# Page position of the first point of the first trace, from plotly's own axes, and the drag mode
# the chart is in; plotly keeps both on the graph div.
FIRST_POINT = """(gd) => {
  const layout = gd._fullLayout;
  const trace = gd._fullData[0];
  const box = gd.getBoundingClientRect();
  return {
    x: box.left + layout._size.l + layout.xaxis.l2p(trace.x[0]),
    y: box.top + layout._size.t + layout.yaxis.l2p(trace.y[0]),
    text: trace.text[0],
    dragmode: layout.dragmode,
  };
}"""


def test_a_click_in_the_default_mode_lists_the_point_and_its_neighbours(
    serve: Callable[..., str], page: Page
) -> None:
    page.goto(f"{serve(fill=_fill)}/map")
    plot = page.locator(".js-plotly-plot").first
    expect(plot).to_be_visible()
    expect(page.locator("svg text", has_text="UMAP map — topics")).to_have_count(1)
    expect(page.get_by_role("heading", name="Selected documents (0)")).to_be_visible()

    point = plot.evaluate(FIRST_POINT)
    assert point["dragmode"] == "zoom"  # the default: no mode-bar button was touched
    page.mouse.move(point["x"], point["y"])  # plotly picks the clicked point from the hover
    expect(page.locator(".hoverlayer .hovertext")).to_have_count(1)
    page.mouse.click(point["x"], point["y"])

    expect(page.get_by_role("heading", name="Selected documents (1)")).to_be_visible()
    expect(page.get_by_text("Nearest neighbours in the original embedding space")).to_be_visible()
    clicked = point["text"].split("<br>")[0]
    tables = page.locator('[data-testid="stDataFrame"]')
    expect(tables).to_have_count(2)  # the selection, then its neighbours
    expect(tables.nth(0).locator("td[role=gridcell]", has_text=clicked)).to_have_count(1)
    neighbours = tables.nth(1).locator("tr").filter(has=page.locator("td[role=gridcell]"))
    expect(neighbours).to_have_count(10)
    expect(tables.nth(1).locator("td[role=gridcell]", has_text=clicked)).to_have_count(0)
    expect(page.get_by_text("Traceback")).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
