"""Representation similarity: CKA properties, neighbour overlap, distance correlation, and the
stored comparison of two models / two layers of a real corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.compare import similarity
from analysis.compare.comparison import (
    CompareRequest,
    Comparison,
    LayerCka,
    LayerRequest,
    Representation,
    representation_choices,
)
from analysis.compare.figures import cka_heatmap, overlap_histogram
from analysis.compare.similarity import (
    cka_matrix,
    distance_spearman,
    linear_cka,
    neighbour_drift,
    neighbour_overlap,
    neighbours,
)
from analysis.compare.summary import compare_reading, overlap_counts_frame, top_changed_note
from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.corpus.corpora import get_corpus
from tests.probe_corpus import NAME, copy_of, template

RNG = np.random.default_rng(7)
X = RNG.standard_normal((120, 24))
Y = X @ RNG.standard_normal((24, 16)) + 0.5 * RNG.standard_normal((120, 16))


def hsic_cka(x: np.ndarray, y: np.ndarray) -> float:
    """The textbook form: HSIC with linear kernels and the centring matrix H."""
    n = x.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    k, l_ = x @ x.T, y @ y.T

    def hsic(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.trace(a @ h @ b @ h)) / (n - 1) ** 2

    return hsic(k, l_) / np.sqrt(hsic(k, k) * hsic(l_, l_))


def test_cka_of_identical_inputs_is_one() -> None:
    assert linear_cka(X, X) == pytest.approx(1.0, abs=1e-12)


def test_cka_matches_the_brute_force_hsic_form() -> None:
    assert linear_cka(X, Y) == pytest.approx(hsic_cka(X, Y), rel=1e-9)
    assert 0.0 < linear_cka(X, Y) < 1.0


def test_cka_is_invariant_to_rotation_and_isotropic_scaling() -> None:
    rotation, _ = np.linalg.qr(RNG.standard_normal((24, 24)))
    reference = linear_cka(X, Y)
    assert linear_cka(X @ rotation, Y) == pytest.approx(reference, rel=1e-9)
    assert linear_cka(3.7 * X, 0.2 * Y) == pytest.approx(reference, rel=1e-9)
    assert linear_cka(X + 5.0, Y) == pytest.approx(reference, rel=1e-9)  # centred first


def test_cka_is_not_invariant_to_anisotropic_scaling() -> None:
    stretch = np.ones(24)
    stretch[0] = 50.0
    assert linear_cka(X * stretch, Y) != pytest.approx(linear_cka(X, Y), rel=1e-3)


def test_cka_matrix_is_symmetric_with_unit_diagonal() -> None:
    layers = [X, X @ RNG.standard_normal((24, 24)), RNG.standard_normal((120, 8))]
    matrix = cka_matrix(layers)
    assert np.allclose(np.diag(matrix), 1.0)
    assert np.allclose(matrix, matrix.T)
    rectangular = cka_matrix(layers, layers[:2])
    assert rectangular.shape == (3, 2)
    assert np.allclose(rectangular, matrix[:, :2])


def test_neighbour_overlap_excludes_self_and_detects_change() -> None:
    same_a, method = neighbours(X, 5)
    same_b, _ = neighbours(X * 2.0, 5)
    assert method == "exact"
    assert same_a.shape == (120, 5)
    assert not (same_a == np.arange(120)[:, None]).any()  # self never counts as a neighbour
    assert np.all(neighbour_overlap(same_a, same_b) == 1.0)
    unrelated, _ = neighbours(RNG.standard_normal((120, 24)), 5)
    assert neighbour_overlap(same_a, unrelated).mean() < 0.3


def test_distance_spearman_all_pairs_or_a_stated_sample(monkeypatch) -> None:
    full = distance_spearman(X, X)
    assert full["rho"] == pytest.approx(1.0)
    assert full["pairs"] == 120 * 119 // 2 and not full["sampled"]
    monkeypatch.setattr(similarity, "ALL_PAIRS_LIMIT", 1000)
    monkeypatch.setattr(similarity, "SAMPLED_PAIRS", 5000)
    sampled = distance_spearman(X, Y, seed=3)
    assert sampled["sampled"] and sampled["pairs"] == 5000 and sampled["seed"] == 3
    assert sampled == distance_spearman(X, Y, seed=3)  # seeded: the same sample again
    assert 0.0 < sampled["rho"] < 1.0


def test_representation_specs_parse_layers_but_not_key_hashes() -> None:
    assert Representation.parse("default:3") == Representation("default", 3)
    assert Representation.parse("lsa") == Representation("lsa")
    assert Representation.parse("st:all-MiniLM-L6-v2@53aa51172d142c89:0").layer == 0
    assert Representation.parse("lsa:1234567890123456").layer is None
    with pytest.raises(UserError):
        Representation.parse("  ")


@pytest.fixture
def db(tmp_path: Path, tmp_path_factory) -> Store:
    store = Store(copy_of(template(tmp_path_factory), tmp_path / "compare.duckdb"))
    yield store
    store.close()


def test_drift_is_zero_where_neighbourhoods_agree_and_grows_as_they_move_apart() -> None:
    same_a, _ = neighbours(X, 5)
    assert np.allclose(neighbour_drift(X, 2.0 * X, same_a, same_a), 0.0, atol=1e-6)
    shuffled = RNG.permutation(X.shape[0])
    other = X[shuffled]  # every text takes another's place in B: unrelated neighbourhoods
    near_b, _ = neighbours(other, 5)
    drift = neighbour_drift(X, other, same_a, near_b)
    assert drift.shape == (120,) and (drift > 0).mean() > 0.95
    slightly = X + 0.05 * RNG.standard_normal(X.shape)
    near_slightly, _ = neighbours(slightly, 5)
    assert neighbour_drift(X, slightly, same_a, near_slightly).mean() < drift.mean()


def _result(per_point: list[float], listed: int) -> dict:
    rows = [{"doc_id": i, "change": 1.0} for i in range(listed)]
    return {"knn_overlap": {"k": 10, "per_point": per_point}, "top_changed": rows}


def test_the_changed_list_says_how_it_is_ranked_and_what_it_hides() -> None:
    note = top_changed_note(_result([0.0] * 900 + [0.5] * 60 + [1.0] * 40, listed=20))
    assert note.startswith("Ranked by change (1 − overlap@10")
    assert "20 of 960 changed texts listed." in note
    assert "900 texts tie at the largest change, 1.00; drift decides which" in note
    assert note.endswith("40 unchanged texts (all 10 neighbours shared) are not listed.")
    single = top_changed_note(_result([0.2, 0.5, 1.0], listed=2))
    assert "tie at the largest" not in single and "2 of 2 changed texts listed." in single
    none = top_changed_note(_result([1.0, 1.0], listed=0))
    assert none == (
        "No text's neighbourhood changed: 2 unchanged texts (all 10 neighbours shared) are "
        "not listed."
    )


def test_overlap_counts_count_texts_per_number_of_shared_neighbours() -> None:
    counts = overlap_counts_frame({"knn_overlap": {"k": 3, "per_point": [0.0, 2 / 3, 2 / 3, 1.0]}})
    assert counts.to_dict("list") == {
        "shared_neighbours": [0, 1, 2, 3],
        "k": [3, 3, 3, 3],
        "texts": [1, 0, 2, 1],
    }


@pytest.mark.slow
def test_minilm_against_lsa_is_stored_and_reopened(db: Store) -> None:
    corpus = get_corpus(db, NAME)
    comparison = Comparison(db, corpus, CompareRequest("default", "lsa", k=5))
    assert comparison.find() is None
    first = comparison.run()
    result = first.result
    assert 0.0 < result["cka"] < 1.0
    overlap = result["knn_overlap"]
    assert overlap["k"] == 5 and len(overlap["per_point"]) == 90
    assert overlap["chance"] < overlap["mean"] < 1.0
    assert set(overlap["quantiles"]) == {"0.1", "0.25", "0.5", "0.75", "0.9"}
    assert not result["distance_spearman"]["sampled"]
    listed = result["top_changed"]
    assert len(listed) == 20
    assert listed[0]["change"] == round(1 - min(overlap["per_point"]), 4)
    assert "topic" in listed[0]
    # Largest change first, then drift within a tie: never id order among equals.
    keys = [(-row["change"], -row["drift"]) for row in listed]
    assert keys == sorted(keys)
    assert all(row["change"] > 0 for row in listed)  # unchanged texts are not listed
    assert "20 of " in top_changed_note(result)
    assert "Linear CKA" in compare_reading(result)
    by_name = Comparison(db, corpus, CompareRequest("all-MiniLM-L6-v2", "lsa", k=5))
    assert by_name.job_key == comparison.job_key  # name and spec: one job, one key
    again = by_name.run()
    assert again.reused and again.result_id == first.result_id
    counts = overlap_counts_frame(result)
    assert "Kornblith" in overlap_histogram(result, NAME, counts).layout.meta["caption"]
    charts = {chart.key: chart for chart in comparison.figures(first)}
    assert set(charts) == {"cmp_overlap", "cmp_map"}
    bars = charts["cmp_overlap"].data  # the histogram's data download: texts per shared count
    assert bars["shared_neighbours"].tolist() == list(range(6)) and set(bars["k"]) == {5}
    assert bars["texts"].sum() == 90 and bars.equals(counts)
    assert list(charts["cmp_overlap"].figure.data[0].y) == bars["texts"].tolist()
    change = charts["cmp_map"]
    assert change.figure.data[0].marker.showscale  # numeric colour: 1 - overlap
    assert len(change.data) == 90 and set(change.data["change"]) <= {
        round(1 - v, 4) for v in overlap["per_point"]
    }


@pytest.mark.slow
def test_a_layer_with_itself_has_cka_one_and_layer_matrix(db: Store) -> None:
    corpus = get_corpus(db, NAME)
    same = Comparison(db, corpus, CompareRequest("default:6", "default:6", k=5)).run().result
    assert same["cka"] == pytest.approx(1.0)
    assert same["knn_overlap"]["mean"] == 1.0
    layers = LayerCka(db, corpus, LayerRequest("default")).run().result
    matrix = np.array(layers["matrix"])
    assert matrix.shape == (7, 7)
    assert np.allclose(np.diag(matrix), 1.0)
    assert "Layer × layer CKA" in cka_heatmap(layers, NAME).layout.title.text
    choices = representation_choices(db, corpus)
    assert "all-MiniLM-L6-v2 · layer 6" in choices
    assert any(label.startswith("LSA") for label in choices)


@pytest.mark.slow
def test_layers_of_a_model_without_layers_are_refused(db: Store) -> None:
    corpus = get_corpus(db, NAME)
    with pytest.raises(UserError, match="no hidden layers"):
        Comparison(db, corpus, CompareRequest("lsa:2", "default"))
    with pytest.raises(UserError, match="not embedded"):
        Comparison(db, corpus, CompareRequest("default", "nonexistent-model"))
