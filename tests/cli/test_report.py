"""`python -m analysis report`: the standard figures of a corpus as files, report.html, index.md."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from plotly.offline import get_plotlyjs

from analysis.output import figure_files as figure_export
from tests.output.formats import pdf_pages, png_size

DATE = r"\d{4}-\d\d-\d\d"


@pytest.fixture
def db(cli, tmp_path: Path, tiny_csv: Path) -> str:
    """The twelve tiny texts with imported 8-d vectors (two separated blobs): no model run."""
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((12, 8)).astype(np.float32)
    vectors[6:] += 4.0
    npy = tmp_path / "tiny.npy"
    np.save(npy, vectors)
    path = str(tmp_path / "report.duckdb")
    code, out, err = cli(
        "ingest", str(tiny_csv), "--npy", str(npy), "--vector-model", "synth",
        "--name", "tiny", "--db", path,
    )  # fmt: skip
    assert code == 0, err
    assert out["imported_model"] == "synth"
    return path


@pytest.mark.slow
def test_report_writes_every_format_plus_html_and_index(cli, tmp_path: Path, db: str) -> None:
    out_dir = tmp_path / "out" / "nested"
    code, out, err = cli(
        "report", "tiny", "--db", db, "--out", str(out_dir),
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
    assert "map (faithfulness and saving): 1/1" in err and "(100%)" in err

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


def test_the_stored_map_is_reused(cli, tmp_path: Path, db: str) -> None:
    from analysis.core.store import open_store

    for run_dir in ("a", "b"):
        code, _, err = cli(
            "report", "tiny", "--db", db, "--out", str(tmp_path / run_dir),
            "--analyses", "map", "--formats", "html",
        )  # fmt: skip
        assert code == 0, err
    rows = open_store(db).fetch_all("SELECT count(*) FROM projections")
    assert rows == [(1,)]


def test_missing_chromium_fails_fast_and_html_still_works(
    cli, monkeypatch, tmp_path: Path, db: str
) -> None:
    monkeypatch.setattr(figure_export, "find_chromium", lambda: None)
    out_dir = tmp_path / "nothing"
    code, out, err = cli(
        "report", "tiny", "--db", db, "--out", str(out_dir), "--formats", "png", "html"
    )
    assert code == 2 and out is None
    assert "needs Chromium" in err and "apt-get install chromium" in err
    assert not out_dir.exists()
    code, out, err = cli(
        "report", "tiny", "--db", db, "--out", str(out_dir),
        "--analyses", "corpus", "--formats", "html",
    )  # fmt: skip
    assert code == 0, err
    assert [Path(name).suffix for name in out["files"]] == [".html", ".html", ".html", ".md"]
    index = (out_dir / "index.md").read_text(encoding="utf-8")
    assert index.startswith("# EmbedLens report: tiny\n")  # the default title
    code, out, err = cli(
        "report", "tiny", "--db", db, "--out", str(out_dir),
        "--analyses", "corpus", "--formats", "html", "--title", "Tiny <texts>",
    )  # fmt: skip
    assert code == 0, err
    assert (out_dir / "index.md").read_text(encoding="utf-8").startswith("# Tiny \\<texts\\>\n")
    report = (out_dir / "report.html").read_text(encoding="utf-8")
    assert "<h1>Tiny &lt;texts&gt;</h1>" in report


def test_bad_requests_exit_2_with_one_line(cli, tmp_path: Path, db: str) -> None:
    code, _, err = cli("report", "ghost", "--db", db, "--out", str(tmp_path / "g"))
    assert code == 2 and "No corpus named 'ghost'" in err
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    code, _, err = cli("report", "tiny", "--db", db, "--out", str(blocker))
    assert code == 2 and "is not a folder" in err
    code, _, err = cli(
        "report", "tiny", "--db", db, "--out", str(tmp_path / "m"), "--model", "nope"
    )
    assert code == 2 and "not embedded with 'nope'" in err
