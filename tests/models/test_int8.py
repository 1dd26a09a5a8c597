"""default-int8: a real export of the bundled weights into a temporary model cache, its fidelity
to fp32, its own model key, the on-disk cache, and the command line reporting its fidelity."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.corpus.corpora import IngestOptions
from analysis.corpus.readers import read_path
from analysis.models import onnx_export
from analysis.models.encoders import expected_key, load_encoder
from analysis.models.int8_encoder import INT8_SPEC, Int8Encoder, compare
from analysis.vectors.ingest import ingest
from analysis.vectors.int8_fidelity import corpus_int8_fidelity
from tests.shared import DEMO_DOCS


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache of its own, so the export below really runs (and never touches ~/.cache)."""
    path = tmp_path_factory.mktemp("model-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(onnx_export.CACHE_ENV_VAR, str(path))
        yield path


@pytest.fixture(scope="module")
def int8(cache_dir: Path) -> Int8Encoder:
    return Int8Encoder()


@pytest.fixture(scope="module")
def docstrings() -> list[str]:
    return pd.read_csv(DEMO_DOCS)["text"].astype(str).tolist()[:200]


def test_export_is_cached_on_disk_and_reloads_without_exporting(
    int8: Int8Encoder, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = list(cache_dir.glob("*.onnx"))
    assert len(files) == 1 and onnx_export.RECIPE in files[0].name
    assert int8.info.revision.split(":")[0] in files[0].name  # keyed by the weights hash
    before = files[0].stat().st_mtime_ns

    def no_export(*_: object) -> None:
        raise AssertionError("exported again although the file is cached")

    monkeypatch.setattr(onnx_export, "export_fp32", no_export)
    start = time.perf_counter()
    again = Int8Encoder()
    assert time.perf_counter() - start < 1.0
    assert files[0].stat().st_mtime_ns == before
    np.testing.assert_array_equal(again.encode(["a cached model"]), int8.encode(["a cached model"]))


def test_int8_stays_close_to_fp32_on_real_docstrings(
    int8: Int8Encoder, default_encoder, docstrings: list[str]
) -> None:
    quantized = int8.encode(docstrings)
    exact = default_encoder.encode(docstrings)
    assert quantized.shape == exact.shape == (200, 384) and quantized.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(quantized, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(quantized * exact, axis=1)
    assert cosines.mean() >= 0.99
    assert not np.allclose(quantized, exact, atol=1e-4)  # really the int8 graph, not fp32

    fidelity = compare(exact, quantized)
    assert fidelity.n_texts == 200
    assert fidelity.mean_cosine == pytest.approx(cosines.mean(), abs=1e-6)
    assert fidelity.min_cosine == pytest.approx(cosines.min(), abs=1e-6)
    assert 0.85 <= fidelity.top10_overlap < 1.0
    assert "first 200 texts" in fidelity.describe()


def test_int8_is_its_own_model(int8: Int8Encoder) -> None:
    key = int8.info.model_key
    assert key == expected_key(INT8_SPEC)
    assert key != expected_key("default")
    assert onnx_export.RECIPE in key and expected_key("default").split("@")[1] in key
    assert int8.info.max_length == 256 and int8.info.pooling == "mean"
    # A stored int8 model is loaded again from its source, e.g. to embed a search query.
    assert load_encoder(int8.info.source).info.model_key == key


def test_per_layer_requests_are_refused_clearly(int8: Int8Encoder) -> None:
    with pytest.raises(UserError, match=r"default-int8.*per-layer"):
        int8.encode_layers(["one text"])
    with pytest.raises(UserError, match="per-layer"):
        int8.token_states([[101, 102]])


def test_fidelity_is_measured_once_per_corpus_through_the_cache(
    int8: Int8Encoder, store, tiny_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, _ = ingest(store, [read_path(tiny_csv, Limits())], IngestOptions(name="tiny"))
    first = corpus_int8_fidelity(store, corpus)
    assert first.n_texts == corpus.n_rows and 0.95 <= first.mean_cosine <= 1.0

    def no_model(*_: object, **__: object) -> np.ndarray:
        raise AssertionError("the model ran again although both models' vectors are cached")

    monkeypatch.setattr(Int8Encoder, "encode", no_model)
    monkeypatch.setattr(type(load_encoder("default")), "encode", no_model)
    assert corpus_int8_fidelity(store, corpus) == first


def test_fidelity_needs_two_texts(store, tmp_path: Path) -> None:
    one = tmp_path / "one.csv"
    one.write_text("text\nonly one\nonly one\n")
    corpus, _ = ingest(store, [read_path(one, Limits())], IngestOptions(name="one"))
    with pytest.raises(UserError, match="at least 2 distinct texts; 'one' has 1"):
        corpus_int8_fidelity(store, corpus)


def test_cli_embeds_with_int8_apart_from_fp32_and_reports_fidelity(
    cache_dir: Path, tmp_path: Path, tiny_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from analysis.cli.main import main

    def cli(*argv: str) -> dict:
        assert main(list(argv)) == 0
        return json.loads(capsys.readouterr().out)

    db = str(tmp_path / "cli.duckdb")
    cli("ingest", str(tiny_csv), "--name", "tiny", "--db", db)
    out = cli("embed", "tiny", "--model", INT8_SPEC, "--db", db)
    assert out["model_key"] == expected_key(INT8_SPEC) and out["encoded"] == out["rows"]
    fidelity = out["fidelity"]
    assert fidelity["n_texts"] == out["rows"]
    assert 0.95 <= fidelity["min_cosine"] <= fidelity["mean_cosine"] <= 1.0
    assert "top-10 neighbour overlap" in fidelity["how"]

    # The fp32 default keeps its own key and its own vectors: the fidelity measurement cached the
    # fp32 vectors of the corpus's texts, none of the int8 ones are taken.
    exact = cli("embed", "tiny", "--db", db)
    assert exact["model_key"] == expected_key("default") and "fidelity" not in exact
    assert exact["cached"] == exact["rows"] and exact["encoded"] == 0
    stored = Path(
        cli(
            "vectors",
            "tiny",
            "--out",
            str(tmp_path / "v.parquet"),
            "--model",
            "all-MiniLM-L6-v2",
            "--db",
            db,
        )["path"]
    )
    texts = pd.read_csv(tiny_csv)["text"].tolist()
    np.testing.assert_allclose(
        np.stack(pd.read_parquet(stored)["vector"]),
        load_encoder("default").encode(texts),
        atol=1e-6,
    )
    listed = cli("corpora", "--db", db)["corpora"][0]
    assert sorted(listed["models"]) == ["all-MiniLM-L6-v2", "all-MiniLM-L6-v2-int8"]
    assert listed["backends"] == {  # which backend made each stored embedding
        "all-MiniLM-L6-v2": "PyTorch fp32 (sentence-transformers)",
        "all-MiniLM-L6-v2-int8": "ONNX Runtime, dynamic int8",
    }


@pytest.mark.slow  # AppTest with the real model
def test_corpora_page_offers_int8_with_its_fidelity(
    cache_dir: Path, tmp_path: Path, tiny_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from analysis.core.jobs import job_runner
    from tests.pages.apptest import APP

    monkeypatch.setenv("EMBEDLENS_DB", str(tmp_path / "app.duckdb"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.radio(key="source").set_value("Upload files").run()
    at.file_uploader[0].set_value(("tiny.csv", tiny_csv.read_bytes(), "text/plain")).run()
    at.text_input(key="corpus_name").set_value("tiny").run()
    at.checkbox[0].uncheck().run()
    at.button(key="create").click().run()
    picker = at.selectbox(key="embed_model")
    label = next(option for option in picker.options if "int8" in option)
    picker.set_value(label)
    next(b for b in at.button if b.label == "Embed").click().run()
    assert not at.exception and not at.error, at.exception or at.error
    captions = [c.value for c in at.caption]
    assert any("int8 vs fp32 on the first 12 texts: mean cosine 0.9" in c for c in captions)
    job_runner().wait(at.session_state["job_embed"])
    at.run()
    assert any("with all-MiniLM-L6-v2-int8: 12 texts" in s.value for s in at.success)
