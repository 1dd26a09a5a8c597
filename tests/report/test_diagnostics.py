"""Report builders for the diagnostics: what they refuse before computing anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.corpus.corpora import IngestOptions
from analysis.corpus.readers import read_bytes
from analysis.report.standard import ANALYSES, standard_charts
from analysis.vectors.ingest import ingest


def test_probe_report_needs_a_label_column(store, tmp_path: Path) -> None:
    table = read_bytes(b"text\nfirst text\nsecond text\nthird text\n", "t.csv", Limits())
    ingest(store, [table], IngestOptions(name="unlabelled", label_columns=[]))
    with pytest.raises(UserError, match="no label column"):
        standard_charts(store, "unlabelled", ["probe"])


def test_every_listed_analysis_has_a_builder(store) -> None:
    assert set(ANALYSES) == {"map", "corpus", "length", "probe"}
    with pytest.raises(UserError, match="Unknown analysis tables"):
        standard_charts(store, "whatever", ["tables"])
