"""The Map page's drawing and selection table on a real stored corpus and map, read by doc id."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.core.store import Store, open_store
from analysis.corpus.corpora import load_documents
from analysis.map import map_drawing
from analysis.map.density import Extent
from analysis.map.map_drawing import draw_map, full_extent
from analysis.map.map_rows import colour_frame, document_rows
from analysis.map.selection_table import SelectedDocuments
from bench.million_map import build_map_store
from tests.shared import closed_store

N = 3000


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("drawing")
    return closed_store(folder / "map.duckdb", lambda store: build_map_store(store, folder, N))


@pytest.fixture
def stored(template: Path, tmp_path: Path):
    path = tmp_path / "map.duckdb"
    path.write_bytes(template.read_bytes())
    store = open_store(path)
    from analysis.corpus.corpora import get_corpus
    from analysis.map.projection import ProjectionParams, find_projection
    from analysis.vectors.catalogue import corpus_models

    corpus = get_corpus(store, "million")
    record = corpus_models(store, corpus)[0]
    projection = find_projection(store, corpus, record, ProjectionParams(method="pca"))
    yield store, corpus, projection
    store.close()


def _ids(figure) -> list[int]:
    return sorted(
        int(i) for trace in figure.data if trace.customdata is not None for i in trace.customdata
    )


def test_a_small_map_draws_every_point_with_its_own_text(stored) -> None:
    store, corpus, projection = stored
    view = draw_map(store, corpus, projection, "label")
    assert view.density is None and view.drawn == N
    assert _ids(view.figure) == list(range(N))
    documents = load_documents(store, corpus).set_index("doc_id")
    trace = view.figure.data[-1]
    doc = int(trace.customdata[0])
    assert trace.text[0].startswith(documents.loc[doc, "text"])
    assert f"label: {documents.loc[doc, 'label']}" in trace.text[0]
    assert view.figure.layout.legend.title.text == "label"


def test_a_large_map_is_a_density_of_every_point_with_view_points_on_top(
    stored, monkeypatch
) -> None:
    store, corpus, projection = stored
    monkeypatch.setattr(map_drawing, "DENSITY_ABOVE", 1000)
    monkeypatch.setattr(map_drawing, "VIEW_POINTS", 500)
    whole = draw_map(store, corpus, projection, "label", highlight=np.array([5, 17]))
    assert whole.density is not None and whole.density.points == N
    types = [trace.type for trace in whole.figure.data]
    assert types[0] == "image"
    legend = [
        t.name for t in whole.figure.data if t.type == "scattergl" and t.showlegend is not False
    ]
    assert legend[20:] == ["other (10 values)", "search results"]
    assert all(name.startswith("class ") for name in legend[:20])
    assert _ids(whole.figure) == [5, 5, 17, 17]  # search results only: each point and its ring
    caption = whole.figure.layout.annotations[-1].text
    assert f"Density of all {N:,} points in this view" in caption

    xy = projection.coords.astype(float)
    centre = np.median(xy, axis=0)
    zoom = Extent(centre[0] - 0.05, centre[0] + 0.05, centre[1] - 0.05, centre[1] + 0.05)
    inside = np.flatnonzero(zoom.contains(xy))
    assert 0 < inside.size <= 500
    zoomed = draw_map(store, corpus, projection, "label", view=zoom)
    assert zoomed.density.points == inside.size
    assert _ids(zoomed.figure) == inside.tolist()
    assert list(zoomed.figure.layout.xaxis.range) == [zoom.x0, zoom.x1]
    assert full_extent(projection).contains(xy).all()


def test_a_large_3d_map_draws_a_seeded_sample_with_the_texts_of_those_points(stored) -> None:
    store, corpus, _ = stored
    from analysis.map.projection import ProjectionParams, project
    from analysis.vectors.catalogue import corpus_models

    record = corpus_models(store, corpus)[0]
    cube = project(store, corpus, record, ProjectionParams(method="pca", dims=3))
    view = draw_map(store, corpus, cube, "label", highlight=np.array([3]), max_points=400)
    assert view.density is None and view.sampled and view.drawn == 400
    texts = load_documents(store, corpus).set_index("doc_id")["text"]
    drawn = [
        (int(doc), text)
        for trace in view.figure.data
        for doc, text in zip(trace.customdata, trace.text, strict=True)
    ]
    assert 3 in {doc for doc, _ in drawn}
    assert all(text.startswith(texts[doc]) for doc, text in drawn)
    assert {trace.type for trace in view.figure.data} == {"scatter3d"}


def test_token_length_colours_the_density_with_a_colour_bar(stored, monkeypatch) -> None:
    store, corpus, projection = stored
    monkeypatch.setattr(map_drawing, "DENSITY_ABOVE", 1000)
    view = draw_map(store, corpus, projection, "token length")
    bars = [t for t in view.figure.data if t.type == "scattergl" and t.marker.showscale]
    assert len(bars) == 1
    assert colour_frame(store, corpus, "token length")["n_tokens"].size == N


def test_document_rows_come_back_in_the_order_asked(stored) -> None:
    store, corpus, _ = stored
    rows = document_rows(store, corpus, [42, 7, 2999], ["doc_id", "text", "label"])
    assert rows["doc_id"].tolist() == [42, 7, 2999]
    assert rows["text"].str.startswith("Document ").all()


def test_the_selection_pages_filters_and_exports_only_its_documents(stored) -> None:
    store, corpus, _ = stored
    ids = np.arange(100, 2600, 2)
    selected = SelectedDocuments(store, corpus, ids)
    assert selected.count() == ids.size
    page = selected.page(2, 100)
    assert page["doc_id"].tolist() == ids[100:200].tolist()
    assert list(page.columns) == ["doc_id", "text", "n_tokens", "label"]
    exported = pd.read_csv(io.BytesIO(selected.csv_bytes()))
    assert exported["doc_id"].tolist() == ids.tolist()
    parquet = pd.read_parquet(io.BytesIO(selected.parquet_bytes()))
    assert parquet["doc_id"].tolist() == ids.tolist()
    assert parquet["text"].tolist() == exported["text"].tolist()

    needle = "RIVER"  # case-insensitive, literal
    filtered = SelectedDocuments(store, corpus, ids, needle)
    documents = load_documents(store, corpus).set_index("doc_id").loc[ids]
    expected = documents.index[documents["text"].str.contains("river")].tolist()
    assert 0 < filtered.count() == len(expected) < ids.size
    assert pd.read_parquet(io.BytesIO(filtered.parquet_bytes()))["doc_id"].tolist() == expected
    nothing = SelectedDocuments(store, corpus, ids, "no such text")
    assert nothing.count() == 0
    assert pd.read_csv(io.BytesIO(nothing.csv_bytes())).columns.tolist() == page.columns.tolist()
    assert len(pd.read_parquet(io.BytesIO(nothing.parquet_bytes()))) == 0


def test_exports_are_safe_to_open_in_a_spreadsheet(store: Store, tmp_path: Path) -> None:
    from analysis.core.config import Limits
    from analysis.corpus.corpora import IngestOptions
    from analysis.corpus.readers import read_bytes
    from analysis.vectors.ingest import ingest

    table = read_bytes(b"text,topic\n=HYPERLINK(1),a\nplain text,b\n", "t.csv", Limits())
    corpus, _ = ingest(store, [table], IngestOptions(name="t"))
    exported = SelectedDocuments(store, corpus, np.array([0, 1])).csv_bytes().decode()
    assert "'=HYPERLINK(1)" in exported and "\r\n" in exported
