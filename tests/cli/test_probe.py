"""`python -m analysis probe` and `compare`: JSON on stdout, progress on stderr, exit 2 for bad
input. Runs the bundled model on the 90-docstring corpus (its layers cached once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.core.store import Store
from tests.probe_corpus import NAME, copy_of, ingest_pairs, template

pytestmark = pytest.mark.slow  # the real model on the 'docs' store, every layer


@pytest.fixture
def db(tmp_path: Path, tmp_path_factory) -> str:
    return str(copy_of(template(tmp_path_factory), tmp_path / "cli_probe.duckdb"))


def test_probe_prints_layers_baselines_depth_and_dimension_curves(cli, db: str) -> None:
    code, out, err = cli(
        "probe", NAME, "--db", db, "--label-column", "topic", "--dims", "16", "64", "384"
    )
    assert code == 0, err
    assert "probe (texts encoded, then probes fitted)" in err and "100%" in err
    assert out["corpus"] == NAME and out["k"] == 3 and out["n"] == 90 and not out["reused"]
    assert len(out["layers"]) == 7
    layer = out["layers"][-1]
    for key in (
        "accuracy",
        "balanced_accuracy",
        "macro_f1",
        "roc_auc",
        "control_accuracy",
        "selectivity",
    ):
        assert set(layer[key]) == {"mean", "std", "ci", "folds"}
    assert out["chance"] == pytest.approx(1 / 3)
    assert set(out["baselines"]) == {"majority", "layer0", "tfidf"}
    assert layer["accuracy"]["mean"] > out["baselines"]["majority"]["accuracy"]["mean"] + 0.3
    assert out["peak_layer"] in range(7)
    assert "converging_layer" in out and "jump_layer" in out
    assert out["dimension_curves"]["dims"] == [16, 64, 384]
    assert "doc_ids" not in out and "fold_of" not in out
    code, again, _ = cli(
        "probe", NAME, "--db", db, "--label-column", "topic", "--dims", "16", "64", "384"
    )
    assert code == 0 and again["reused"] and again["layers"] == out["layers"]


def test_probe_merges_or_drops_small_classes_with_the_flags(cli, db: str) -> None:
    base = ("probe", NAME, "--db", db, "--label-column", "kind", "--dims", "16")
    code, out, err = cli(*base, "--min-class-size", "25", "--small-classes", "merge")
    assert code == 0, err
    assert out["classes"] == ["method", "other"] and out["n"] == 90
    assert out["small_classes"]["classes"] == {"function": 24, "class": 14, "module": 8}
    assert any("'module' (8), 'class' (14), 'function' (24)" in n for n in out["notices"])
    code, out, err = cli(*base, "--folds", "2", "--min-class-size", "10")
    assert code == 0, err
    assert out["classes"] == ["class", "function", "method"] and out["n"] == 82
    assert out["small_classes"] == {"min_class_size": 10, "rule": "drop", "classes": {"module": 8}}
    code, _, err = cli(*base, "--min-class-size", "-1")
    assert code == 2 and "cannot be negative" in err


def test_probe_guards_exit_2_with_one_line(cli, db: str, tmp_path: Path) -> None:
    code, out, err = cli("probe", NAME, "--db", db, "--label-column", "kind")
    assert code == 2 and out is None
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "too few for 5 folds" in lines[0], err
    assert "'module' (8), 'class' (14), 'function' (24)." in lines[0]
    assert "--min-class-size 25 --small-classes drop (or merge)" in lines[0]
    code, _, err = cli("probe", NAME, "--db", db)
    assert code == 2 and "--label-column" in err
    code, _, err = cli("probe", NAME, "--db", db, "--label-column", "topic", "--model", "lsa")
    assert code == 2 and "no layers" in err


def test_paper_mode(cli, db: str) -> None:
    code, out, err = cli("probe", NAME, "--db", db, "--label-column", "topic", "--paper")
    assert code == 0, err
    assert out["pooling"] == "last" and out["split"] == "0.6/0.4, random_state 42"
    assert len(out["layers"]) == 7 and set(out["layers"][0]) >= {"accuracy", "macro_f1", "roc_auc"}
    assert out["concept_depth"]["shown"] == "paper"


def test_sentence_pair_heatmap(cli, tmp_path: Path) -> None:
    db = tmp_path / "pairs.duckdb"
    store = Store(db)
    ingest_pairs(store)
    store.close()
    argv = ("probe", "pairs", "--db", str(db), "--pair-column", "text_b")
    code, _, err = cli(*argv)
    assert code == 2 and "--score-column" in err
    code, out, err = cli(*argv, "--score-column", "score", "--dims", "32", "128")
    assert code == 0, err
    heatmap = out["heatmap"]
    assert heatmap["value"] == "spearman_x100" and heatmap["dims"] == [32, 128, 384]
    assert len(heatmap["cells"]) == 7 and heatmap["percent_of_full"][-1][-1] == 100.0
    assert heatmap["cells"][-1][-1] > 50  # MiniLM ranks these pairs well


def test_compare_two_models_and_layers(cli, db: str) -> None:
    code, out, err = cli("compare", NAME, "--db", db, "--a", "default", "--b", "lsa")
    assert code == 0, err
    assert 0 < out["cka"] < 1
    assert set(out["knn_overlap"]) == {"k", "mean", "quantiles", "chance", "method"}
    assert out["distance_spearman"]["pairs"] == 90 * 89 // 2
    assert len(out["top_changed"]) == 20 and "text" in out["top_changed"][0]
    code, out, err = cli("compare", NAME, "--db", db, "--a", "default:2", "--b", "default:2")
    assert code == 0, err
    assert out["cka"] == pytest.approx(1.0)
    code, out, err = cli("compare", NAME, "--db", db, "--layers")
    assert code == 0, err
    assert len(out["matrix"]) == 7 and out["matrix"][3][3] == pytest.approx(1.0)
    code, _, err = cli("compare", NAME, "--db", db, "--a", "default")
    assert code == 2 and "--b" in err
    code, _, err = cli("compare", NAME, "--db", db, "--a", "default:9", "--b", "lsa")
    assert code == 2 and "no layer 9" in err
