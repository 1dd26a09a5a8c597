"""The command line: JSON on stdout, exit 2 with one line for bad input, store unchanged."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.shared import PROJECT_ROOT


def snapshot(cli, db: str) -> dict:
    code, payload, _ = cli("corpora", "--db", db)
    assert code == 0
    return payload


def test_ingest_embed_list_export_delete(cli, tmp_path: Path, tiny_csv: Path) -> None:
    db = str(tmp_path / "cli.duckdb")
    code, out, _ = cli("ingest", str(tiny_csv), "--name", "tiny", "--db", db)
    assert code == 0
    assert out == {
        "corpus": "tiny",
        "rows": 12,
        "dropped_empty": 0,
        "duplicates": 0,
        "columns": ["text", "topic", "score"],
        "text_column": "text",
        "label_columns": ["topic"],
        "notices": [],
    }
    code, out, err = cli("--db", db, "embed", "tiny")
    assert code == 0 and out["rows"] == 12 and out["dim"] == 384 and out["encoded"] == 12
    assert (
        out["model"] == "all-MiniLM-L6-v2" and "embedding: 12/12 texts" in err and "(100%)" in err
    )
    code, out, _ = cli("embed", "tiny", "--db", db)
    assert out["cached"] == 12 and out["encoded"] == 0
    assert snapshot(cli, db)["corpora"][0]["models"] == ["all-MiniLM-L6-v2"]
    code, out, _ = cli("vectors", "tiny", "--out", str(tmp_path / "v.npy"), "--db", db)
    assert code == 0 and out["rows"] == 12 and out["dim"] == 384
    code, out, _ = cli("delete", "tiny", "--db", db)
    assert code == 0 and out == {"deleted": "tiny", "rows": 12}
    assert snapshot(cli, db) == {"corpora": []}


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inner.csv", "text\nhello\n")
    return buffer.getvalue()


HOSTILE = {
    "empty.csv": (b"", "empty"),
    "header_only.csv": (b"text,label\n", "no rows"),
    "binary.csv": (bytes(range(256)) * 40, "binary"),
    "archive.csv": (_zip_bytes(), "ZIP"),
    "quote.csv": (b'text,label\n"an unterminated quote,a\nnext,b\n', "quote"),
    "broken.jsonl": (b'{"text": "ok"}\n{"text": "fine"}\n{"text": broken\n', "line 3"),
    "corrupt.parquet": (b"PAR1" + b"\x00garbage" * 50, "Parquet"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_exit_2_with_a_specific_line(cli, tmp_path: Path, name: str) -> None:
    db = str(tmp_path / "h.duckdb")
    content, expected = HOSTILE[name]
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot(cli, db)
    code, out, err = cli("ingest", str(path), "--name", "h", "--db", db)
    assert code == 2 and out is None
    assert err.startswith("error: ") and err.count("\n") == 1
    assert name in err and expected.lower() in err.lower()
    assert "Traceback" not in err
    assert snapshot(cli, db) == before


def test_text_over_the_limit_exits_2(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EMBEDLENS_MAX_CHARS", "50")
    path = tmp_path / "long.csv"
    path.write_text("text\nshort one\n" + "x" * 80 + "\n")
    code, _, err = cli("ingest", str(path), "--name", "l", "--db", str(tmp_path / "d"))
    assert code == 2 and "long.csv row 2" in err and "50" in err


def test_latin1_and_formula_cells_are_accepted(cli, tmp_path: Path) -> None:
    db = str(tmp_path / "l.duckdb")
    path = tmp_path / "latin.csv"
    path.write_bytes(
        'text,note\ncafé crème,=HYPERLINK("x")\nnaïve façade,<b>hi</b>\n'.encode("latin-1")
    )
    code, out, _ = cli("ingest", str(path), "--name", "latin", "--db", db)
    assert code == 0 and out["rows"] == 2
    assert any("Latin-1" in notice for notice in out["notices"])
    from analysis.core.store import open_store
    from analysis.corpus.corpora import get_corpus, load_documents

    store = open_store(db)
    docs = load_documents(store, get_corpus(store, "latin"))
    assert docs["text"].tolist() == ["café crème", "naïve façade"]
    assert docs["note"].tolist() == ['=HYPERLINK("x")', "<b>hi</b>"]


def test_parquet_with_vector_column_imports_a_model(cli, tmp_path: Path) -> None:
    db = str(tmp_path / "v.duckdb")
    path = tmp_path / "vec.parquet"
    table = pa.table({"text": ["one", "two", "three"], "emb": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]})
    pq.write_table(table, path)
    code, out, _ = cli(
        "ingest",
        str(path),
        "--name",
        "v",
        "--vector-column",
        "emb",
        "--vector-model",
        "mine",
        "--db",
        db,
    )
    assert code == 0 and out["imported_model"] == "mine"
    assert snapshot(cli, db)["corpora"][0]["models"] == ["mine"]
    code, _, err = cli("embed", "v", "--model", "no/such-model", "--db", db)
    assert code == 2 and "offline" in err


def test_unknown_corpus_and_missing_file(cli, tmp_path: Path) -> None:
    db = str(tmp_path / "u.duckdb")
    code, _, err = cli("embed", "ghost", "--db", db)
    assert code == 2 and "No corpus named 'ghost'" in err
    code, _, err = cli("ingest", str(tmp_path / "nope.csv"), "--name", "x", "--db", db)
    assert code == 2 and "no such file" in err


def test_ingest_reports_rows_rate_and_time_left(cli, tmp_path: Path, monkeypatch) -> None:
    from analysis.cli import corpus as corpus_commands
    from analysis.corpus import streaming

    monkeypatch.setattr(streaming, "BATCH_ROWS", 100)
    monkeypatch.setattr(corpus_commands, "QUIET_SECONDS", 0.0)
    path = tmp_path / "docs.csv"
    path.write_text("text,n\n" + "".join(f"text number {i},{i}\n" for i in range(450)))
    code, out, err = cli("ingest", str(path), "--name", "p", "--db", str(tmp_path / "p.duckdb"))
    assert code == 0 and out["rows"] == 450
    lines = [line for line in err.splitlines() if line.startswith("Ingesting p: ")]
    # One line per batch of 100 lines (99 rows in the first: the header is a line).
    assert [line.split(" rows")[0] for line in lines] == [
        f"Ingesting p: {done}/450" for done in (99, 199, 299, 399, 450)
    ]
    assert "/s · ~" in lines[1] and "left" in lines[1] and lines[-1].endswith("(100%)")


@pytest.mark.slow
def test_module_entry_point_prints_json_only_on_stdout(tmp_path: Path, tiny_csv: Path) -> None:
    env = {**os.environ, "EMBEDLENS_DB": str(tmp_path / "env.duckdb")}

    def ingest_t() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "analysis", "ingest", str(tiny_csv), "--name", "t"],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            env=env,
            timeout=120,
        )

    done = ingest_t()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 12
    bad = ingest_t()
    assert bad.returncode == 2 and bad.stdout == "" and "already exists" in bad.stderr
