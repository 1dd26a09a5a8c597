"""The map scatter: colouring, doc ids in customdata, escaping, sampling and trace types."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.map.figures import (
    DEFAULT_CATEGORIES,
    MAX_CATEGORIES,
    OTHER_COLOUR,
    MapView,
    category_colours,
    map_figure,
)
from analysis.output.style import PALETTE


def _points(n: int, dims: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, dims)), np.arange(n) * 10 + 7, [f"text {i}" for i in range(n)]


def _legend(view: MapView) -> list[str]:
    """Trace names in legend order: by legendrank (plotly's default 1000), then trace order."""
    traces = sorted(view.figure.data, key=lambda trace: trace.legendrank or 1000)
    return [trace.name for trace in traces]


def _data_traces(view: MapView) -> list:
    return [trace for trace in view.figure.data if trace.name != "search results"]


def test_categorical_colour_gives_one_trace_per_category_with_escaped_names():
    coords, ids, texts = _points(9)
    color = pd.Series(["a", "<b>x</b>", "c"] * 3)
    view = map_figure(coords, ids, texts, color=color, color_name="label <i>")
    names = [trace.name for trace in view.figure.data]
    assert sorted(names) == sorted(["a", "&lt;b&gt;x&lt;/b&gt;", "c"])
    assert view.figure.layout.legend.itemsizing == "constant"
    assert view.figure.layout.legend.title.text == "label &lt;i&gt;"
    assert "<b>x</b>" not in view.figure.to_json()


def test_missing_category_is_its_own_grey_trace():
    coords, ids, texts = _points(4)
    view = map_figure(coords, ids, texts, color=pd.Series(["a", None, "b", "a"]))
    missing = [trace for trace in view.figure.data if trace.name == "(missing)"]
    assert len(missing) == 1
    assert list(missing[0].customdata) == [ids[1]]


def test_small_integer_column_is_categorical_and_many_values_are_lumped():
    coords, ids, texts = _points(200)
    few = map_figure(coords, ids, texts, color=pd.Series(np.arange(200) % 5))
    assert len(few.figure.data) == 5
    many = map_figure(coords, ids, texts, color=pd.Series([f"w{i}" for i in range(200)]))
    assert len(many.figure.data) == DEFAULT_CATEGORIES + 1
    assert _legend(many)[-1] == "other (180 values)"
    assert many.figure.data[0].name == "other (180 values)"  # drawn first: under the colours
    assert "others (180 points) in grey as 'other'" in many.figure.layout.meta["caption"]


def _colours(view: MapView) -> dict[str, str]:
    return {trace.name: trace.marker.color for trace in view.figure.data}


def test_many_classes_keep_distinct_colours_most_frequent_first_and_the_tail_is_other():
    """29 classes (the tour's quotes): art and law, computers and linux shared a colour."""
    coords, ids, texts = _points(580)
    sizes = np.arange(29, 0, -1) + 5  # 34 down to 6: class c0 is the largest
    values = np.repeat([f"c{i}" for i in range(29)], sizes)
    color = pd.Series(np.random.default_rng(1).permutation(values))
    view = map_figure(coords, ids, texts, color=color)
    names = _legend(view)
    assert names == [f"c{i}" for i in range(DEFAULT_CATEGORIES)] + ["other (9 values)"]
    colours = _colours(view)
    named = [colours[f"c{i}"] for i in range(DEFAULT_CATEGORIES)]
    assert len(set(named)) == DEFAULT_CATEGORIES  # no two classes share a colour
    assert colours["other (9 values)"] == OTHER_COLOUR and OTHER_COLOUR not in named
    fewer = map_figure(coords, ids, texts, color=color, max_categories=5)
    assert _legend(fewer)[-1] == "other (24 values)"
    assert [_colours(fewer)[f"c{i}"] for i in range(5)] == list(PALETTE[:5])  # house palette
    every = map_figure(coords, ids, texts, color=color.where(color.isin(["c0", "c1"]), "c2"))
    assert len(every.figure.data) == 3 and "other" not in every.figure.layout.meta["caption"]


def test_the_number_of_coloured_classes_is_bounded():
    coords, ids, texts = _points(5)
    for wrong in (0, MAX_CATEGORIES + 1):
        with pytest.raises(ValueError, match="max_categories must be 1 to"):
            map_figure(coords, ids, texts, color=pd.Series(list("abcde")), max_categories=wrong)
    assert len(set(category_colours(MAX_CATEGORIES))) == MAX_CATEGORIES
    with pytest.raises(ValueError, match="at most 20 distinct category colours"):
        category_colours(MAX_CATEGORIES + 1)


def test_long_class_names_are_cut_in_the_legend_but_whole_in_the_hover():
    coords, ids, texts = _points(2)
    long = "a very long label " * 5
    view = map_figure(coords, ids, texts, color=pd.Series([long, "short"]), color_name="label")
    legend = {trace.name for trace in view.figure.data}
    assert "short" in legend and all(len(name) <= 40 for name in legend)
    cut = next(name for name in legend if name != "short")
    assert cut.endswith("…") and " ".join(long.split()).startswith(cut[:-1])
    hover = next(trace.text[0] for trace in view.figure.data if trace.name == cut)
    assert "label: a very long label a very long label a very long label" in hover


def test_the_colour_column_is_not_repeated_in_the_hover():
    coords, ids, texts = _points(2)
    labels = pd.Series(["x", "y"])
    fields = pd.DataFrame({"topic": labels})
    view = map_figure(coords, ids, texts, color=labels, color_name="topic", hover_fields=fields)
    assert [trace.text[0].count("topic: ") for trace in view.figure.data] == [1, 1]


def test_numeric_colour_gives_one_trace_with_a_colorbar():
    coords, ids, texts = _points(50)
    view = map_figure(coords, ids, texts, color=pd.Series(np.linspace(0, 1, 50)), color_name="s")
    assert len(view.figure.data) == 1
    marker = view.figure.data[0].marker
    assert marker.showscale is True
    assert marker.colorbar.title.text == "s"
    assert len(marker.color) == 50


def test_customdata_holds_doc_ids_in_trace_order():
    coords, ids, texts = _points(12)
    color = pd.Series(list("abc") * 4)
    view = map_figure(coords, ids, texts, color=color)
    for trace in view.figure.data:
        rows = np.flatnonzero(color.to_numpy() == trace.name)
        assert list(trace.customdata) == list(ids[rows])
        assert np.allclose(trace.x, coords[rows, 0])
        assert list(trace.text) == [f"text {i}<br>colour: {trace.name}" for i in rows]


def test_hover_text_is_escaped_truncated_and_wrapped():
    coords, ids, _ = _points(3)
    texts = ["<script>alert(1)</script> " + "word " * 100, "a & b", "x" * 150]
    fields = pd.DataFrame({"<col>": ["<v>", "ok", None]})
    view = map_figure(coords, ids, texts, hover_fields=fields)
    assert "<script>" not in view.figure.to_json()
    hover = list(view.figure.data[0].text)
    document = hover[0].split("<br>&lt;col&gt;: ")[0]
    assert document.startswith("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert document.endswith("…")
    assert len(document.replace("<br>", " ")) < 230
    assert all(len(line) <= 60 for line in hover[2].split("<br>")[:-1])
    assert hover[1] == "a &amp; b<br>&lt;col&gt;: ok"
    assert hover[0].endswith("<br>&lt;col&gt;: &lt;v&gt;")
    assert hover[2].endswith("<br>&lt;col&gt;: (missing)")


def test_title_caption_and_axis_names_are_escaped():
    coords, ids, texts = _points(5)
    view = map_figure(
        coords, ids, texts, title="<b>t</b>", caption="<i>c</i>", axis_names=("UMAP <1>", "U 2")
    )
    layout = view.figure.layout
    assert layout.title.text == "&lt;b&gt;t&lt;/b&gt;"
    assert layout.meta["caption"] == "&lt;i&gt;c&lt;/i&gt;"
    assert layout.xaxis.title.text == "UMAP &lt;1&gt;"
    assert layout.xaxis.showticklabels is False
    assert layout.uirevision


def test_dragging_zooms_so_a_click_selects_a_point():
    """Streamlit's chart turns click selection off in box / lasso drag mode (see _layout)."""
    coords, ids, texts = _points(5)
    assert map_figure(coords, ids, texts).figure.layout.dragmode == "zoom"


def test_sampling_keeps_highlighted_points_and_says_so():
    coords, ids, texts = _points(1_000)
    highlight = ids[[3, 500, 999]]
    view = map_figure(coords, ids, texts, highlight=highlight, max_points=100, seed=4, caption="m")
    assert (view.drawn, view.total, view.sampled) == (100, 1_000, True)
    drawn = np.concatenate([trace.customdata for trace in _data_traces(view)])
    assert drawn.size == 100
    assert set(highlight) <= set(drawn)
    top = view.figure.data[-1]
    assert top.name == "search results"
    assert sorted(top.customdata) == sorted(highlight)
    assert top.marker.size > view.figure.data[0].marker.size
    assert (
        "drawn: 100 of 1,000 points (uniform sample, seed 4)" in view.figure.layout.meta["caption"]
    )
    again = map_figure(coords, ids, texts, highlight=highlight, max_points=100, seed=4)
    assert list(again.figure.data[0].customdata) == list(view.figure.data[0].customdata)


def test_no_sampling_below_the_cap():
    coords, ids, texts = _points(100)
    view = map_figure(coords, ids, texts, highlight=np.array([], dtype=int), max_points=100)
    assert (view.drawn, view.total, view.sampled) == (100, 100, False)
    assert len(view.figure.data) == 1
    assert "drawn:" not in view.figure.layout.meta["caption"]


def test_three_dimensions_give_scatter3d_and_two_give_webgl():
    coords, ids, texts = _points(20, dims=3)
    view3 = map_figure(coords, ids, texts, highlight=ids[:2], highlight_name="hits <3")
    assert {trace.type for trace in view3.figure.data} == {"scatter3d"}
    assert view3.figure.data[-1].name == "hits &lt;3"
    assert list(view3.figure.data[0].z) == list(coords[:, 2])
    assert view3.figure.layout.scene.xaxis.showticklabels is False
    view2 = map_figure(coords[:, :2], ids, texts)
    assert {trace.type for trace in view2.figure.data} == {"scattergl"}


def test_point_size_shrinks_with_n():
    sizes = [
        map_figure(*_points(n), max_points=n).figure.data[0].marker.size
        for n in (10, 5_000, 150_000)
    ]
    assert sizes[0] == 7 and sizes[-1] == 2 and sizes[0] > sizes[1] > sizes[2]


def test_misaligned_inputs_are_refused():
    coords, ids, texts = _points(5)
    with pytest.raises(ValueError, match="texts"):
        map_figure(coords, ids, texts[:4])
    with pytest.raises(ValueError, match="shape"):
        map_figure(coords[:, :1], ids, texts)


def test_fifty_thousand_points_build():
    coords, ids, texts = _points(50_000)
    color = pd.Series(np.arange(50_000) % 10).map(lambda i: f"class {i}")
    view = map_figure(coords, ids, texts, color=color, color_name="label")
    assert len(view.figure.data) == 10
    assert sum(len(trace.customdata) for trace in view.figure.data) == 50_000
    assert not view.sampled
