"""The embedding map: one scatter of every document, coloured by a column, with hover text.

Maps are the figure people stare at longest and select from, so three things matter here beyond
looks: every point carries its doc id in ``customdata`` (Streamlit reports selections per trace,
and only customdata survives that), no user text reaches plotly unescaped, and large maps stay
responsive (WebGL, a seeded sample above a cap, hover text built in one cheap pass).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.map.density import DensityImage, Extent, density_image
from analysis.output.style import PALETTE, escape, style_figure

# Points drawn one by one at most (then a density in 2-D, a seeded sample in 3-D): a point costs
# ~170 bytes of JSON with its hover text, so 50,000 are ~8.4 MB (measured in map.map_drawing).
MAX_DRAWN_POINTS = 50_000
INTEGER_CLASSES = 30  # an integer column with at most this many values is coloured as classes
# Kelly's (1965) colours of maximum contrast, in his order (any first n are as far apart as he
# could make them), without white (the background) and grey (kept for "other" and missing).
# The house palette has 12 colours; a map with more classes takes these 20, which stay apart.
KELLY_COLOURS = (
    "#222222",
    "#F3C300",
    "#875692",
    "#F38400",
    "#A1CAF1",
    "#BE0032",
    "#C2B280",
    "#008856",
    "#E68FAC",
    "#0067A5",
    "#F99379",
    "#604E97",
    "#F6A600",
    "#B3446C",
    "#DCD300",
    "#882D17",
    "#8DB600",
    "#654522",
    "#E25822",
    "#2B3D26",
)
MAX_CATEGORIES = len(KELLY_COLOURS)  # more named classes than colours that stay distinct: no
DEFAULT_CATEGORIES = MAX_CATEGORIES
LEGEND_LAST = 2000  # plotly lists legend items by rank (default 1000), then by trace order
LEGEND_CHARS = 40  # a longer class name is cut in the legend (hover shows it whole)
HOVER_CHARS = 200
HOVER_LINE = 60
FIELD_CHARS = 80
MISSING = "(missing)"
MISSING_COLOUR = "#BBBBBB"
OTHER_COLOUR = "#777777"
HIGHLIGHT_OUTLINE = "#000000"
DRAGMODE = "zoom"  # see _layout: a click selects a point only outside box / lasso mode
UIREVISION = "embedlens-map"  # constant, so zoom and pan survive Streamlit reruns
HOVERTEMPLATE = "%{text}<br>doc %{customdata}<extra></extra>"


@dataclass(frozen=True)
class MapView:
    """The figure plus how much of the map it shows, so pages can say so next to it."""

    figure: go.Figure
    drawn: int
    total: int
    sampled: bool
    density: DensityImage | None = None  # the density layer of a large 2-D map


@dataclass(frozen=True)
class _Categories:
    """Per-point category codes (-1 = missing) and the escaped legend name of each code."""

    codes: np.ndarray
    names: list[str]
    lumped: int  # how many distinct values were folded into the last, "other", code
    other_points: int  # how many points those values cover


def map_figure(
    coords: np.ndarray,
    doc_ids: np.ndarray,
    texts: Sequence[str],
    color: pd.Series | None = None,
    color_name: str | None = None,
    hover_fields: pd.DataFrame | None = None,
    highlight: np.ndarray | None = None,
    highlight_name: str = "search results",
    title: str = "",
    caption: str = "",
    max_points: int = MAX_DRAWN_POINTS,
    seed: int = 0,
    point_size: float | None = None,
    axis_names: tuple[str, ...] = ("dim 1", "dim 2", "dim 3"),
    height: int = 640,
    max_categories: int = DEFAULT_CATEGORIES,
) -> MapView:
    """Scatter of a 2-D or 3-D projection; title, caption and all labels are plain text.

    ``color`` and ``hover_fields`` are aligned with ``coords`` by position, not by index.
    Categorical colours (non-numeric, bool, or integers with at most INTEGER_CLASSES values) give
    one trace per category, so the legend can toggle them, most frequent first; beyond the
    ``max_categories`` most frequent (at most MAX_CATEGORIES) the rest share one grey "other".
    Numbers give one colour-scaled trace.
    Above ``max_points`` a seeded uniform sample is drawn, always including highlighted points
    (so more than ``max_points`` are drawn if more than that are highlighted).
    """
    coords, doc_ids = _checked(coords, doc_ids, texts, color, hover_fields, max_points, axis_names)
    if not 1 <= max_categories <= MAX_CATEGORIES:
        raise ValueError(f"max_categories must be 1 to {MAX_CATEGORIES}, got {max_categories}")
    total = len(coords)
    highlighted = np.isin(doc_ids, highlight) if highlight is not None else np.zeros(total, bool)
    rows = sample_rows(highlighted, max_points, seed)
    size = point_size if point_size is not None else _default_point_size(rows.size)
    name = color_name or "colour"
    colouring = _colouring(color, name, max_categories)
    hover = _hover_text(
        np.asarray(texts, dtype=object)[rows],
        _hover_columns(_rows_of(hover_fields, rows), _rows_of(color, rows), name),
    )
    points = _Points(coords[rows], doc_ids[rows], hover)
    traces = colouring.traces(points, rows, size)
    if highlighted[rows].any():
        traces.append(_highlight_trace(points, highlighted[rows], escape(highlight_name), size))

    fig = go.Figure(data=traces)
    _layout(fig, coords.shape[1], axis_names, colouring.legend_title)
    notes = list(colouring.notes)
    if rows.size < total:
        notes.append(f"drawn: {rows.size:,} of {total:,} points (uniform sample, seed {seed}).")
    full_caption = " ".join([escape(caption), *notes]).strip()
    style_figure(fig, escape(title), full_caption, height)
    return MapView(figure=fig, drawn=int(rows.size), total=total, sampled=rows.size < total)


@dataclass(frozen=True)
class DrawnPoints:
    """Points drawn over a density layer: their rows in the map, and their texts and hover
    fields aligned with those rows (read for them alone, not for the whole corpus)."""

    rows: np.ndarray
    texts: Sequence[str]
    hover_fields: pd.DataFrame | None = None


def density_map_figure(
    coords: np.ndarray,
    doc_ids: np.ndarray,
    view: Extent,
    on_top: DrawnPoints,
    color: pd.Series | None = None,
    color_name: str | None = None,
    highlight: np.ndarray | None = None,
    highlight_name: str = "search results",
    title: str = "",
    caption: str = "",
    axis_names: tuple[str, ...] = ("dim 1", "dim 2"),
    height: int = 640,
    max_categories: int = DEFAULT_CATEGORIES,
) -> MapView:
    """A 2-D map drawn as the density of every point inside ``view`` (one server-made image),
    with ``on_top``'s points drawn over it as a scatter (hover, click, search rings).

    Colours mean what they mean in ``map_figure``: classes are ranked over all points, so the
    legend and the points agree with the density, and a numeric scale spans all points.
    """
    coords = np.asarray(coords, dtype=float)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(f"a density map is 2-D, got coordinates of shape {coords.shape}")
    if not 1 <= max_categories <= MAX_CATEGORIES:
        raise ValueError(f"max_categories must be 1 to {MAX_CATEGORIES}, got {max_categories}")
    name = color_name or "colour"
    colouring = _colouring(color, name, max_categories)
    image = colouring.density(coords, view)
    rows = np.asarray(on_top.rows, dtype=np.int64)
    size = _default_point_size(max(rows.size, 1000))
    hover = _hover_text(
        np.asarray(on_top.texts, dtype=object),
        _hover_columns(on_top.hover_fields, _rows_of(color, rows), name),
    )
    points = _Points(coords[rows], np.asarray(doc_ids)[rows], hover)
    traces = [_image_trace(image), *colouring.legend_traces()]
    for trace in colouring.traces(points, rows, size):
        trace["showlegend"] = False
        trace["marker"].pop("showscale", None)
        traces.append(trace)
    if highlight is not None:
        ringed = np.isin(points.doc_ids, highlight)
        if ringed.any():
            traces.append(_highlight_trace(points, ringed, escape(highlight_name), size))
    fig = go.Figure(data=traces)
    _layout(fig, 2, axis_names, colouring.legend_title)
    fig.update_layout(
        xaxis={"range": [view.x0, view.x1]},
        yaxis={"range": [view.y0, view.y1]},
        uirevision=f"{UIREVISION}-{view}",  # a new view resets the browser's own zoom
        legend={"itemclick": False, "itemdoubleclick": False},
        modebar={"add": ["select2d", "lasso2d"]},
    )
    shading = colouring.shading_note or "one colour"
    notes = [
        *colouring.notes,
        f"Density of all {image.points:,} points in this view (of {len(coords):,}), binned "
        f"into {image.columns}x{image.rows} cells: {shading}; opacity grows with the log of "
        f"a cell's count (busiest cell: {image.max_count:,} points).",
    ]
    if rows.size:
        notes.append(f"Drawn on top: {rows.size:,} points with their text.")
    full_caption = " ".join([escape(caption), *notes]).strip()
    style_figure(fig, escape(title), full_caption, height)
    return MapView(
        figure=fig, drawn=int(rows.size), total=len(coords), sampled=False, density=image
    )


def _image_trace(image: DensityImage) -> dict:
    """The density PNG placed on the axes, its first row (the lowest y) at y0."""
    return {
        "type": "image",
        "source": image.source,
        "x0": image.extent.x0 + image.cell_width / 2,
        "dx": image.cell_width,
        "y0": image.extent.y0 + image.cell_height / 2,
        "dy": image.cell_height,
        "hoverinfo": "skip",
        "name": "density",
    }


@dataclass(frozen=True)
class _Colouring:
    """How points are coloured, decided once over all points: none, classes, or a number."""

    name: str
    categories: _Categories | None = None
    values: np.ndarray | None = None
    legend_title: str = ""
    notes: tuple[str, ...] = ()

    @property
    def _class_colours(self) -> tuple[str, ...]:
        assert self.categories is not None
        named = len(self.categories.names) - (1 if self.categories.lumped else 0)
        return (*category_colours(named), OTHER_COLOUR)

    @property
    def shading_note(self) -> str:
        if self.categories is not None:
            return "a cell's colour mixes its classes' colours in proportion to their counts"
        if self.values is not None:
            return f"a cell's colour is its points' mean {self.name}"
        return ""

    def _range(self) -> tuple[float, float]:
        assert self.values is not None
        finite = self.values[np.isfinite(self.values)]
        return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)

    def traces(self, points: _Points, rows: np.ndarray, size: float) -> list:
        if self.categories is not None:
            return _category_traces(points, self.categories, rows, size)
        if self.values is not None:
            return _numeric_traces(points, self.values, rows, escape(self.name), size)
        trace = points.trace(np.arange(rows.size), "documents", _marker(size, PALETTE[0]))
        trace["showlegend"] = False
        return [trace]

    def density(self, coords: np.ndarray, view: Extent) -> DensityImage:
        if self.categories is not None:
            return density_image(
                coords, view, codes=self.categories.codes, colours=self._class_colours
            )
        if self.values is not None:
            return density_image(coords, view, values=self.values, value_range=self._range())
        return density_image(coords, view, colours=(PALETTE[0],))

    def legend_traces(self) -> list:
        """Legend entries (or the colour bar) for the density, as empty traces."""
        if self.categories is not None:
            colours = self._class_colours
            named = len(colours) - 1
            entries = [
                (label, colours[min(code, named)])
                for code, label in enumerate(self.categories.names)
            ]
            if (self.categories.codes < 0).any():
                entries.append((MISSING, MISSING_COLOUR))
            return [
                {
                    "type": "scattergl",
                    "mode": "markers",
                    "x": [None],
                    "y": [None],
                    "name": label,
                    "marker": _marker(8, colour),
                    "hoverinfo": "skip",
                }
                for label, colour in entries
            ]
        if self.values is not None:
            low, high = self._range()
            marker = _marker(
                8,
                [low],
                colorscale="Viridis",
                cmin=low,
                cmax=high,
                showscale=True,
                colorbar={"title": {"text": escape(self.name)}, "thickness": 14},
            )
            return [
                {
                    "type": "scattergl",
                    "mode": "markers",
                    "x": [None],
                    "y": [None],
                    "marker": marker,
                    "showlegend": False,
                    "hoverinfo": "skip",
                }
            ]
        return []


def _colouring(color: pd.Series | None, name: str, max_categories: int) -> _Colouring:
    label = escape(name)
    if color is None:
        return _Colouring(name)
    if not _is_categorical(color):
        return _Colouring(name, values=_as_float(color))
    categories = _categories(color, max_categories)
    notes = ()
    if categories.lumped:
        notes = (
            f"Colour: the {len(categories.names) - 1} most frequent values of {label}; "
            f"{categories.lumped:,} others ({categories.other_points:,} points) in grey as "
            "'other'.",
        )
    return _Colouring(name, categories=categories, legend_title=label, notes=notes)


def _checked(
    coords: np.ndarray,
    doc_ids: np.ndarray,
    texts: Sequence[str],
    color: pd.Series | None,
    hover_fields: pd.DataFrame | None,
    max_points: int,
    axis_names: tuple[str, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Misaligned inputs would silently attach hover text to the wrong point: refuse them."""
    coords = np.asarray(coords, dtype=float)
    doc_ids = np.asarray(doc_ids)
    if coords.ndim != 2 or coords.shape[1] not in (2, 3):
        raise ValueError(f"coords must be [n, 2] or [n, 3], got shape {coords.shape}")
    n = len(coords)
    lengths = {"doc_ids": len(doc_ids), "texts": len(texts)}
    if color is not None:
        lengths["color"] = len(color)
    if hover_fields is not None:
        lengths["hover_fields"] = len(hover_fields)
    wrong = {name: length for name, length in lengths.items() if length != n}
    if wrong:
        raise ValueError(f"{n} coordinates but lengths {wrong}")
    if len(axis_names) < coords.shape[1]:
        raise ValueError(f"{coords.shape[1]} dimensions but axis names {axis_names}")
    if max_points < 1:
        raise ValueError(f"max_points must be positive, got {max_points}")
    return coords, doc_ids


def sample_rows(highlighted: np.ndarray, max_points: int, seed: int) -> np.ndarray:
    """Rows to draw, in data order; a uniform sample never hides a search result."""
    total = highlighted.size
    if total <= max_points:
        return np.arange(total)
    forced = np.flatnonzero(highlighted)
    others = np.flatnonzero(~highlighted)
    k = min(max(max_points - forced.size, 0), others.size)
    picked = np.random.default_rng(seed).choice(others, size=k, replace=False)
    return np.sort(np.concatenate([forced, picked]))


def _default_point_size(n: int) -> float:
    """Shrink markers as the map fills up: 7 px up to 1k points, 2 px from 100k, log-linear."""
    return float(np.clip(7.0 - 2.5 * (np.log10(max(n, 1)) - 3.0), 2.0, 7.0))


def _hover_text(documents: np.ndarray, fields: list[tuple[str, pd.Series]]) -> np.ndarray:
    """Escaped document text followed by one escaped 'name: value' line per field; all aligned
    with the drawn points."""
    hover = np.fromiter(map(_hover_document, documents), dtype=object, count=len(documents))
    for name, values in fields:
        hover = hover + f"<br>{escape(name)}: " + _display_values(values)
    return hover


def _rows_of(values: pd.Series | pd.DataFrame | None, rows: np.ndarray):
    return None if values is None else values.iloc[rows]


def _hover_document(text: object) -> str:
    """Whitespace collapsed, cut at HOVER_CHARS with a visible mark, wrapped, escaped.

    A plain per-text loop: pyarrow regex replace, numpy.strings and textwrap all measured slower
    for 50k texts (up to tenfold), and this runs on every rerun that redraws the map.
    """
    if not isinstance(text, str):
        return ""
    short = " ".join(text[:HOVER_CHARS].split())
    if len(text) > HOVER_CHARS:
        short = short[: HOVER_CHARS - 1].rstrip() + "…"
    if len(short) <= HOVER_LINE:
        return html.escape(short, quote=False)
    return html.escape(_wrap(short), quote=False).replace("\n", "<br>")


def _wrap(text: str) -> str:
    """Break at the last space within HOVER_LINE characters; hard-break longer words (URLs, CJK)."""
    lines = []
    start = 0
    while len(text) - start > HOVER_LINE:
        stop = text.rfind(" ", start, start + HOVER_LINE + 1)
        if stop <= start:
            stop = start + HOVER_LINE
            lines.append(text[start:stop])
            start = stop
        else:
            lines.append(text[start:stop])
            start = stop + 1
    lines.append(text[start:])
    return "\n".join(lines)


def _hover_columns(
    hover_fields: pd.DataFrame | None, color: pd.Series | None, color_name: str
) -> list[tuple[str, pd.Series]]:
    """The colour column is shown too (hover gives its real value where the legend says 'other'),
    unless it is one of the hover fields already."""
    columns = [] if hover_fields is None else list(hover_fields.items())
    if color is not None and color_name not in {str(name) for name, _ in columns}:
        columns.append((color_name, color))
    return [(str(name), values) for name, values in columns]


def _display_values(values: pd.Series) -> np.ndarray:
    """Short one-line escaped strings; floats rounded because 17 digits help nobody."""
    if pd.api.types.is_float_dtype(values):
        shown = values.map("{:.4g}".format, na_action="ignore").astype("string")
    else:
        shown = values.astype("string")
    shown = shown.fillna(MISSING).str.replace("[\t\n\r]", " ", regex=True)
    shown = shown.where(shown.str.len() <= FIELD_CHARS, shown.str.slice(0, FIELD_CHARS - 1) + "…")
    escaped = (
        shown.str.replace("&", "&amp;", regex=False)
        .str.replace("<", "&lt;", regex=False)
        .str.replace(">", "&gt;", regex=False)
    )
    return escaped.to_numpy(dtype=object)


def _is_categorical(color: pd.Series) -> bool:
    """Small integer sets (labels, cluster ids) read better as classes than as a colour ramp."""
    if pd.api.types.is_bool_dtype(color) or not pd.api.types.is_numeric_dtype(color):
        return True
    return pd.api.types.is_integer_dtype(color) and color.nunique() <= INTEGER_CLASSES


def _categories(color: pd.Series, limit: int) -> _Categories:
    """Codes and legend names, most frequent first (ties in value order); beyond ``limit``
    values the rest become one last code, "other"."""
    categorical = pd.Categorical(color.reset_index(drop=True))
    codes = np.asarray(categorical.codes, dtype=np.int64)
    names = [str(name) for name in categorical.categories]
    counts = np.bincount(codes[codes >= 0], minlength=len(names))
    order = np.argsort(-counts, kind="stable")
    kept = order[:limit]
    remap = np.full(len(names), kept.size, dtype=np.int64)
    remap[kept] = np.arange(kept.size)
    codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    legend = [_legend_name(names[i]) for i in kept]
    lumped = len(names) - kept.size
    if not lumped:
        return _Categories(codes, legend, lumped=0, other_points=0)
    other_points = int(counts[order[limit:]].sum())
    other = f"other ({lumped:,} value{'' if lumped == 1 else 's'})"
    return _Categories(codes, [*legend, other], lumped, other_points)


def _legend_name(value: str) -> str:
    """Escaped and cut at LEGEND_CHARS, so a long class name cannot squeeze the map."""
    value = " ".join(value.split())
    if len(value) > LEGEND_CHARS:
        value = value[: LEGEND_CHARS - 1].rstrip() + "…"
    return escape(value)


def category_colours(n: int) -> tuple[str, ...]:
    """``n`` distinct colours: the house palette while it lasts, else Kelly's 20."""
    if n <= len(PALETTE):
        return PALETTE[:n]
    if n <= len(KELLY_COLOURS):
        return KELLY_COLOURS[:n]
    raise ValueError(f"at most {len(KELLY_COLOURS)} distinct category colours, asked for {n}")


def _as_float(color: pd.Series) -> np.ndarray:
    return color.to_numpy(dtype=float, na_value=np.nan)


@dataclass(frozen=True)
class _Points:
    """The drawn points; every trace is a subset of them, so customdata stays the doc id."""

    coords: np.ndarray
    doc_ids: np.ndarray
    hover: np.ndarray

    def trace(self, idx: np.ndarray, name: str, marker: dict) -> dict:
        """A trace as a plain dict: plotly validates it once, inside go.Figure."""
        trace = {
            "type": "scattergl" if self.coords.shape[1] == 2 else "scatter3d",
            "mode": "markers",
            "name": name,
            "x": self.coords[idx, 0],
            "y": self.coords[idx, 1],
            "customdata": self.doc_ids[idx],
            "text": self.hover[idx],
            "hovertemplate": HOVERTEMPLATE,
            "marker": marker,
        }
        if self.coords.shape[1] == 3:
            trace["z"] = self.coords[idx, 2]
        return trace


def _marker(size: float, colour: str | np.ndarray, **extra: object) -> dict:
    return {"size": size, "color": colour, "opacity": 0.8, "line": {"width": 0}, **extra}


def _category_traces(
    points: _Points, categories: _Categories, rows: np.ndarray, size: float
) -> list:
    """One trace per category so legend clicks toggle classes. The grey ones ("other", then
    missing) are drawn first, so they never cover a coloured point, and listed last."""
    codes = categories.codes[rows]
    named = len(categories.names) - (1 if categories.lumped else 0)
    colours = [*category_colours(named), OTHER_COLOUR]
    coloured, grey = [], []
    for code, name in enumerate(categories.names):
        idx = np.flatnonzero(codes == code)
        if idx.size:
            (grey if code >= named else coloured).append(
                points.trace(idx, name, _marker(size, colours[code]))
            )
    missing = np.flatnonzero(codes < 0)
    if missing.size:
        grey.append(points.trace(missing, MISSING, _marker(size, MISSING_COLOUR)))
    for trace in grey:
        trace["legendrank"] = LEGEND_LAST
    return [*grey, *coloured]


def _numeric_traces(
    points: _Points, values: np.ndarray, rows: np.ndarray, label: str, size: float
) -> list:
    """One colour-scaled trace; the scale spans all points, so sampling does not shift it."""
    finite = np.isfinite(values)
    drawn = values[rows]
    present = np.flatnonzero(np.isfinite(drawn))
    traces = []
    if present.size:
        marker = _marker(
            size,
            drawn[present],
            colorscale="Viridis",
            cmin=float(values[finite].min()),
            cmax=float(values[finite].max()),
            showscale=True,
            colorbar={"title": {"text": label}, "thickness": 14},
        )
        traces.append(points.trace(present, label, marker))
        traces[0]["showlegend"] = False
    missing = np.flatnonzero(~np.isfinite(drawn))
    if missing.size:
        traces.append(points.trace(missing, MISSING, _marker(size, MISSING_COLOUR)))
    return traces


def _highlight_trace(points: _Points, mask: np.ndarray, name: str, size: float) -> dict:
    """Outlined rings drawn last, so results stay visible on top of any colouring."""
    marker = {
        "size": size * 2 + 4,
        "color": "rgba(0,0,0,0)",
        "line": {"color": HIGHLIGHT_OUTLINE, "width": 1.5},
    }
    return points.trace(np.flatnonzero(mask), name, marker)


def _layout(fig: go.Figure, dims: int, axis_names: tuple[str, ...], legend_title: str) -> None:
    """Tick labels hidden: projection axes have no units, and numbers on them invite misreading.

    Dragging zooms by default, never selects: Streamlit's chart (1.67, PlotlyChart) turns click
    selection off while the drag mode is box or lasso select, so only in zoom or pan mode does a
    click on a point select it. Box and lasso stay one click away in the mode bar.
    """
    axes = [
        {
            "title": {"text": escape(name)},
            "showticklabels": False,
            "ticks": "",
            "showgrid": False,
            "zeroline": False,
        }
        for name in axis_names[:dims]
    ]
    if dims == 2:
        fig.update_layout(xaxis=axes[0], yaxis=axes[1], dragmode=DRAGMODE)
    else:
        fig.update_layout(scene={"xaxis": axes[0], "yaxis": axes[1], "zaxis": axes[2]})
    fig.update_layout(
        uirevision=UIREVISION,
        legend={"itemsizing": "constant", "title": {"text": legend_title}},
        hovermode="closest",
    )
