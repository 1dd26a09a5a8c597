"""End to end in Debian Chromium: a tiny length analysis run from the Length page."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from analysis.core.config import Limits
from analysis.core.store import Store
from analysis.corpus.corpora import IngestOptions
from analysis.corpus.readers import read_bytes
from analysis.models.tokens import count_tokens
from analysis.vectors.ingest import ingest
from tests.shared import DEMO_DOCS

pytestmark = pytest.mark.browser


def _fill(store: Store) -> None:
    """One corpus of 12 docstrings of 130-250 word pieces."""
    frame = pd.read_csv(DEMO_DOCS)
    frame = frame[pd.Series(count_tokens(frame["text"].tolist())).between(130, 250).to_numpy()]
    body = frame.head(12)[["text", "topic"]].to_csv(index=False).encode("utf-8")
    table = read_bytes(body, "long_docs.csv", Limits())
    ingest(store, [table], IngestOptions(name="long_docs", label_columns=["topic"]))


def test_run_a_tiny_analysis_and_see_the_collapse_curve(
    serve: Callable[..., str], page: Page
) -> None:
    page.goto(f"{serve(fill=_fill)}/length")
    expect(page.get_by_role("heading", name="Length", exact=True)).to_be_visible()
    # 12 long texts: the default 200 per length shrinks to 12, and the page says so up front
    expect(page.get_by_text("every length uses those 12")).to_be_visible(timeout=120_000)
    expect(page.get_by_text("Estimated time")).to_be_visible()
    page.get_by_role("button", name="Run the length analysis").click()
    curve = page.locator("svg text", has_text="Length collapse: mean pairwise cosine by length")
    expect(curve).to_have_count(1, timeout=180_000)
    expect(page.get_by_text("At τ = 1, the mean pairwise cosine")).to_be_visible()
    expect(page.locator("svg text.legendtext", has_text="τ = 0.8 (gap")).to_have_count(1)
    expect(page.locator("svg text.legendtext", has_text="layer 0, pooling only")).to_have_count(1)
    # the curve's x-axis as Plotly drew it: a log axis of token counts, not bucket names
    axis = page.locator(".js-plotly-plot").first.evaluate(
        "plot => ({type: plot._fullLayout.xaxis.type, ticks: plot._fullLayout.xaxis.ticktext})"
    )
    assert axis["type"] == "log" and all(tick.isdigit() for tick in axis["ticks"]), axis
    expect(
        page.locator("svg text", has_text="mean tokens per text (log scale)").first
    ).to_be_visible()
    expect(page.get_by_text("Traceback")).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.screenshot(path="/tmp/length_e2e.png", full_page=True)
