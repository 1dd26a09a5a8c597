"""Fixtures for the AppTest pages: the app's store made from a prepared template."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pages.apptest import app_db
from tests.probe_corpus import template


@pytest.fixture
def docs_db(tmp_path: Path, tmp_path_factory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's store: a copy of probe_corpus's 'docs' store (embedded, layers cached)."""
    return app_db(template(tmp_path_factory), tmp_path / "docs.duckdb", monkeypatch)
