"""Maps: parameter validation, stored and reused maps and kNN graphs, quality, every method."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from tqdm.auto import tqdm

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.core.jobs import Job
from analysis.core.progress import JobCancelled
from analysis.core.results import params_key
from analysis.corpus.corpora import IngestOptions, delete_corpus
from analysis.corpus.readers import read_path
from analysis.map.cluster_runs import ClusterRequest, run_clustering
from analysis.map.projection import (
    AUTO,
    AUTO_FIT_SAMPLE,
    EVALUATION_SEED,
    FULL_UMAP_LIMIT,
    ProjectionParams,
    find_projection,
    project,
    stored_quality,
)
from analysis.map.projection_analysis import ProjectionAnalysis
from analysis.map.quality import map_quality
from analysis.map.umap_run import fit_sample_rows
from analysis.vectors.catalogue import corpus_models
from analysis.vectors.ingest import ingest

WORDS = ("cat dog pet", "stock bond market", "python code bug")


def blobs(n: int, dims: int = 16, n_blobs: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_blobs, dims))
    points = centres[np.arange(n) % n_blobs] + 0.2 * rng.standard_normal((n, dims))
    points = points.astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def make_corpus(store, tmp_path: Path, name: str, vectors: np.ndarray):
    """A corpus with imported vectors (model kind 'external'): no model runs."""
    n = vectors.shape[0]
    csv = tmp_path / f"{name}.csv"
    texts = [f"{WORDS[i % 3]} note {i}" for i in range(n)]
    csv.write_text("text\n" + "\n".join(texts) + "\n")
    npy = tmp_path / f"{name}.npy"
    np.save(npy, vectors)
    table = read_path(csv, Limits(), npy_path=npy)
    corpus, _ = ingest(store, [table], IngestOptions(name=name, vector_model="synthetic"))
    return corpus, corpus_models(store, corpus)[0]


@pytest.fixture
def corpus60(store, tmp_path: Path):
    vectors = blobs(60)
    corpus, record = make_corpus(store, tmp_path, "syn", vectors)
    return corpus, record, vectors


def stored_key(params: ProjectionParams) -> str:
    """The key a map is stored and found under: canonical JSON of what its method uses."""
    return params_key(params.as_dict())


def count(store, table: str, corpus_id: int | None = None) -> int:
    sql = f"SELECT count(*) FROM {table}"
    params: list = []
    if corpus_id is not None:
        sql += " WHERE corpus_id = ?"
        params = [corpus_id]
    return store.fetch_all(sql, params)[0][0]


# --- parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "mds"}, "Unknown projection 'mds'; choose umap, pca, tsne."),
        ({"dims": 4}, "A map has 2 or 3 dimensions, not 4."),
        ({"dims": 1}, "A map has 2 or 3 dimensions, not 1."),
        ({"n_neighbors": 1}, "n_neighbors must be between 2 and 200, got 1."),
        ({"n_neighbors": 201}, "n_neighbors must be between 2 and 200, got 201."),
        ({"min_dist": -0.1}, "min_dist must be between 0 and 1, got -0.1."),
        ({"min_dist": 1.5}, "min_dist must be between 0 and 1, got 1.5."),
        ({"perplexity": 0.5}, "perplexity must be between 1 and 100, got 0.5."),
        ({"perplexity": 101}, "perplexity must be between 1 and 100, got 101."),
    ],
)
def test_invalid_parameters_are_user_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(UserError) as info:
        ProjectionParams(**kwargs)
    assert info.value.message == message


def test_boundary_parameters_are_accepted() -> None:
    for kwargs in (
        {"n_neighbors": 2},
        {"n_neighbors": 200},
        {"min_dist": 0.0},
        {"min_dist": 1.0},
        {"perplexity": 1.0},
        {"perplexity": 100.0},
        {"dims": 3},
    ):
        assert ProjectionParams(**kwargs).as_dict()["method"] == "umap"


def test_key_holds_only_the_parameters_a_method_uses() -> None:
    pca = ProjectionParams(method="pca")
    assert json.loads(stored_key(pca)) == {"method": "pca", "dims": 2, "seed": 0}
    assert stored_key(pca) == stored_key(
        ProjectionParams("pca", n_neighbors=50, min_dist=0.9, perplexity=5)
    )
    assert stored_key(pca) != stored_key(ProjectionParams("pca", seed=1))
    assert stored_key(pca) != stored_key(ProjectionParams("pca", dims=3))
    tsne = ProjectionParams(method="tsne", perplexity=12)
    assert json.loads(stored_key(tsne)) == {
        "method": "tsne",
        "dims": 2,
        "seed": 0,
        "perplexity": 12,
    }
    assert stored_key(tsne) == stored_key(ProjectionParams("tsne", perplexity=12, n_neighbors=99))
    umap = ProjectionParams(n_neighbors=20, min_dist=0.3, densmap=True)
    assert json.loads(stored_key(umap)) == {
        "method": "umap",
        "dims": 2,
        "seed": 0,
        "n_neighbors": 20,
        "min_dist": 0.3,
        "densmap": True,
    }
    assert stored_key(umap) == stored_key(
        ProjectionParams(n_neighbors=20, min_dist=0.3, densmap=True, perplexity=5)
    )
    assert stored_key(umap) != stored_key(ProjectionParams(n_neighbors=20, min_dist=0.3))
    # Canonical JSON: sorted keys, so equal maps compare equal as strings.
    assert stored_key(umap) == json.dumps(json.loads(stored_key(umap)), sort_keys=True)


def test_key_does_not_depend_on_how_a_number_was_typed() -> None:
    assert stored_key(ProjectionParams(min_dist=0)) == stored_key(ProjectionParams(min_dist=0.0))
    assert stored_key(ProjectionParams("tsne", perplexity=30)) == stored_key(
        ProjectionParams("tsne")
    )
    assert stored_key(ProjectionParams(seed=np.int64(3), n_neighbors=np.int64(7))) == (
        stored_key(ProjectionParams(seed=3, n_neighbors=7))
    )
    assert isinstance(ProjectionParams(min_dist=np.float32(0.5)).as_dict()["min_dist"], float)
    with pytest.raises(UserError, match=r"n_neighbors must be a whole number, got 10\.5"):
        ProjectionParams(n_neighbors=10.5)


def test_effective_clamps_to_small_corpora() -> None:
    params = ProjectionParams(n_neighbors=15, fit_sample=None)
    assert params.effective(60) is params
    clamped = params.effective(12)
    assert clamped.n_neighbors == 11 and clamped.min_dist == params.min_dist
    assert json.loads(stored_key(clamped))["n_neighbors"] == 11
    assert ProjectionParams(n_neighbors=4).effective(5).n_neighbors == 4
    assert ProjectionParams(n_neighbors=5).effective(5).n_neighbors == 4
    tsne = ProjectionParams(method="tsne", perplexity=30).effective(12)
    assert 1.0 <= tsne.perplexity < 11 / 3
    assert ProjectionParams(method="tsne", perplexity=30).effective(200).perplexity == 30
    assert ProjectionParams(method="tsne").effective(3).perplexity == 1.0
    # PCA has nothing to clamp.
    pca = ProjectionParams(method="pca", n_neighbors=100)
    assert pca.effective(3) is pca


@pytest.mark.parametrize("n", [0, 1, 2])
def test_effective_needs_three_documents(n: int) -> None:
    for method in ("umap", "pca", "tsne"):
        with pytest.raises(UserError, match=f"at least 3 documents; this corpus has {n}"):
            ProjectionParams(method=method).effective(n)


def test_effective_umap_needs_five_documents_and_suggests_pca() -> None:
    for n in (3, 4):
        with pytest.raises(UserError, match=r"UMAP needs at least 5 documents.*Use PCA"):
            ProjectionParams().effective(n)
    assert ProjectionParams().effective(5).n_neighbors == 4


# --- small corpora end to end ---------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2])
def test_tiny_corpus_cannot_be_mapped(store, tmp_path: Path, n: int) -> None:
    corpus, record = make_corpus(store, tmp_path, f"c{n}", blobs(n, dims=4))
    for method in ("umap", "pca", "tsne"):
        with pytest.raises(UserError, match="at least 3 documents"):
            project(store, corpus, record, ProjectionParams(method=method))
    assert count(store, "projections") == 0 and count(store, "knn_graphs") == 0


def test_four_documents_umap_refused_pca_and_tsne_work(store, tmp_path: Path) -> None:
    corpus, record = make_corpus(store, tmp_path, "four", blobs(4, dims=6))
    with pytest.raises(UserError, match="Use PCA instead"):
        project(store, corpus, record, ProjectionParams(method="umap"))
    assert count(store, "projections") == 0
    pca = project(store, corpus, record, ProjectionParams(method="pca"))
    tsne = project(store, corpus, record, ProjectionParams(method="tsne"))
    assert pca.coords.shape == tsne.coords.shape == (4, 2)
    assert tsne.params.perplexity == 1.0
    assert pca.quality["k"] == 1 and pca.quality["sample_size"] == 4


def test_three_dimensional_map_of_two_dimensional_vectors_is_a_user_error(
    store, tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    corpus, record = make_corpus(store, tmp_path, "flat", rng.standard_normal((8, 2)))
    for method in ("pca", "tsne"):
        with pytest.raises(UserError, match="3-D"):
            project(store, corpus, record, ProjectionParams(method=method, dims=3))
    assert project(store, corpus, record, ProjectionParams("pca")).coords.shape == (8, 2)


# --- storing and reusing ---------------------------------------------------------------------


def test_same_parameters_reuse_the_stored_map(store, corpus60) -> None:
    corpus, record, vectors = corpus60
    stages: list[tuple[int, int]] = []
    params = ProjectionParams(n_neighbors=10, seed=3)
    first = project(store, corpus, record, params, progress=lambda d, t: stages.append((d, t)))
    assert not first.reused and first.knn_reused is False
    # a plain (done, total) callback: each stage's numbers, the layout's epochs among them
    assert stages[0] == (0, 1) and (500, 500) in stages and stages[-1] == (1, 1)
    assert first.coords.shape == (60, 2) and first.coords.dtype == np.float32
    assert np.isfinite(first.coords).all()

    again = project(store, corpus, record, ProjectionParams(n_neighbors=10, seed=3))
    assert again.reused and again.projection_id == first.projection_id
    np.testing.assert_array_equal(again.coords, first.coords)
    assert again.quality == first.quality and again.n_points == 60
    assert again.params == first.params
    assert count(store, "projections") == 1 and count(store, "knn_graphs") == 1
    found = find_projection(store, corpus, record, first.params)
    assert found is not None and found.projection_id == first.projection_id
    assert find_projection(store, corpus, record, ProjectionParams(n_neighbors=10)) is None

    # Passing the vectors in gives the same stored map as loading them from the store.
    from_store = project(store, corpus, record, ProjectionParams("pca"))
    passed = project(store, corpus, record, ProjectionParams("pca", dims=3), vectors=vectors)
    np.testing.assert_allclose(np.abs(passed.coords[:, :2]), np.abs(from_store.coords), atol=1e-4)


def test_new_layout_parameters_make_new_maps_from_the_same_knn_graph(store, corpus60) -> None:
    corpus, record, _ = corpus60
    base = project(store, corpus, record, ProjectionParams(n_neighbors=10))
    assert base.knn_reused is False and count(store, "knn_graphs") == 1
    variants = [
        ProjectionParams(n_neighbors=10, min_dist=0.5),
        ProjectionParams(n_neighbors=10, seed=1),
        ProjectionParams(n_neighbors=10, dims=3),
        ProjectionParams(n_neighbors=6),  # fewer neighbours: the stored graph, pruned
    ]
    ids = {base.projection_id}
    for params in variants:
        result = project(store, corpus, record, params)
        assert not result.reused and result.knn_reused is True
        assert result.projection_id not in ids
        ids.add(result.projection_id)
        assert count(store, "knn_graphs") == 1
    moved = project(store, corpus, record, ProjectionParams(n_neighbors=10, min_dist=0.5))
    assert moved.reused and not np.array_equal(moved.coords, base.coords)
    assert count(store, "projections") == 5

    wider = project(store, corpus, record, ProjectionParams(n_neighbors=20))
    assert wider.knn_reused is False and count(store, "knn_graphs") == 2


def test_stored_parameters_are_the_effective_ones(store, tmp_path: Path) -> None:
    corpus, record = make_corpus(store, tmp_path, "twelve", blobs(12))
    asked = project(store, corpus, record, ProjectionParams(n_neighbors=15))
    assert asked.params.n_neighbors == 11
    stored = store.fetch_all("SELECT params, n_points FROM projections")
    assert [(json.loads(p)["n_neighbors"], n) for p, n in stored] == [(11, 12)]
    # Asking for 11 directly is the same map.
    same = project(store, corpus, record, ProjectionParams(n_neighbors=11))
    assert same.reused and same.projection_id == asked.projection_id
    assert asked.quality["k"] == 5  # at most (n - 1) // 2 neighbours for the scores


def test_quality_is_recorded_in_range_and_matches_a_direct_measurement(store, corpus60) -> None:
    corpus, record, vectors = corpus60
    result = project(store, corpus, record, ProjectionParams("pca", seed=2))
    q = result.quality
    assert set(q) == {
        "k",
        "sample_size",
        "n_points",
        "seed",
        "trustworthiness",
        "continuity",
        "knn_recall",
    }
    # scored on the evaluation sample of seed 0 whatever the map's seed, so maps compare
    assert q["k"] == 10 and q["sample_size"] == 60 and q["n_points"] == 60 and q["seed"] == 0
    for name in ("trustworthiness", "continuity", "knn_recall"):
        assert 0.0 <= q[name] <= 1.0
    direct = map_quality(vectors, result.coords, k=10, seed=0).as_dict()
    for name in ("trustworthiness", "continuity", "knn_recall"):
        assert q[name] == pytest.approx(direct[name], abs=1e-6)
    # Three well-separated blobs: a faithful map beats a random one's recall of k / (n - 1).
    assert q["knn_recall"] > 10 / 59 and q["trustworthiness"] > 0.8
    caption = result.caption()
    assert "PCA 2-D" in caption and "n = 60" in caption and "Trustworthiness@10" in caption
    reused = project(store, corpus, record, ProjectionParams("pca", seed=2))
    assert reused.quality == q


@pytest.mark.parametrize("method", ["pca", "tsne", "umap"])
@pytest.mark.parametrize("dims", [2, 3])
def test_every_method_maps_in_two_and_three_dimensions(store, corpus60, method, dims) -> None:
    corpus, record, _ = corpus60
    params = ProjectionParams(method=method, dims=dims, n_neighbors=10, perplexity=10)
    result = project(store, corpus, record, params)
    assert result.coords.shape == (60, dims) and np.isfinite(result.coords).all()
    assert result.coords.std(axis=0).min() > 0  # no collapsed axis
    assert (result.knn_reused is None) == (method != "umap")
    assert 0.0 <= result.quality["trustworthiness"] <= 1.0
    rows = store.fetch_all(
        "SELECT count(*), count(z) FROM projection_coords WHERE projection_id = ?",
        [result.projection_id],
    )
    assert rows[0] == (60, 60 if dims == 3 else 0)
    reread = find_projection(store, corpus, record, result.params)
    assert reread is not None and reread.coords.shape == (60, dims)
    np.testing.assert_array_equal(reread.coords, result.coords)
    # Parameters the method does not use lead back to the same stored map.
    unused = {
        "pca": {"n_neighbors": 50, "min_dist": 0.9, "densmap": True, "perplexity": 5.0},
        "tsne": {"n_neighbors": 50, "min_dist": 0.9, "densmap": True},
        "umap": {"perplexity": 5.0},
    }[method]
    other = project(store, corpus, record, ProjectionParams(**{**params.__dict__, **unused}))
    assert other.reused and other.projection_id == result.projection_id
    assert count(store, "projections") == 1
    assert count(store, "knn_graphs") == (1 if method == "umap" else 0)


def test_deleting_a_corpus_removes_its_maps_graphs_and_clusterings(store, tmp_path: Path) -> None:
    kept, kept_record = make_corpus(store, tmp_path, "kept", blobs(30, seed=1))
    gone, gone_record = make_corpus(store, tmp_path, "gone", blobs(30, seed=2))
    for corpus, record in ((kept, kept_record), (gone, gone_record)):
        project(store, corpus, record, ProjectionParams(n_neighbors=8))
        project(store, corpus, record, ProjectionParams("pca", dims=3))
        run_clustering(store, corpus, record, ClusterRequest(method="kmeans", k=3))
    assert count(store, "projection_coords") == 4 * 30 and count(store, "knn_edges") == 2 * 30

    delete_corpus(store, "gone")
    for table in ("projections", "knn_graphs", "clusterings"):
        assert count(store, table, gone.corpus_id) == 0
        assert count(store, table, kept.corpus_id) > 0
    assert count(store, "projection_coords") == 2 * 30
    assert count(store, "knn_edges") == 30
    orphans = store.fetch_all(
        "SELECT count(*) FROM projection_coords WHERE projection_id NOT IN "
        "(SELECT projection_id FROM projections)"
    )
    assert orphans[0][0] == 0
    # The surviving corpus still reuses its stored map.
    again = project(store, kept, kept_record, ProjectionParams(n_neighbors=8))
    assert again.reused


# --- UMAP fitted on a seeded sample -----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fit_sample": 10}, "fit_sample must be at least 50 points, got 10."),
        ({"fit_sample": 100.5}, "fit_sample must be a whole number of points"),
        ({"fit_sample": "lots"}, "fit_sample must be a whole number of points"),
        ({"fit_sample": True}, "fit_sample must be a whole number of points"),
        ({"method": "pca", "fit_sample": 100}, "Fitting on a sample applies to UMAP only"),
        ({"fit_sample": 100, "densmap": True}, "densMAP cannot place points with transform"),
    ],
)
def test_nonsense_fit_samples_are_user_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(UserError) as info:
        ProjectionParams(**kwargs)
    assert info.value.message.startswith(message)


def test_the_size_rule_and_the_key_of_a_sampled_map() -> None:
    auto = ProjectionParams()
    assert auto.fit_sample == AUTO and not auto.sampled
    assert auto.effective(FULL_UMAP_LIMIT).fit_sample is None
    large = auto.effective(FULL_UMAP_LIMIT + 1)
    assert large.fit_sample == AUTO_FIT_SAMPLE and large.sampled
    assert ProjectionParams(densmap=True).effective(10 * FULL_UMAP_LIMIT).fit_sample is None
    assert ProjectionParams(fit_sample=np.int64(100)).effective(90).fit_sample is None  # all
    sampled = ProjectionParams(fit_sample=100, n_neighbors=150).effective(1000)
    assert sampled.fit_sample == 100 and sampled.n_neighbors == 99  # fewer than the sample
    # A full map keeps the key it had before the option existed; a sampled one differs.
    full = json.loads(stored_key(auto.effective(1000)))
    assert "fit_sample" not in full
    assert json.loads(stored_key(sampled))["fit_sample"] == 100
    assert "fit_sample=100" in sampled.describe()
    assert sampled.fit_note(1000) == (
        "UMAP fitted on a seeded sample of 100 of 1,000 points (seed 0), the rest placed with "
        "transform."
    )
    assert auto.effective(1000).fit_note(1000) == ""


def test_a_sampled_map_is_stored_apart_and_scored_on_the_same_points(store, tmp_path: Path) -> None:
    vectors = blobs(150)
    corpus, record = make_corpus(store, tmp_path, "sampled", vectors)
    full = project(store, corpus, record, ProjectionParams(fit_sample=None))
    sampled = project(store, corpus, record, ProjectionParams(fit_sample=60))
    assert sampled.projection_id != full.projection_id and count(store, "projections") == 2
    assert sampled.knn_reused is None  # the sample finds its own neighbours: no corpus graph
    assert find_projection(store, corpus, record, sampled.params) == sampled
    assert find_projection(store, corpus, record, full.params) == full
    assert project(store, corpus, record, ProjectionParams(fit_sample=60)).reused
    assert stored_quality(store, corpus, record, sampled.params) == (
        sampled.seconds,
        sampled.quality,
    )
    assert stored_quality(store, corpus, record, ProjectionParams(fit_sample=70)) is None
    assert sampled.coords.shape == (150, 2) and np.isfinite(sampled.coords).all()
    assert "fitted on a seeded sample of 60 of 150 points (seed 0)" in sampled.caption()
    for made in (full, sampled):
        q = made.quality
        assert (q["seed"], q["sample_size"], q["n_points"]) == (EVALUATION_SEED, 150, 150)
        direct = map_quality(vectors, made.coords, k=10, seed=EVALUATION_SEED)
        assert q["knn_recall"] == pytest.approx(direct.knn_recall)
    # three well-separated blobs: placing by transform still keeps each blob's neighbours
    assert sampled.quality["trustworthiness"] > 0.9 and sampled.quality["knn_recall"] > 0.2
    analysis = ProjectionAnalysis(store, corpus, record, ProjectionParams(fit_sample=60))
    assert "fitted on a seeded sample of 60 of 150" in analysis.reading(sampled)
    assert "seed 0" in analysis.reading(sampled)
    assert "fit_sample = 60" in analysis.provenance()
    assert "the rest placed with transform" in analysis.provenance()


def test_the_fit_sample_is_seeded_and_apart_from_the_evaluation_sample() -> None:
    rows = fit_sample_rows(1000, 100, seed=3)
    assert np.array_equal(rows, fit_sample_rows(1000, 100, seed=3))
    assert not np.array_equal(rows, fit_sample_rows(1000, 100, seed=4))
    assert np.all(np.diff(rows) > 0)
    evaluation = np.random.default_rng(3).choice(1000, 100, replace=False)
    assert len(np.intersect1d(rows, evaluation)) < 40  # own stream: about 10 shared by chance


def recorder(log: list) -> object:
    def progress(done: int, total: int, stage: str | None = None) -> None:
        log.append((stage, done, total))

    return progress


def test_progress_names_the_stages_and_counts_the_epochs(store, tmp_path: Path) -> None:
    corpus, record = make_corpus(store, tmp_path, "staged", blobs(120))
    full: list = []
    project(store, corpus, record, ProjectionParams(fit_sample=None), recorder(full))
    stages = list(dict.fromkeys(stage for stage, _, _ in full))
    assert stages == [
        "loading vectors",
        "kNN graph",
        "fuzzy graph and spectral start",
        "layout epochs",
        "faithfulness and saving",
    ]
    epochs = [(done, total) for stage, done, total in full if stage == "layout epochs"]
    assert epochs[0] == (0, 500) and epochs[-1] == (500, 500)
    assert full[-1] == ("faithfulness and saving", 1, 1)
    sampled: list = []
    project(store, corpus, record, ProjectionParams(fit_sample=60), recorder(sampled))
    stages = list(dict.fromkeys(stage for stage, _, _ in sampled))
    assert stages == [
        "loading vectors",
        "neighbours and fuzzy graph of the 60-point sample",
        "layout epochs",
        "placing the rest with transform",
        "faithfulness and saving",
    ]
    placing = [(done, total) for stage, done, total in sampled if stage.startswith("placing")]
    assert placing[0] == (0, 60)


def test_a_cancel_stops_the_layout_between_epochs_and_stores_nothing(store, tmp_path: Path) -> None:
    corpus, record = make_corpus(store, tmp_path, "cancelled", blobs(120))
    job = Job(job_id="j", label="Map", key="k")
    seen: list = []

    def progress(done: int, total: int, stage: str | None = None) -> None:
        seen.append((stage, done))
        if stage == "layout epochs" and done >= 20:
            job.cancel_requested = True
        job.report(done, total, stage)

    with pytest.raises(JobCancelled):
        project(store, corpus, record, ProjectionParams(fit_sample=None), progress)
    assert max(done for stage, done in seen if stage == "layout epochs") < 500
    assert job.stage == "layout epochs"
    shown = Job(job_id="s", label="Map", key="s", status="running")
    shown.report(3, 10, stage="layout epochs")
    assert shown.progress_text().startswith("Map (layout epochs): 3/10")
    assert count(store, "projections") == 0
    # tqdm's write lock is free again: a bar made in another thread (as an embedding job's
    # encode makes one) does not wait on the cancelled layout's for ever.
    other = threading.Thread(target=lambda: list(tqdm(range(3), disable=True)), daemon=True)
    other.start()
    other.join(timeout=10)
    assert not other.is_alive(), "tqdm's lock was left held by the cancelled layout"
