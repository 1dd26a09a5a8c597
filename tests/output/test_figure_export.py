"""Figure export through kaleido + Debian Chromium: valid files of the requested size, offline."""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
import time
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from PIL import Image
from plotly.offline import get_plotlyjs

from analysis.core.errors import UserError
from analysis.corpus.figures import label_counts, length_histogram
from analysis.map.figures import map_figure
from analysis.output import figure_files as figure_export
from analysis.output.figure_files import (
    ExportUnavailable,
    export_figure,
    export_figures,
    export_filename,
    figure_html,
)
from tests.output.formats import pdf_pages, png_size

SVG_NS = "{http://www.w3.org/2000/svg}"
PT_PER_PX = 0.75  # Chromium prints CSS pixels at 96 dpi onto 72 dpi PDF points


@pytest.fixture(scope="module")
def histogram() -> go.Figure:
    lengths = np.random.default_rng(0).integers(5, 400, 300)
    return length_histogram(lengths, "stdlib_docs")


@pytest.mark.parametrize("scale", [1, 2, 3])
def test_png_has_the_requested_pixel_size(histogram: go.Figure, scale: int) -> None:
    data = export_figure(histogram, "png", scale=scale, width=640, height=400)
    assert png_size(data) == (640 * scale, 400 * scale)


def test_png_defaults_to_report_resolution(histogram: go.Figure) -> None:
    """No size given: the house width, the figure's own height, twice the pixels."""
    width, height = figure_export.DEFAULT_WIDTH, histogram.layout.height
    assert png_size(export_figure(histogram, "png")) == (2 * width, 2 * height)


def test_svg_is_xml_with_an_svg_root_of_the_requested_size(histogram: go.Figure) -> None:
    root = ET.fromstring(export_figure(histogram, "svg", width=640, height=400))
    assert root.tag == f"{SVG_NS}svg"
    assert (root.get("width"), root.get("height")) == ("640", "400")
    assert root.get("viewBox") == "0 0 640 400"
    texts = "".join(root.itertext())
    assert "Text lengths" in texts and "Corpus stdlib_docs" in texts  # title and caption


def test_pdf_has_one_page_of_the_requested_size(histogram: go.Figure) -> None:
    data = export_figure(histogram, "pdf", width=640, height=400)
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1
    assert pdf_pages(data) == [(640 * PT_PER_PX, 400 * PT_PER_PX)]
    assert data.rstrip().endswith(b"%%EOF")


def test_webgl_map_renders_in_headless_chromium() -> None:
    """The map is scattergl: a blank PNG here would mean WebGL is off in the export browser."""
    rng = np.random.default_rng(1)
    coords = rng.standard_normal((500, 2))
    view = map_figure(coords, np.arange(500), ["text"] * 500, title="map", caption="caption")
    data = export_figure(view.figure, "png", scale=1, width=400, height=300)
    assert png_size(data) == (400, 300)
    with Image.open(io.BytesIO(data)) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16) or []
    blue = [count for count, rgb in colours if rgb[2] > 150 and rgb[0] < 100]
    assert sum(blue) > 500, "no blue map points in the PNG"


def test_html_is_interactive_and_offline(histogram: go.Figure) -> None:
    """plotly.js inline; outside it (its code names tile servers it never calls here) no URL."""
    page = figure_html(histogram)
    assert page.count(get_plotlyjs()) == 1
    ours = page.replace(get_plotlyjs(), "")
    assert not re.search(r"<script[^>]+src=", ours) and "<link" not in ours
    assert "http://" not in ours and "https://" not in ours
    assert "mathjax" not in ours.replace("MathJaxConfig", "").lower()
    assert "Plotly.newPlot" in ours and '"displaylogo":false' in ours.replace(" ", "")
    fragment = figure_html(histogram, full=False)
    assert get_plotlyjs()[:500] not in fragment and "<html" not in fragment
    assert "Plotly.newPlot" in fragment


def test_export_filename_is_a_safe_slug() -> None:
    assert (
        export_filename("stdlib_docs", "map", "all-MiniLM-L6-v2", "png", date="2026-11-22")
        == "stdlib_docs-map-all-MiniLM-L6-v2-2026-11-22.png"
    )
    name = export_filename("my corpus/../x", "labels-x", "/models/st model", "SVG", "2026-01-02")
    assert name == "my_corpus_.._x-labels-x-models_st_model-2026-01-02.svg"
    assert export_filename("корпус", "lengths", None, "pdf", "2026-01-02") == (
        "корпус-lengths-2026-01-02.pdf"
    )
    stamp = dt.datetime(2026, 3, 4, 5, 6)
    assert export_filename("c", "map", "", "html", stamp) == "c-map-2026-03-04.html"
    assert export_filename("", "", "", "png", "2026-01-02") == "corpus-chart-2026-01-02.png"
    assert re.fullmatch(r"c-map-\d{4}-\d\d-\d\d\.png", export_filename("c", "map", None, "png"))
    with pytest.raises(UserError, match="Unknown export format 'gif'"):
        export_filename("c", "map", None, "gif")


def test_unknown_format_and_bad_scale_are_user_errors(histogram: go.Figure) -> None:
    with pytest.raises(UserError, match="choose png, svg, pdf"):
        export_figure(histogram, "html")
    with pytest.raises(UserError, match="scale must be positive"):
        export_figure(histogram, "png", scale=0)


def test_missing_chromium_gives_the_install_hint_and_html_still_works(
    monkeypatch, histogram: go.Figure
) -> None:
    monkeypatch.setattr(figure_export, "find_chromium", lambda: None)
    with pytest.raises(ExportUnavailable) as caught:
        export_figure(histogram, "png")
    assert isinstance(caught.value, UserError)
    assert "apt-get install chromium" in caught.value.message
    assert "HTML export works without it" in caught.value.message
    assert "Plotly.newPlot" in figure_html(histogram)


def test_browser_lookup_prefers_browser_path_and_never_downloads(monkeypatch, tmp_path) -> None:
    fake = tmp_path / "my-chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("BROWSER_PATH", str(fake))
    assert figure_export.find_chromium() == str(fake)
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "missing"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(figure_export, "DEBIAN_CHROMIUM", str(tmp_path / "nope"))
    assert figure_export.find_chromium() is None


def test_a_browser_that_fails_to_start_is_a_user_error(monkeypatch, histogram) -> None:
    """A broken browser must not hang a page: the error comes at once, the next call recovers."""
    figure_export.shutdown()
    monkeypatch.setenv("BROWSER_PATH", "/bin/false")
    with pytest.raises(ExportUnavailable, match="could not render the figure"):
        export_figure(histogram, "png")
    monkeypatch.delenv("BROWSER_PATH")
    assert png_size(export_figure(histogram, "png", scale=1, width=300, height=200)) == (300, 200)


def test_concurrent_sessions_share_one_browser(histogram: go.Figure) -> None:
    results: dict[int, bytes] = {}

    def work(i: int) -> None:
        results[i] = export_figure(histogram, "png", scale=1, width=300 + i, height=200)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert {i: png_size(data) for i, data in results.items()} == {
        i: (300 + i, 200) for i in range(4)
    }


@pytest.mark.slow
def test_ten_pngs_after_the_first(capsys) -> None:
    """Measured, not asserted: the issue asks for 10 PNGs in under 10 s after the first."""
    rng = np.random.default_rng(2)
    labels = pd.Series(rng.choice(list("abcde"), 200))
    figures = [length_histogram(rng.integers(5, 400, 500), f"corpus {i}") for i in range(5)]
    figures += [label_counts(labels, "c", f"label {i}") for i in range(5)]
    figure_export.shutdown()
    start = time.perf_counter()
    export_figure(figures[0], "png")
    first = time.perf_counter() - start
    start = time.perf_counter()
    images = export_figures(figures, "png")
    ten = time.perf_counter() - start
    assert all(png_size(image) == (1800, 960) for image in images)
    with capsys.disabled():
        print(f"\nPNG export: first {first:.2f} s (browser start), then 10 figures {ten:.2f} s")


def test_house_style_keeps_reference_lines_opaque() -> None:
    """simple_white would draw every shape at opacity 0.3: chance lines must stay visible."""
    import plotly.graph_objects as go

    from analysis.output.style import style_figure

    fig = go.Figure()
    fig.add_hline(y=0.5, line={"width": 1})
    fig.add_vline(x=1, opacity=0.5)
    style_figure(fig, "title", "caption")
    assert [shape.opacity for shape in fig.layout.shapes] == [1, 0.5]
