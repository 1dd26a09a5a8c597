"""End to end in Debian Chromium: the app open on a store while the command line writes to it.

The server holds the store only while it uses it, so `python -m analysis ingest` and `embed`
on the same file succeed, and the sidebar (refreshed live) and the pages show the new corpus.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Serve
from tests.browser.test_jobs import corpora, sidebar
from tests.shared import ANIMAL_TEXTS, spawn_python

pytestmark = pytest.mark.browser


def command_line(db: Path, *argv: str) -> tuple[int, str]:
    """Run ``python -m analysis --db db *argv`` to the end: (exit code, stderr)."""
    child = spawn_python("-m", "analysis", "--db", str(db), *argv)
    _, err = child.communicate(timeout=600)
    return child.returncode, err


def test_command_line_ingest_and_embed_while_the_app_is_open(
    serve: Serve, page: Page, tmp_path: Path
) -> None:
    db = tmp_path / "shared.duckdb"
    url = serve(db, fill=corpora(first=ANIMAL_TEXTS))
    page.goto(url)
    expect(sidebar(page)).to_contain_text("1 corpus")

    source = tmp_path / "shell notes.csv"
    source.write_text("text\n" + "\n".join(f"note number {i}" for i in range(40)) + "\n")
    code, err = command_line(db, "ingest", str(source), "--name", "from the shell")
    assert code == 0, err
    # The sidebar refreshes on its own timer: no reload needed.
    expect(sidebar(page)).to_contain_text("2 corpora", timeout=15_000)

    code, err = command_line(db, "embed", "from the shell")
    assert code == 0, err

    page.reload()
    page.get_by_role("combobox", name="Inspect").click()
    expect(page.get_by_role("option", name="from the shell", exact=True)).to_be_visible()
    page.get_by_role("option", name="from the shell", exact=True).click()
    main = page.get_by_test_id("stMainBlockContainer")
    expect(main).to_contain_text("40")
    expect(main).to_contain_text("all-MiniLM-L6-v2")
