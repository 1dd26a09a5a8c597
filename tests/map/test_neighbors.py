"""kNN graphs: exact search against a brute-force reference, NN-descent against exact, storage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.core.config import Limits
from analysis.corpus.corpora import IngestOptions
from analysis.corpus.readers import read_path
from analysis.map import neighbors
from analysis.map.neighbors import KnnGraph, approximate_knn, compute_knn, corpus_knn, exact_knn
from analysis.vectors.catalogue import corpus_models
from analysis.vectors.ingest import ingest


def unit_rows(n: int, dims: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, dims)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def blobs(n_per: int, n_blobs: int, dims: int, seed: int = 0, spread: float = 0.15) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_blobs, dims))
    points = np.repeat(centres, n_per, axis=0) + spread * rng.standard_normal(
        (n_per * n_blobs, dims)
    )
    points = points.astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def brute_force(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Full float64 similarity matrix, each row sorted: self first, then by falling cosine."""
    sims = vectors.astype(np.float64) @ vectors.astype(np.float64).T
    np.fill_diagonal(sims, np.inf)
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    sims_sorted = np.take_along_axis(sims, order, axis=1)
    sims_sorted[:, 0] = 1.0
    return order, 1.0 - sims_sorted


@pytest.mark.parametrize(("n", "k", "block"), [(300, 7, 2048), (300, 7, 64), (50, 50, 16)])
def test_exact_knn_matches_brute_force(monkeypatch, n: int, k: int, block: int) -> None:
    # A small block makes the blockwise loop run several times, with a ragged last block.
    monkeypatch.setattr(neighbors, "_BLOCK", block)
    vectors = unit_rows(n, 8)
    indices, distances = exact_knn(vectors, k)
    ref_idx, ref_dist = brute_force(vectors, k)
    assert indices.shape == distances.shape == (n, k)
    assert indices.dtype == np.int32 and distances.dtype == np.float32
    np.testing.assert_array_equal(indices, ref_idx)
    np.testing.assert_allclose(distances, ref_dist, atol=1e-5)
    assert (indices[:, 0] == np.arange(n)).all()
    assert (distances[:, 0] == 0.0).all()
    assert (np.diff(distances, axis=1) >= 0).all()
    assert ((distances >= 0) & (distances <= 2)).all()


def test_exact_knn_clamps_k_and_keeps_self_first_among_duplicates() -> None:
    vectors = unit_rows(5, 4)
    vectors[3] = vectors[1]  # an exact duplicate: its twin is at distance 0 too
    indices, distances = exact_knn(vectors, 10)
    assert indices.shape == (5, 5)
    assert indices[1, 0] == 1 and indices[1, 1] == 3
    assert indices[3, 0] == 3 and indices[3, 1] == 1
    assert distances[1, 1] == pytest.approx(0.0, abs=1e-6)
    assert sorted(indices[0].tolist()) == [0, 1, 2, 3, 4]  # k = n: every point once


@pytest.mark.slow  # NN-descent's numba code is not cached on disk: ~50 s of JIT per process
def test_approximate_knn_agrees_with_exact_on_clustered_data(monkeypatch) -> None:
    vectors = blobs(100, 4, 16)
    k = 10
    approx_idx, approx_dist = approximate_knn(vectors, k, seed=0)
    exact_idx = exact_knn(vectors, k)[0]
    assert approx_idx.shape == approx_dist.shape == (400, k)
    assert approx_idx.dtype == np.int32 and approx_dist.dtype == np.float32
    recall = np.mean([len(set(a) & set(e)) / k for a, e in zip(approx_idx, exact_idx, strict=True)])
    assert recall >= 0.9
    assert np.mean(approx_idx[:, 0] == np.arange(400)) >= 0.99
    # Distances are the true cosine distances of the neighbours found, sorted ascending.
    true = 1.0 - np.einsum("ij,ikj->ik", vectors, vectors[approx_idx])
    np.testing.assert_allclose(approx_dist, true, atol=1e-4)
    assert (np.diff(approx_dist, axis=1) >= -1e-6).all()
    # Above EXACT_LIMIT compute_knn switches to NN-descent and says so.
    monkeypatch.setattr(neighbors, "EXACT_LIMIT", 100)
    graph = compute_knn(vectors, k, seed=0)
    assert graph.method == "nndescent" and graph.k == k and not graph.reused


def test_compute_knn_is_exact_for_small_inputs() -> None:
    vectors = unit_rows(40, 6)
    graph = compute_knn(vectors, 5)
    assert graph.method == "exact" and graph.k == 5 and not graph.reused
    np.testing.assert_array_equal(graph.indices, exact_knn(vectors, 5)[0])


def test_pruned_returns_the_first_k_columns_as_copies() -> None:
    vectors = unit_rows(30, 6)
    graph = compute_knn(vectors, 12)
    idx, dist = graph.pruned(4)
    ref_idx, ref_dist = exact_knn(vectors, 4)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, atol=1e-6)
    idx[:] = -1
    dist[:] = -1.0
    assert (graph.indices[:, :4] >= 0).all() and (graph.distances[:, :4] >= 0).all()


@pytest.fixture
def synthetic(tmp_path: Path, store):
    """A 60-document corpus whose vectors are imported (no model runs)."""
    vectors = blobs(20, 3, 16, seed=1)
    csv = tmp_path / "syn.csv"
    csv.write_text("text\n" + "\n".join(f"document {i}" for i in range(60)) + "\n")
    np.save(tmp_path / "syn.npy", vectors)
    table = read_path(csv, Limits(), npy_path=tmp_path / "syn.npy")
    corpus, _ = ingest(store, [table], IngestOptions(name="syn", vector_model="synthetic"))
    record = corpus_models(store, corpus)[0]
    return corpus, record, vectors


def _graph_rows(store) -> list[tuple]:
    return store.fetch_all("SELECT k, method FROM knn_graphs ORDER BY graph_id")


def _edge_count(store) -> int:
    return store.fetch_all("SELECT count(*) FROM knn_edges")[0][0]


def test_corpus_knn_stores_then_reuses_and_recomputes_for_a_larger_k(store, synthetic) -> None:
    corpus, record, vectors = synthetic
    first = corpus_knn(store, corpus.corpus_id, record.model_key, vectors, 10)
    assert not first.reused and first.k == 10
    assert _graph_rows(store) == [(10, "exact")]
    assert _edge_count(store) == 60

    again = corpus_knn(store, corpus.corpus_id, record.model_key, vectors, 10)
    assert again.reused and again.method == "exact"
    np.testing.assert_array_equal(again.indices, first.indices)
    np.testing.assert_array_equal(again.distances, first.distances)
    assert again.indices.dtype == np.int32 and again.distances.dtype == np.float32

    smaller = corpus_knn(store, corpus.corpus_id, record.model_key, vectors, 6)
    assert smaller.reused and smaller.k == 10  # the stored graph, pruned by the caller
    np.testing.assert_array_equal(smaller.pruned(6)[0], exact_knn(vectors, 6)[0])
    assert len(_graph_rows(store)) == 1 and _edge_count(store) == 60

    larger = corpus_knn(store, corpus.corpus_id, record.model_key, vectors, 20)
    assert not larger.reused and larger.k == 20
    assert _graph_rows(store) == [(10, "exact"), (20, "exact")]
    np.testing.assert_array_equal(larger.indices, exact_knn(vectors, 20)[0])

    # The smallest sufficient graph is the one reused.
    middle = corpus_knn(store, corpus.corpus_id, record.model_key, vectors, 15)
    assert middle.reused and middle.k == 20
    lower = corpus_knn(store, corpus.corpus_id, record.model_key, vectors, 8)
    assert lower.reused and lower.k == 10
    assert len(_graph_rows(store)) == 2


def test_corpus_knn_clamps_k_to_the_corpus_and_keys_by_model(store, synthetic) -> None:
    corpus, record, vectors = synthetic
    whole = corpus_knn(store, corpus.corpus_id, record.model_key, vectors, 500)
    assert not whole.reused and whole.k == 60
    assert corpus_knn(store, corpus.corpus_id, record.model_key, vectors, 100).reused
    other = corpus_knn(store, corpus.corpus_id, "another:model", vectors, 5)
    assert not other.reused
    assert len(_graph_rows(store)) == 2


def test_knn_graph_k_property() -> None:
    graph = KnnGraph(np.zeros((3, 2), np.int32), np.zeros((3, 2), np.float32), "exact", 0.0)
    assert graph.k == 2 and graph.reused is False
