"""The map and clustering analyses on the contract, and the one rule for which map shows now."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.core.errors import UserError
from analysis.map.cluster_analysis import ClusteringAnalysis
from analysis.map.cluster_runs import ClusterRequest, latest_clustering
from analysis.map.plan import plan_map
from analysis.map.projection import ProjectionParams, project
from analysis.map.projection_analysis import ProjectionAnalysis
from tests.map.test_projection import blobs, count, make_corpus


@pytest.fixture
def corpus12(store, tmp_path: Path):
    vectors = blobs(12)
    corpus, record = make_corpus(store, tmp_path, "twelve", vectors)
    return corpus, record, vectors


# --- the rule ---------------------------------------------------------------------------------


def test_pca_is_shown_now_and_nothing_runs_in_the_background(store, corpus12) -> None:
    corpus, record, _ = corpus12
    plan = plan_map(store, corpus, record, ProjectionParams("pca", dims=3), background=True)
    assert plan.now is plan.requested and plan.background is None and plan.found is None
    shown = plan.show()
    assert shown.params.method == "pca" and shown.coords.shape == (12, 3) and not shown.reused
    again = plan_map(store, corpus, record, ProjectionParams("pca", dims=3), background=True)
    assert again.found == shown and again.show() is again.found


@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_a_slow_map_runs_in_the_background_behind_a_pca_preview(store, corpus12, method) -> None:
    corpus, record, vectors = corpus12
    params = ProjectionParams(method, dims=3, seed=4)
    plan = plan_map(store, corpus, record, params, background=True, vectors=vectors)
    assert plan.background is plan.requested and plan.now is not plan.requested
    assert plan.now.effective == ProjectionParams("pca", dims=3, seed=4)
    assert plan.now.vectors is vectors  # the preview uses the caller's vectors too
    assert count(store, "projections") == 0, "planning computes nothing"
    preview = plan.show()
    assert preview.params.method == "pca" and count(store, "projections") == 1

    made = plan.background.run()
    assert made.params == plan.requested.effective
    stored = plan_map(store, corpus, record, params, background=True)
    assert stored.now is stored.requested and stored.background is None
    assert stored.found == made and stored.show() == made


def test_a_caller_that_waits_computes_what_it_asked_for(store, corpus12) -> None:
    corpus, record, _ = corpus12
    stages: list[tuple[int, int]] = []
    plan = plan_map(store, corpus, record, ProjectionParams(), background=False)
    assert plan.now is plan.requested and plan.background is None and plan.found is None
    shown = plan.show(lambda done, total: stages.append((done, total)))
    assert shown.params.method == "umap" and stages[-1] == (1, 1)
    assert count(store, "projections") == 1  # no preview was made


def test_an_impossible_map_is_refused_while_planning(store, tmp_path: Path) -> None:
    corpus, record = make_corpus(store, tmp_path, "two", blobs(2, dims=4))
    with pytest.raises(UserError, match="at least 3 documents"):
        plan_map(store, corpus, record, ProjectionParams("pca"), background=True)
    flat, flat_record = make_corpus(store, tmp_path, "flat", np.eye(8, 2, dtype=np.float32) + 1)
    with pytest.raises(UserError, match="3-D"):
        plan_map(store, flat, flat_record, ProjectionParams("pca", dims=3), background=True)
    assert count(store, "projections") == 0


# --- the bound analyses -----------------------------------------------------------------------


def test_map_parameters_are_the_ones_that_run_with_the_model_key(store, corpus12) -> None:
    corpus, record, _ = corpus12
    asked = ProjectionAnalysis(store, corpus, record, ProjectionParams(n_neighbors=15))
    assert dict(asked.params) == {
        "model_key": record.model_key,
        "method": "umap",
        "dims": 2,
        "seed": 0,
        "n_neighbors": 11,  # clamped to n - 1: the same map as asking for 11
        "min_dist": 0.1,
        "densmap": False,
    }
    same = ProjectionAnalysis(store, corpus, record, ProjectionParams(n_neighbors=11, perplexity=5))
    assert same.job_key == asked.job_key and same.key == asked.key
    other = ProjectionAnalysis(store, corpus, record, ProjectionParams(n_neighbors=11, seed=1))
    assert other.job_key != asked.job_key
    assert asked.label == "UMAP map of twelve"
    assert ProjectionAnalysis(store, corpus, record, ProjectionParams("tsne")).label == (
        "t-SNE map of twelve"
    )


def test_find_and_run_are_the_stored_map(store, corpus12) -> None:
    corpus, record, _ = corpus12
    analysis = ProjectionAnalysis(store, corpus, record, ProjectionParams("pca", seed=2))
    assert analysis.find() is None
    made = analysis.run()
    assert made == project(store, corpus, record, ProjectionParams("pca", seed=2))
    assert analysis.find() == made and analysis.find().reused
    assert "Trustworthiness@5" in analysis.reading(made) and "PCA map" in analysis.reading(made)
    assert analysis.notices(made) == []
    (chart,) = analysis.figures(made, {"highlight": np.array([0, 1])})
    assert chart.key == "map" and chart.analysis == "map-pca" and chart.model == record.name
    assert list(chart.data.columns) == ["doc_id", "text", "x", "y"] and len(chart.data) == 12
    assert "search results" in [trace.name for trace in chart.figure.data]


def test_map_estimates_follow_the_measured_costs(
    store, corpus12, tmp_path: Path, monkeypatch
) -> None:
    from analysis.map import projection_analysis

    corpus, record, _ = corpus12
    monkeypatch.setattr(projection_analysis, "umap_compiled", lambda: True)
    seconds = {
        method: ProjectionAnalysis(store, corpus, record, ProjectionParams(method)).estimate()
        for method in ("pca", "umap", "tsne")
    }
    assert 0 < seconds["pca"].seconds < seconds["umap"].seconds < seconds["tsne"].seconds
    assert "ms per document" in seconds["umap"].basis
    assert "reference time on this machine" in seconds["umap"].basis  # measured here
    bigger, bigger_record = make_corpus(store, tmp_path, "bigger", blobs(120))
    larger = ProjectionAnalysis(store, bigger, bigger_record, ProjectionParams()).estimate()
    assert larger.seconds == pytest.approx(10 * seconds["umap"].seconds)
    # the first UMAP of a process pays for compiling (or loading numba's cache) once
    monkeypatch.setattr(projection_analysis, "umap_compiled", lambda: False)
    first = ProjectionAnalysis(store, corpus, record, ProjectionParams()).estimate()
    assert first.seconds > seconds["umap"].seconds and "UMAP" in first.basis
    assert "once per process" in first.basis


def test_a_sampled_umap_estimate_costs_the_fit_and_the_transform(
    store, tmp_path: Path, monkeypatch
) -> None:
    from analysis.map import projection_analysis

    monkeypatch.setattr(projection_analysis, "umap_compiled", lambda: True)
    monkeypatch.setattr(projection_analysis, "machine_factor", lambda: 1.0)
    corpus, record = make_corpus(store, tmp_path, "hundred", blobs(100))
    full = ProjectionAnalysis(store, corpus, record, ProjectionParams(fit_sample=None))
    sampled = ProjectionAnalysis(store, corpus, record, ProjectionParams(fit_sample=60))
    assert full.key != sampled.key and full.job_key != sampled.job_key
    costs = (
        projection_analysis.SECONDS_PER_POINT["umap"],
        projection_analysis.TRANSFORM_SECONDS_PER_POINT,
    )
    quality = 100 * projection_analysis.QUALITY_SECONDS_PER_POINT
    assert sampled.estimate().seconds == pytest.approx(60 * costs[0] + 40 * costs[1] + quality)
    assert full.estimate().seconds == pytest.approx(100 * costs[0] + quality)
    basis = sampled.estimate().basis
    assert "fitted on 60 sampled documents" in basis and "other 40 placed with transform" in basis


def test_clustering_parameters_find_and_run(store, tmp_path: Path) -> None:
    corpus, record = make_corpus(store, tmp_path, "sixty", blobs(60))
    request = ClusterRequest(method="kmeans", k=3)
    analysis = ClusteringAnalysis(store, corpus, record, request)
    assert dict(analysis.params) == {"model_key": record.model_key, **request.as_dict()}
    other = ClusteringAnalysis(store, corpus, record, ClusterRequest(method="kmeans", k=2))
    assert other.job_key != analysis.job_key and analysis.label == "Clustering of sixty"
    assert analysis.estimate().seconds > 0 and analysis.find() is None

    made = analysis.run()
    assert not made.reused and analysis.find() == made
    later = other.run()
    assert analysis.find() == made  # finding does not make it the latest ...
    assert latest_clustering(store, corpus, record).clustering_id == later.clustering_id
    assert analysis.run().reused  # ... asking again does
    assert latest_clustering(store, corpus, record).clustering_id == made.clustering_id

    reading = analysis.reading(made)
    assert reading.startswith("k-means (k 3, ") and "3 clusters of" in reading
    assert "{" not in reading  # settings spelled out, not a dict
    (chart,) = analysis.figures(made)
    assert chart.key == "cluster_map" and chart.analysis == "map-clusters"
    assert chart.data["cluster"].tolist() == made.clustering.labels.tolist()
    names = {trace.name for trace in chart.figure.data}
    assert len(names) == 3 and all(name.startswith(("0: ", "1: ", "2: ")) for name in names)


def test_a_map_job_names_its_silent_stages_with_their_estimates(store, corpus12) -> None:
    corpus, record, _ = corpus12
    analysis = ProjectionAnalysis(store, corpus, record, ProjectionParams(fit_sample=None))
    stages: list[str] = []
    analysis.run(lambda done, total, stage=None: stages.append(stage))
    named = list(dict.fromkeys(stages))
    assert named[1].startswith("kNN graph, about ") and named[1].endswith(" s estimated")
    assert named[2].startswith("fuzzy graph and spectral start, about ")
    assert named[3] == "layout epochs"  # counts its own epochs: no estimate needed
    assert set(analysis.stage_estimates()) == {"kNN graph", "fuzzy graph and spectral start"}
    pca = ProjectionAnalysis(store, corpus, record, ProjectionParams(method="pca"))
    assert pca.stage_estimates() == {}
