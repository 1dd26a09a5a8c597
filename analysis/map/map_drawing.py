"""What the Map page draws for a stored map, reading from the store only what it draws.

Up to DENSITY_ABOVE points every point is drawn with its hover text, as in reports. A larger 2-D
map is drawn as the density of every point (``map.density``), and the points themselves appear
on top once the view holds at most VIEW_POINTS of them; search results are always drawn. A larger
3-D map (plotly has no 3-D density) keeps the seeded uniform sample of ``map_figure``.

The thresholds were measured (2-core reference machine, 120-character texts, one class column):
a scatter costs ~170 bytes of JSON per point with its hover text and ~10 µs to build, so 50,000
points are 8.4 MB and 0.5 s, 100,000 points 17 MB and 0.9 s; the density of 1,000,000 points is
0.5 MB and 0.5 s. Points on top stay fewer (20,000, 3.3 MB) because a box drawn over them sends
each drawn point back to the server.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core.store import Store
from analysis.corpus.corpora import Corpus
from analysis.map.clustering import Clustering
from analysis.map.colours import color_values, hover_columns, projection_view
from analysis.map.density import Extent
from analysis.map.figures import (
    DEFAULT_CATEGORIES,
    MAX_DRAWN_POINTS,
    DrawnPoints,
    MapView,
    density_map_figure,
    sample_rows,
)
from analysis.map.map_rows import colour_frame, document_rows
from analysis.map.projection import Projection

DENSITY_ABOVE = MAX_DRAWN_POINTS  # a 2-D map of more points is drawn as a density
VIEW_POINTS = 20_000  # a density view holding at most this many points draws them on top


def uses_density(projection: Projection) -> bool:
    return projection.params.dims == 2 and projection.n_points > DENSITY_ABOVE


def full_extent(projection: Projection) -> Extent:
    return Extent.around(projection.coords[:, :2])


def draw_map(
    store: Store,
    corpus: Corpus,
    projection: Projection,
    colour: str,
    clustering: Clustering | None = None,
    highlight: np.ndarray | None = None,
    max_categories: int = DEFAULT_CATEGORIES,
    view: Extent | None = None,
    max_points: int = MAX_DRAWN_POINTS,
) -> MapView:
    """The map as the page shows it; ``view`` (density maps only) is the region to show, default
    the whole map; ``max_points``: how many points a 3-D map draws before a seeded sample."""
    n = projection.n_points
    frame = colour_frame(store, corpus, colour)
    color = color_values(frame, colour, clustering)
    fields = hover_columns(corpus)
    highlighted = np.zeros(n, bool)
    if highlight is not None:
        highlighted[np.asarray(highlight, dtype=np.int64)] = True
    if not uses_density(projection):
        rows = sample_rows(highlighted, max_points, projection.params.seed)
        documents = _documents_at(store, corpus, rows, n, fields)
        if color is not None:
            documents[colour] = color.to_numpy()  # a built-in choice (not a column) stays apart
        return projection_view(
            projection, documents, corpus, colour, clustering, highlight, max_categories, max_points
        )
    extent = view or full_extent(projection)
    in_view = np.flatnonzero(extent.contains(projection.coords))
    shown = in_view if in_view.size <= VIEW_POINTS else np.empty(0, np.int64)
    rows = np.union1d(shown, np.flatnonzero(highlighted))
    documents = document_rows(store, corpus, rows, ["text", *fields])
    axis = projection.params.method_name
    return density_map_figure(
        projection.coords,
        np.arange(n),
        extent,
        DrawnPoints(rows, documents["text"].tolist(), documents[fields]),
        color=color,
        color_name=colour,
        highlight=highlight,
        title=f"{axis} map — {corpus.name}",
        caption=projection.caption(),
        axis_names=(f"{axis} 1", f"{axis} 2"),
        max_categories=max_categories,
    )


def _documents_at(
    store: Store, corpus: Corpus, rows: np.ndarray, n: int, fields: list[str]
) -> pd.DataFrame:
    """A frame of all ``n`` documents in doc_id order, read from the store only at ``rows`` (the
    drawn points): elsewhere the text is empty and the fields missing, and nothing shows them."""
    read = document_rows(store, corpus, rows, ["doc_id", "text", *fields])
    if rows.size == n:
        return read
    frame = pd.DataFrame({"doc_id": np.arange(n), "text": ""})
    frame.loc[rows, "text"] = read["text"].to_numpy()
    for name in fields:
        frame[name] = pd.Series(pd.NA, index=frame.index, dtype=read[name].dtype)
        frame.loc[rows, name] = read[name].to_numpy()
    return frame
