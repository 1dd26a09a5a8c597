"""Fixtures for every test folder: a real DuckDB file per test, the real bundled model once per
session, a tiny labelled CSV. Folder conftest.py files add the CLI runner (cli/), the AppTest
stores (pages/) and the real server with Chromium (browser/); helpers shared across folders live
in shared.py and probe_corpus.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("EMBEDLENS_NO_WARMUP", "1")  # tests must not compete with a JIT thread

from analysis.core.config import Limits
from analysis.core.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh store in its own DuckDB file."""
    db = Store(tmp_path / "store.duckdb")
    yield db
    db.close()


@pytest.fixture
def limits() -> Limits:
    return Limits()


@pytest.fixture(scope="session")
def default_encoder():
    from analysis.models.encoders import load_encoder

    return load_encoder("default")


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    """Twelve short labelled texts in two topics: enough for every code path, fast to embed."""
    rows = [
        ("The cat sat on the warm mat.", "animals", 1),
        ("Dogs love long walks in the park.", "animals", 2),
        ("A parrot can learn many words.", "animals", 3),
        ("Horses gallop across the open field.", "animals", 4),
        ("The goldfish swims in its bowl.", "animals", 5),
        ("Owls hunt quietly at night.", "animals", 6),
        ("The stock market fell sharply today.", "finance", 7),
        ("Interest rates were raised again.", "finance", 8),
        ("The bank approved the mortgage.", "finance", 9),
        ("Bonds rallied after the announcement.", "finance", 10),
        ("Inflation slowed for the third month.", "finance", 11),
        ("The company reported record profits.", "finance", 12),
    ]
    path = tmp_path / "tiny.csv"
    lines = ["text,topic,score"] + [f'"{t}",{label},{score}' for t, label, score in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def figures():
    """Three charts to pin to the report: tests/report/charts.py."""
    from tests.report.charts import sample_figures

    return sample_figures()
