"""`python -m analysis report`: the standard figures of a corpus as files, report.html, index.md."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from plotly.offline import get_plotlyjs
from test_figure_export import pdf_pages, png_size

from analysis.cli.main import main
from analysis.output import figure_files as figure_export

DATE = r"\d{4}-\d\d-\d\d"


def run(capsys, *argv: str) -> tuple[int, dict | None, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    payload = json.loads(captured.out) if captured.out.strip() else None
    return code, payload, captured.err


@pytest.fixture
def db(capsys, tmp_path: Path, tiny_csv: Path) -> str:
    """The twelve tiny texts with imported 8-d vectors (two separated blobs): no model run."""
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((12, 8)).astype(np.float32)
    vectors[6:] += 4.0
    npy = tmp_path / "tiny.npy"
    np.save(npy, vectors)
    path = str(tmp_path / "report.duckdb")
    code, out, err = run(
        capsys, "ingest", str(tiny_csv), "--npy", str(npy), "--vector-model", "synth",
        "--name", "tiny", "--db", path,
    )  # fmt: skip
    assert code == 0, err
    assert out["imported_model"] == "synth"
    return path


def test_report_writes_every_format_plus_html_and_index(capsys, tmp_path: Path, db: str) -> None:
    out_dir = tmp_path / "out" / "nested"
    code, out, err = run(
        capsys, "report", "tiny", "--db", db, "--out", str(out_dir),
        "--formats", "png", "svg", "pdf", "html",
    )  # fmt: skip
    assert code == 0, err
    assert out["corpus"] == "tiny" and out["seconds"] > 0
    files = [Path(name) for name in out["files"]]
    assert all(path.parent == out_dir and path.is_file() for path in files)
    names = [path.name for path in files]
    stems = [f"01-tiny-map-synth-{DATE}", f"02-tiny-lengths-{DATE}", f"03-tiny-labels-topic-{DATE}"]
    expected = [f"{stem}\\.{fmt}" for stem in stems for fmt in ("png", "svg", "pdf", "html")]
    expected += ["report\\.html", "index\\.md"]
    assert len(names) == len(expected)
    for name, pattern in zip(names, expected, strict=True):
        assert re.fullmatch(pattern, name), (name, pattern)
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(names)
    assert "projection stage: 3/3 (100%)" in err

    by_ext = {ext: [p for p in files if p.suffix == ext] for ext in (".png", ".svg", ".pdf")}
    map_png = by_ext[".png"][0].read_bytes()
    assert png_size(map_png) == (2 * figure_export.DEFAULT_WIDTH, 2 * 640)  # maps are 640 high
    for svg in by_ext[".svg"]:
        assert ET.fromstring(svg.read_bytes()).tag.endswith("svg")
    for pdf in by_ext[".pdf"]:
        assert len(pdf_pages(pdf.read_bytes())) == 1

    report = (out_dir / "report.html").read_text(encoding="utf-8")
    assert report.count(get_plotlyjs()) == 1
    ours = report.replace(get_plotlyjs(), "")
    assert "https://" not in ours and "<script src" not in ours
    assert "UMAP map — tiny" in ours and "Label counts — topic" in ours
    index = (out_dir / "index.md").read_text(encoding="utf-8")
    for name in names[:-2]:
        assert f"({name})" in index
    assert "model synth" in index and "Corpus tiny, model synth; UMAP 2-D" in index


def test_the_stored_map_is_reused(capsys, tmp_path: Path, db: str) -> None:
    from analysis.core.store import open_store

    for run_dir in ("a", "b"):
        code, _, err = run(
            capsys, "report", "tiny", "--db", db, "--out", str(tmp_path / run_dir),
            "--analyses", "map", "--formats", "html",
        )  # fmt: skip
        assert code == 0, err
    rows = open_store(db).cursor().execute("SELECT count(*) FROM projections").fetchall()
    assert rows == [(1,)]


def test_missing_chromium_fails_fast_and_html_still_works(
    capsys, monkeypatch, tmp_path: Path, db: str
) -> None:
    monkeypatch.setattr(figure_export, "find_chromium", lambda: None)
    out_dir = tmp_path / "nothing"
    code, out, err = run(
        capsys, "report", "tiny", "--db", db, "--out", str(out_dir), "--formats", "png", "html"
    )
    assert code == 2 and out is None
    assert "needs Chromium" in err and "apt-get install chromium" in err
    assert not out_dir.exists()
    code, out, err = run(
        capsys, "report", "tiny", "--db", db, "--out", str(out_dir),
        "--analyses", "corpus", "--formats", "html",
    )  # fmt: skip
    assert code == 0, err
    assert [Path(name).suffix for name in out["files"]] == [".html", ".html", ".html", ".md"]


def test_bad_requests_exit_2_with_one_line(capsys, tmp_path: Path, db: str) -> None:
    code, _, err = run(capsys, "report", "ghost", "--db", db, "--out", str(tmp_path / "g"))
    assert code == 2 and "No corpus named 'ghost'" in err
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    code, _, err = run(capsys, "report", "tiny", "--db", db, "--out", str(blocker))
    assert code == 2 and "is not a folder" in err
    code, _, err = run(
        capsys, "report", "tiny", "--db", db, "--out", str(tmp_path / "m"), "--model", "nope"
    )
    assert code == 2 and "not embedded with 'nope'" in err
