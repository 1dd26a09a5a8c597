"""Opening the app's pages under Streamlit's AppTest, on a store the test chooses."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from analysis.core.jobs import job_runner
from tests.shared import PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")


def app_db(source: Path, target: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the closed store ``source`` at ``target``, made the app's store (EMBEDLENS_DB)."""
    shutil.copyfile(source, target)
    monkeypatch.setenv("EMBEDLENS_DB", str(target))
    return target


def open_app_page(page: str, title: str, state: Mapping[str, Any] | None = None) -> AppTest:
    """The app under AppTest opened on ``pages/<page>.py`` (the first run registers
    st.navigation's pages), with ``state`` set in the session first (e.g. a page's last corpus,
    ``{"map_corpus_last": "topics"}``)."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == title
    return at


def finish_job(at: AppTest, slot: str, timeout: float = 600.0) -> None:
    """Wait for the page's background job (session state ``job_<slot>``), which must end done,
    then rerun the page, which must not raise."""
    job = job_runner().wait(at.session_state[f"job_{slot}"], timeout)
    assert job.status == "done", job.error
    at.run()
    assert not at.exception, at.exception


def chart_titles(at: AppTest) -> list[str]:
    """The title of every Plotly chart on the page, in order."""
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
