"""The map commands of the CLI (project, search, index, cluster) and how they refuse bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from analysis.cli.main import main
from analysis.core.config import Limits
from analysis.core.store import Store, open_store
from analysis.corpus.corpora import IngestOptions
from analysis.corpus.readers import read_path
from analysis.vectors.embedding import embed_corpus
from analysis.vectors.ingest import ingest

pytestmark = pytest.mark.slow  # every store here is embedded with the real model

ANIMALS = set(range(6))  # tiny_csv: rows 0-5 are animals, 6-11 finance
ANIMAL_WORDS = {"cat", "dogs", "parrot", "horses", "goldfish", "owls", "mat", "park", "night"}


def refused(cli, *argv: str) -> str:
    """Run a command that must fail as bad input; return its one error line (after any progress)."""
    code, out, err = cli(*argv)
    assert code == 2 and out is None and "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith("map")]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    return lines[0]


def table_counts(db: str) -> dict[str, int]:
    import duckdb

    store = open_store(db)
    counts = {}
    for table in ("projections", "projection_coords", "knn_graphs", "clusterings"):
        try:
            counts[table] = store.fetch_all(f"SELECT count(*) FROM {table}")[0][0]
        except duckdb.Error:
            counts[table] = 0
    return counts


_TEMPLATES: dict[str, Path] = {}


@pytest.fixture
def db(tmp_path: Path, tmp_path_factory, tiny_csv: Path, default_encoder) -> str:
    """A fresh copy of a store holding the 12-text corpus 'tiny', embedded with the bundled model.

    The store is built once per session and copied, so each test starts clean without embedding
    again (test_main.py covers the ingest and embed commands themselves).
    """
    template = _TEMPLATES.get("tiny")
    if template is None:
        template = tmp_path_factory.mktemp("template") / "tiny.duckdb"
        built = Store(template)
        ingest(built, [read_path(tiny_csv, Limits())], IngestOptions(name="tiny"))
        embed_corpus(built, "tiny")
        built.close()  # checkpointed: the file alone is the whole store
        _TEMPLATES["tiny"] = template
    path = tmp_path / "cli.duckdb"
    shutil.copyfile(template, path)
    return str(path)


def test_project_prints_the_map_summary_and_writes_coordinates(
    cli, db: str, tmp_path: Path
) -> None:
    out_path = tmp_path / "coords.parquet"
    code, out, err = cli("project", "tiny", "--db", db, "--out", str(out_path))
    assert code == 0, err
    assert {"n", "method", "params", "seconds", "trustworthiness", "knn_recall"} <= set(out)
    assert out["corpus"] == "tiny" and out["model"] == "all-MiniLM-L6-v2"
    assert out["n"] == 12 and out["method"] == "umap" and out["reused"] is False
    assert out["params"] == {
        "method": "umap",
        "dims": 2,
        "seed": 0,
        "n_neighbors": 11,  # 15 clamped to n - 1
        "min_dist": 0.1,
        "densmap": False,
    }
    for name in ("trustworthiness", "continuity", "knn_recall"):
        assert 0.0 <= out[name] <= 1.0 and out[name] == out["quality"][name]
    assert out["quality"]["sample_size"] == 12 and out["quality"]["k"] == 5
    assert out["seconds"] >= 0 and "(layout epochs)" in err and "(100%)" in err
    assert out["out"] == str(out_path)

    table = pq.read_table(out_path)
    assert table.column_names == ["doc_id", "x", "y"]
    assert table.column("doc_id").to_pylist() == list(range(12))
    coords = np.column_stack([table.column("x").to_numpy(), table.column("y").to_numpy()])
    assert np.isfinite(coords).all() and coords.std(axis=0).min() > 0
    metadata = table.schema.metadata
    assert json.loads(metadata[b"params"]) == out["params"]

    again_path = tmp_path / "again.parquet"
    code, again, _ = cli("project", "tiny", "--db", db, "--out", str(again_path))
    assert code == 0 and again["reused"] is True
    assert again["params"] == out["params"] and again["quality"] == out["quality"]
    assert pq.read_table(again_path).equals(table)
    assert table_counts(db)["projections"] == 1


def test_project_pca_in_three_dimensions(cli, db: str, tmp_path: Path) -> None:
    out_path = tmp_path / "pca3.parquet"
    argv = ["project", "tiny", "--db", db, "--method", "pca", "--dims", "3", "--out", str(out_path)]
    code, out, err = cli(*argv)
    assert code == 0, err
    assert out["method"] == "pca" and out["params"] == {"method": "pca", "dims": 3, "seed": 0}
    table = pq.read_table(out_path)
    assert table.column_names == ["doc_id", "x", "y", "z"] and table.num_rows == 12


def test_project_fit_sample_fits_umap_on_a_seeded_sample(cli, tmp_path: Path) -> None:
    from tests.map.test_projection import blobs, make_corpus

    db = tmp_path / "blobs.duckdb"
    store = Store(db)
    make_corpus(store, tmp_path, "blobs", blobs(120))
    store.close()
    code, sampled, err = cli("project", "blobs", "--db", str(db), "--fit-sample", "60")
    assert code == 0, err
    assert sampled["params"]["fit_sample"] == 60 and sampled["n"] == 120
    assert sampled["fitted"] == (
        "UMAP fitted on a seeded sample of 60 of 120 points (seed 0), the rest placed with "
        "transform."
    )
    assert "(layout epochs)" in err and "(placing the rest with transform)" in err
    code, full, err = cli("project", "blobs", "--db", str(db), "--fit-sample", "all")
    assert code == 0 and "fit_sample" not in full["params"] and not full["reused"]
    assert full["fitted"] == "on every document"
    for made in (sampled, full):  # scored on the same seeded evaluation points
        assert (made["quality"]["seed"], made["quality"]["sample_size"]) == (0, 120)
    assert table_counts(str(db))["projections"] == 2
    err = refused(cli, "project", "blobs", "--db", str(db), "--fit-sample", "10")
    assert "fit_sample must be at least 50 points, got 10" in err
    err = refused(cli, "project", "blobs", "--db", str(db), "--method", "pca", "--fit-sample", "60")
    assert "applies to UMAP only" in err


def test_project_help_states_the_fit_sample_size_rule(capsys) -> None:
    from analysis.map.projection import AUTO_FIT_SAMPLE, FULL_UMAP_LIMIT

    with pytest.raises(SystemExit):
        main(["project", "--help"])
    shown = capsys.readouterr().out
    assert f"all up to {FULL_UMAP_LIMIT:,} documents" in " ".join(shown.split())
    assert f"else {AUTO_FIT_SAMPLE:,}" in shown


def test_search_lists_documents_with_scores_best_first(
    cli, tmp_path: Path, tiny_csv: Path, default_encoder
) -> None:
    db = str(tmp_path / "s.duckdb")
    ingest = ["ingest", str(tiny_csv), "--name", "t", "--keep-columns", "topic", "--db", db]
    assert cli(*ingest)[0] == 0
    assert cli("embed", "t", "--db", db)[0] == 0
    code, out, err = cli("search", "t", "a pet animal", "--k", "5", "--db", db)
    assert code == 0, err
    assert out["corpus"] == "t" and out["query"] == "a pet animal"
    results = out["results"]
    assert len(results) == 5
    for result in results:
        assert set(result) == {"doc_id", "score", "text", "topic"}
        assert -1.0 <= result["score"] <= 1.0
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 5
    assert results[0]["doc_id"] in ANIMALS and results[0]["topic"] == "animals"
    rows = tiny_csv.read_text().splitlines()[1:]
    for result in results:
        assert rows[result["doc_id"]].startswith(f'"{result["text"]}",{result["topic"]},')
    code, out, _ = cli("search", "t", "stock prices", "--k", "50", "--db", db)
    assert code == 0 and len(out["results"]) == 12
    assert out["results"][0]["topic"] == "finance"


def test_search_keeps_the_similarity_score_when_metadata_has_a_score_column(cli, db: str) -> None:
    from analysis.core.store import open_store
    from analysis.vectors.catalogue import load_model_vectors
    from analysis.vectors.search import semantic_search

    code, out, _ = cli("search", "tiny", "a pet animal", "--k", "4", "--db", db)
    assert code == 0
    store = open_store(db)
    corpus, record, vectors = load_model_vectors(store, "tiny")
    hits = semantic_search(store, corpus, record, "a pet animal", 4, vectors)
    assert [r["doc_id"] for r in out["results"]] == [h.doc_id for h in hits]
    assert [r["score"] for r in out["results"]] == [round(h.score, 6) for h in hits]
    assert all(isinstance(r["metadata.score"], int) for r in out["results"])


def test_index_then_search_through_it_matches_exact_search(cli, db: str) -> None:
    error = refused(cli, "search", "tiny", "a pet animal", "--method", "index", "--db", db)
    assert "no search index" in error and "python -m analysis index 'tiny'" in error
    error = refused(cli, "index", "tiny", "--lists", "0", "--db", db)
    assert "lists must be 1-1,000,000, got 0" in error
    code, built, err = cli("index", "tiny", "--db", db)
    assert code == 0, err
    assert built["corpus"] == "tiny" and built["n"] == 12 and built["used_by_search"] is False
    assert built["recall"] == 1.0 and built["recall_queries"] == 12 and built["recall_k"] == 10
    assert built["lists"] == 1 and built["probes"] == 1  # 12 vectors: one list, scanned whole
    assert (
        built["method"].startswith("IVF index (faiss, 1 of 1 lists")
        and "recall@10 1.000" in built["method"]
    )
    assert "search index (filing vectors): 12/12" in err
    code, exact, _ = cli("search", "tiny", "a pet animal", "--k", "5", "--db", db)
    assert code == 0 and exact["approximate"] is False  # 12 documents: exact, index or not
    assert exact["method"] == "exact cosine search over 12 vectors"
    argv = ["search", "tiny", "a pet animal", "--k", "5", "--method", "index", "--db", db]
    code, by_index, _ = cli(*argv)
    assert code == 0 and by_index["approximate"] is True
    assert by_index["method"] == built["method"]
    assert [r["doc_id"] for r in by_index["results"]] == [r["doc_id"] for r in exact["results"]]
    for a, b in zip(by_index["results"], exact["results"], strict=True):
        assert a["score"] == pytest.approx(b["score"], abs=1e-5) and a["text"] == b["text"]


def test_cluster_kmeans_finds_the_two_topics(cli, db: str) -> None:
    argv = ["cluster", "tiny", "--db", db, "--method", "kmeans", "--k", "2"]
    code, out, err = cli(*argv)
    assert code == 0, err
    assert out["method"] == "kmeans" and out["reused"] is False
    assert out["n_clusters"] == 2 and out["n_documents"] == 12 and out["noise"] == 0
    assert out["params"]["k"] == 2 and out["params"]["pca_dims"] is None  # 384 dims > 12 docs
    assert [c["id"] for c in out["clusters"]] == [0, 1]
    assert sum(c["size"] for c in out["clusters"]) == 12
    assert all(c["keywords"] for c in out["clusters"])
    assert isinstance(out["silhouette"], float) and 0.0 < out["silhouette"] <= 1.0
    assert out["silhouette_sample"] == 12
    # One cluster is the animals: six documents, labelled with animal words.
    animal = [c for c in out["clusters"] if set(c["keywords"]) & ANIMAL_WORDS]
    assert len(animal) == 1 and animal[0]["size"] == 6
    code, again, _ = cli(*argv)
    assert code == 0 and again["reused"] is True and again["clusters"] == out["clusters"]
    assert table_counts(db)["clusterings"] == 1


def test_cluster_hdbscan_takes_the_suggested_settings_and_says_when_all_is_noise(
    cli, db: str, capsys
) -> None:
    code, out, err = cli("cluster", "tiny", "--db", db)
    assert code == 0, err
    assert (out["params"]["min_cluster_size"], out["params"]["min_samples"]) == (5, 2)
    assert out["reading"].startswith("HDBSCAN (min_cluster_size 5, min_samples 2; on the full")
    assert "{" not in out["reading"]
    # Defaults are stored as the numbers they stand for (as the page asks): one stored result.
    assert cli("cluster", "tiny", "--db", db, "--min-samples", "2")[1]["reused"] is True
    code, noise, err = cli("cluster", "tiny", "--db", db, "--min-cluster-size", "12")
    assert code == 0, err
    assert (noise["params"]["min_cluster_size"], noise["params"]["min_samples"]) == (12, 4)
    assert noise["n_clusters"] == 0 and noise["noise"] == 12
    (notice,) = noise["notices"]
    assert notice.startswith("HDBSCAN found no cluster: all 12 documents are noise")
    assert "Try a lower min_samples (now 4" in notice
    err = refused(
        cli, "cluster", "tiny", "--db", db, "--method", "kmeans", "--k", "2", "--min-samples", "3"
    )
    assert "min_samples applies to hdbscan only" in err
    err = refused(cli, "cluster", "tiny", "--db", db, "--min-samples", "13")
    assert "min_samples must be at most the number of documents (12), got 13" in err
    with pytest.raises(SystemExit):
        main(["cluster", "--help"])
    assert "min_cluster_size = n / 200 rounded" in " ".join(capsys.readouterr().out.split())


def test_unknown_corpus_exits_2(cli, tmp_path: Path) -> None:
    db = str(tmp_path / "empty.duckdb")
    for argv in (["project", "ghost"], ["search", "ghost", "cats"], ["cluster", "ghost"]):
        err = refused(cli, *argv, "--db", db)
        assert "No corpus named 'ghost'" in err


def test_a_corpus_that_is_not_embedded_exits_2(cli, tmp_path: Path, tiny_csv: Path) -> None:
    db = str(tmp_path / "raw.duckdb")
    assert cli("ingest", str(tiny_csv), "--name", "raw", "--db", db)[0] == 0
    for argv in (["project", "raw"], ["search", "raw", "cats"], ["cluster", "raw"]):
        err = refused(cli, *argv, "--db", db)
        assert "no embeddings yet; embed it first" in err
    assert table_counts(db) == dict.fromkeys(table_counts(db), 0)


def test_bad_project_and_search_arguments_exit_2(cli, db: str, tmp_path: Path) -> None:
    err = refused(cli, "project", "tiny", "--db", db, "--out", str(tmp_path / "coords.csv"))
    assert "coords.csv" in err and ".parquet" in err
    assert not (tmp_path / "coords.csv").exists()
    missing = tmp_path / "no" / "such" / "c.parquet"
    err = refused(cli, "project", "tiny", "--db", db, "--method", "pca", "--out", str(missing))
    assert "does not exist" in err
    err = refused(cli, "project", "tiny", "--db", db, "--n-neighbors", "1")
    assert "n_neighbors must be between 2 and 200, got 1" in err
    err = refused(cli, "search", "tiny", "  ", "--db", db)
    assert "Type a query" in err
    err = refused(cli, "search", "tiny", "cats", "--k", "0", "--db", db)
    assert "k must be between 1 and 1000" in err
    err = refused(cli, "cluster", "tiny", "--db", db, "--method", "kmeans")
    assert "k-means needs a number of clusters k" in err
    err = refused(cli, "project", "tiny", "--db", db, "--model", "lsa")
    assert "not embedded with 'lsa'" in err


def test_a_bad_out_path_is_refused_before_any_work(cli, db: str, tmp_path: Path) -> None:
    before = table_counts(db)
    refused(cli, "project", "tiny", "--db", db, "--method", "pca", "--out", str(tmp_path / "c.csv"))
    assert table_counts(db) == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["project", "tiny", "--dims", "4"], "invalid choice: 4"),
        (["project", "tiny", "--method", "mds"], "invalid choice: 'mds'"),
        (["project", "tiny", "--fit-sample", "lots"], "'all' or 'auto', got 'lots'"),
        (["cluster", "tiny", "--method", "dbscan"], "invalid choice: 'dbscan'"),
        (["search", "tiny", "cats", "--k", "many"], "invalid int value: 'many'"),
        (["search", "tiny"], "the following arguments are required: query"),
    ],
)
def test_argparse_rejects_malformed_options(capsys, tmp_path: Path, argv, message) -> None:
    with pytest.raises(SystemExit) as info:
        main([*argv, "--db", str(tmp_path / "x.duckdb")])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err
    assert not (tmp_path / "x.duckdb").exists()
