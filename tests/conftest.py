"""Shared fixtures: a real DuckDB file per test, the real bundled model once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from analysis.config import Limits  # noqa: E402
from analysis.store import Store  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_SMALL = PROJECT_ROOT / "data" / "demo" / "stdlib_docs_small.csv"


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
    from analysis.encoders import load_encoder

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
