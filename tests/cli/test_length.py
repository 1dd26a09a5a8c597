"""`python -m analysis length`: JSON per temperature and bucket; exit 2 naming a small bucket."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.models.tokens import count_tokens
from tests.shared import DEMO_DOCS

pytestmark = pytest.mark.slow  # the real model at every length


@pytest.fixture
def corpus_csv(tmp_path: Path) -> Path:
    """12 long docstrings (two topics) and 12 short ones."""
    frame = pd.read_csv(DEMO_DOCS)
    frame["n"] = count_tokens(frame["text"].tolist())
    frame = frame[frame["topic"].isin(["concurrency", "files & OS"])]
    long = frame[frame["n"].between(40, 250)].groupby("topic").head(6)
    short = frame[frame["n"] < 14].head(12)
    path = tmp_path / "docs.csv"
    pd.concat([long, short])[["text", "topic"]].to_csv(path, index=False)
    return path


def test_length_json_per_tau_and_bucket(cli, tmp_path, corpus_csv) -> None:
    db = str(tmp_path / "cli.duckdb")
    code, _, _ = cli("--db", db, "ingest", str(corpus_csv), "--name", "docs")
    assert code == 0
    args = ["--db", db, "length", "docs", "--lengths", "8", "16", "32", "--per-bucket", "12"]
    code, out, err = cli(*args, "--tau", "0.8", "--label-column", "topic")
    assert code == 0, err
    assert "length analysis: 72/72" in err and "(100%)" in err
    assert out["mode"] == "truncate" and out["lengths"] == [8, 16, 32]
    assert out["per_bucket"] == 12 and out["label_column"] == "topic"
    assert [entry["tau"] for entry in out["taus"]] == [1.0, 0.8]
    for entry in out["taus"]:
        assert 0 <= entry["probe_accuracy"] <= 1 and entry["probe_chance"] == pytest.approx(1 / 3)
        assert entry["task_accuracy"] is not None
        assert [row["name"] for row in entry["buckets"]] == ["8 tok", "16 tok", "32 tok"]
        for row in entry["buckets"]:
            assert row["n_texts"] == 12 and row["mean_tokens"] in (8, 16, 32)
            low, high = row["ci"]
            assert low <= row["mpc"] <= high
            assert len(row["pooled_mpc"]) == 7  # index 0 = embedding layer, then 6 layers
            assert row["effective_rank"] > 1
            assert 0 <= row["probe_accuracy"] <= 1 and 0 <= row["task_accuracy"] <= 1
    assert len(out["baselines"]["centered"]) == len(out["baselines"]["whitened"]) == 3
    assert "rises" in out["summary"] or "falls" in out["summary"]
    assert out["reused"] is False

    code, again, _ = cli(*args, "--tau", "0.8", "--label-column", "topic")
    assert code == 0 and again["reused"] is True
    assert again["taus"] == out["taus"]


def test_too_short_corpus_exits_2_naming_the_bucket(cli, tmp_path, corpus_csv) -> None:
    db = str(tmp_path / "cli.duckdb")
    cli("--db", db, "ingest", str(corpus_csv), "--name", "docs")
    code, out, err = cli("--db", db, "length", "docs", "--mode", "truncate", "--per-bucket", "12")
    assert code == 2 and out is None
    assert err.startswith("error: Bucket 128 tokens is too small: only ")
    assert "text(s) have at least 128 tokens" in err and "Traceback" not in err
    code, out, err = cli(
        *("--db", db, "length", "docs", "--mode", "buckets"),
        *("--lengths", "0", "16", "32", "--per-bucket", "10", "--tau", "1"),
    )
    assert code == 2 and "[0,16): 12 text(s); [16,32]: 0 text(s)" in err, err
    code, _, err = cli("--db", db, "length", "docs", "--model", "lsa")
    assert code == 2 and "need a transformer" in err
