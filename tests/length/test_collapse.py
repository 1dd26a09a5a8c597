"""Length-collapse engine: statistics against brute force, samples, truncation, the real model."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pandas as pd
import pytest
import torch

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.corpus.corpora import IngestOptions, get_corpus, sha256_texts
from analysis.corpus.readers import read_bytes
from analysis.length import collapse as length_collapse
from analysis.length.attention import attention_diagnostics, largest_singular_value
from analysis.length.figures import log_ticks
from analysis.length.forward import encode_batch, run_pass, smoothing
from analysis.length.length_analysis import LengthAnalysis
from analysis.length.sample import BUCKETS, TRUNCATE, LengthRequest, plan_sample
from analysis.length.stats import (
    cross_similarity,
    mean_centred,
    mpc,
    mpc_interval,
    resampled_mpc,
    spread_and_rank,
    whitened,
)
from analysis.models.tokens import count_tokens
from analysis.vectors.ingest import ingest
from tests.shared import DEMO_DOCS


def _unit_rows(rng: np.random.Generator, n: int, d: int, shift: float = 0.0) -> np.ndarray:
    x = rng.normal(size=(n, d)) + shift
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _brute_mpc(unit: np.ndarray) -> float:
    gram = unit @ unit.T
    m = len(unit)
    return float((gram.sum() - np.trace(gram)) / (m * (m - 1)))


@cache
def _demo() -> pd.DataFrame:
    frame = pd.read_csv(DEMO_DOCS)
    frame["n_tokens"] = count_tokens(frame["text"].tolist())
    return frame


def _documents(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns load_documents gives, for plan_sample."""
    texts = frame["text"].tolist()
    return pd.DataFrame(
        {
            "doc_id": np.arange(len(frame)),
            "text": texts,
            "text_sha256": sha256_texts(texts),
            "n_tokens": frame["n_tokens"].to_numpy(),
            "topic": frame["topic"].to_numpy(),
        }
    )


def _long_texts(count: int, shortest: int = 130, longest: int = 250) -> pd.DataFrame:
    """Texts of shortest..longest word pieces, taking the topics in turn."""
    frame = _demo()
    frame = frame[frame["n_tokens"].between(shortest, longest)]
    turn = frame.groupby("topic").cumcount()
    return frame.iloc[np.argsort(turn.to_numpy(), kind="stable")].head(count).reset_index(drop=True)


def _ingest(store, frame: pd.DataFrame, name: str) -> None:
    body = frame[["text", "topic"]].to_csv(index=False).encode("utf-8")
    table = read_bytes(body, f"{name}.csv", Limits())
    ingest(store, [table], IngestOptions(name=name, label_columns=["topic"]))


# ---- statistics ----------------------------------------------------------------------------


def test_mpc_formula_equals_brute_force() -> None:
    rng = np.random.default_rng(0)
    for shift in (0.0, 0.3, 2.0):
        unit = _unit_rows(rng, 37, 16, shift)
        assert mpc(unit) == pytest.approx(_brute_mpc(unit), abs=1e-12)


def test_resampled_mpc_counts_only_pairs_of_different_texts() -> None:
    rng = np.random.default_rng(1)
    unit = _unit_rows(rng, 9, 5, 0.5)
    counts = rng.multinomial(9, np.full(9, 1 / 9), size=4).astype(float)
    for row, value in zip(counts, resampled_mpc(unit, counts), strict=True):
        drawn = np.repeat(np.arange(9), row.astype(int))
        pairs = [
            unit[a] @ unit[b]
            for i, a in enumerate(drawn)
            for j, b in enumerate(drawn)
            if i != j and a != b
        ]
        assert value == pytest.approx(np.mean(pairs), abs=1e-12)


def test_bootstrap_interval_is_seeded_and_brackets_the_estimate() -> None:
    unit = _unit_rows(np.random.default_rng(2), 60, 8, 0.4)
    low, high = mpc_interval(unit, seed=[0, 1])
    assert low < mpc(unit) < high
    assert mpc_interval(unit, seed=[0, 1]) == (low, high)
    assert mpc_interval(unit, seed=[0, 2]) != (low, high)


def test_cross_similarity_leaves_out_pairs_of_the_same_text() -> None:
    rng = np.random.default_rng(3)
    unit = _unit_rows(rng, 24, 6, 0.2)
    bucket = np.repeat(np.arange(3), 8)
    group = np.tile(np.arange(8), 3)  # controlled truncation: text g appears in every bucket
    pairwise, centroid = cross_similarity(unit, bucket, group, 3)
    for a in range(3):
        assert pairwise[a, a] == pytest.approx(mpc(unit[bucket == a]), abs=1e-12)
        for b in range(3):
            pairs = [
                unit[i] @ unit[j]
                for i in np.flatnonzero(bucket == a)
                for j in np.flatnonzero(bucket == b)
                if group[i] != group[j]
            ]
            assert pairwise[a, b] == pytest.approx(np.mean(pairs), abs=1e-12)
            ca, cb = unit[bucket == a].mean(axis=0), unit[bucket == b].mean(axis=0)
            expected = ca @ cb / np.linalg.norm(ca) / np.linalg.norm(cb)
            assert centroid[a, b] == pytest.approx(expected, abs=1e-12)


def test_spread_effective_rank_and_pc1_share() -> None:
    # four points at +-e1 and +-2 e2: centred singular values 2*sqrt(2) and sqrt(2) * 2 ... known
    points = np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 2.0, 0], [0, -2.0, 0]])
    spread, rank, pc1 = spread_and_rank(points)
    assert spread == pytest.approx(1.5)
    singular = np.array([np.sqrt(8.0), np.sqrt(2.0)])
    p = singular / singular.sum()
    assert rank == pytest.approx(np.exp(-(p * np.log(p)).sum()))
    assert pc1 == pytest.approx(8.0 / 10.0)


def test_post_hoc_baselines_remove_the_common_direction() -> None:
    unit = _unit_rows(np.random.default_rng(4), 300, 10, 1.5)
    assert mpc(unit) > 0.5
    centred = mean_centred(unit)
    assert np.allclose(np.linalg.norm(centred, axis=1), 1)
    assert abs(mpc(centred)) < 0.05
    white = whitened(unit)
    assert np.allclose(np.linalg.norm(white, axis=1), 1)
    assert abs(mpc(white)) < 0.05


def test_power_iteration_finds_the_largest_singular_value() -> None:
    generator = torch.Generator().manual_seed(0)
    matrix = torch.rand(3, 12, 12, generator=generator, dtype=torch.float64)
    expected = torch.linalg.svdvals(matrix)[:, 0]
    found = largest_singular_value(matrix, torch.Generator().manual_seed(1))
    assert torch.allclose(found, expected, rtol=1e-6)


def test_smoothing_statistics_per_text_ignore_padding() -> None:
    generator = torch.Generator().manual_seed(0)
    states = torch.randn(2, 5, 4, generator=generator, dtype=torch.float64) + 0.5
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    ratio, cosine = smoothing(states, mask)
    for row in range(2):
        x = states[row, : int(mask[row].sum())].numpy()
        mean = x.mean(axis=0, keepdims=True)
        assert float(ratio[row]) == pytest.approx(
            np.linalg.norm(x - mean) / np.linalg.norm(np.broadcast_to(mean, x.shape))
        )
        unit = x / np.linalg.norm(x, axis=1, keepdims=True)
        assert float(cosine[row]) == pytest.approx(_brute_mpc(unit))


# ---- samples and truncation ----------------------------------------------------------------


def test_truncation_feeds_exactly_the_requested_number_of_tokens(default_encoder) -> None:
    tokenizer = default_encoder._hidden.tokenizer
    texts = _long_texts(5, shortest=260, longest=10_000)["text"].tolist()
    pieces = tokenizer(texts, add_special_tokens=False)["input_ids"]
    for length in (8, 16, 32, 256):
        batch = encode_batch(tokenizer, texts, length)
        assert batch["input_ids"].shape == (5, length)
        assert batch["attention_mask"].sum(dim=1).tolist() == [length] * 5
        for row, ids in enumerate(batch["input_ids"].tolist()):
            assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
            assert ids[1:-1] == pieces[row][: length - 2]


def test_controlled_sample_is_the_same_texts_at_every_length(default_encoder) -> None:
    tokenizer = default_encoder._hidden.tokenizer
    docs = _documents(_demo())
    request = LengthRequest(lengths=(64, 16, 32, 16), per_bucket=25, seed=3)
    assert request.lengths == (16, 32, 64)
    sample = plan_sample(docs, tokenizer, 256, request)
    assert sample.bucket_names == ["16 tok", "32 tok", "64 tok"]
    assert np.bincount(sample.bucket).tolist() == [25, 25, 25]
    groups = [sorted(sample.group[sample.items_of(b)]) for b in range(3)]
    assert groups[0] == groups[1] == groups[2]
    assert sample.tokens.tolist() == [16] * 25 + [32] * 25 + [64] * 25
    assert (docs.set_index("doc_id").loc[sample.group, "n_tokens"] + 2 >= 64).all()
    again = plan_sample(docs, tokenizer, 256, request)
    assert again.texts == sample.texts
    other = plan_sample(docs, tokenizer, 256, LengthRequest(lengths=(16, 32, 64), per_bucket=25))
    assert other.texts != sample.texts


def test_natural_buckets_report_an_under_filled_bucket(default_encoder) -> None:
    tokenizer = default_encoder._hidden.tokenizer
    frame = _demo()
    short = frame[frame["n_tokens"] < 60].head(80)
    long = frame[frame["n_tokens"].between(62, 120)].head(12)
    sample = plan_sample(
        _documents(pd.concat([short, long])),
        tokenizer,
        256,
        LengthRequest(mode=BUCKETS, lengths=(0, 16, 64, 128), per_bucket=20),
    )
    assert sample.bucket_names == ["[0,16)", "[16,64)", "[64,128]"]
    assert np.bincount(sample.bucket).tolist() == [12, 12, 12]
    assert any("Bucket [64,128] has only 12 texts" in n for n in sample.notices), sample.notices
    lengths = sample.tokens
    assert lengths[sample.bucket == 0].max() < 16 and lengths[sample.bucket == 2].min() >= 64


def test_too_short_corpus_names_the_bucket_and_the_count(default_encoder) -> None:
    tokenizer = default_encoder._hidden.tokenizer
    frame = _demo()
    docs = _documents(
        pd.concat([frame[frame["n_tokens"] < 20].head(40), _long_texts(3)]).reset_index()
    )
    with pytest.raises(UserError, match=r"Bucket 128 tokens is too small: only 3 text\(s\)"):
        plan_sample(docs, tokenizer, 256, LengthRequest(per_bucket=20))
    with pytest.raises(UserError, match=r"\[64,256\]: 3 text\(s\)"):
        plan_sample(
            docs,
            tokenizer,
            256,
            LengthRequest(mode=BUCKETS, lengths=(0, 64, 256), per_bucket=20),
        )


def test_requests_beyond_the_model_window_are_refused(default_encoder) -> None:
    tokenizer = default_encoder._hidden.tokenizer
    docs = _documents(_long_texts(20))
    with pytest.raises(UserError, match="beyond the model's limit of 256"):
        plan_sample(docs, tokenizer, 256, LengthRequest(lengths=(16, 300)))
    with pytest.raises(UserError, match="at least 10"):
        LengthRequest(per_bucket=5)
    assert LengthRequest(taus=(0.8, 0.9)).taus == (1.0, 0.9, 0.8)


# ---- the real model --------------------------------------------------------------------------


def test_pass_gives_the_model_s_own_embedding(default_encoder) -> None:
    docs = _documents(_demo().head(60))
    request = LengthRequest(mode=BUCKETS, lengths=(0, 16, 64), per_bucket=10)
    sample = plan_sample(docs, default_encoder._hidden.tokenizer, 256, request)
    result = run_pass(default_encoder, sample, 1.0)
    own = default_encoder.encode(sample.texts)
    assert np.abs(result.embeddings - own).max() < 1e-5
    assert result.layers.shape == (7, sample.n_texts, 384)
    assert np.abs(result.layers[-1] - own).max() < 1e-5  # MiniLM: mean pooling + normalise


@pytest.mark.slow
def test_mpc_rises_with_length_on_long_texts(store) -> None:
    _ingest(store, _long_texts(40), "long")
    request = LengthRequest(lengths=(8, 32, 128), per_bucket=40, taus=(1.0, 0.8))
    report = LengthAnalysis(store, get_corpus(store, "long"), request).run()
    rows = report.reference["buckets"]
    assert [row["n_texts"] for row in rows] == [40, 40, 40]
    assert rows[-1]["mpc"] > rows[0]["mpc"] + 0.02, [row["mpc"] for row in rows]
    assert report.reference["gap"] > 0
    layer0 = [row["pooled_mpc"][0] for row in rows]
    assert layer0[-1] > layer0[0]
    assert all(row["pooled_mpc"][0] > row["pooled_mpc"][-1] for row in rows)
    assert report.taus[0.8]["gap"] != report.reference["gap"]
    assert "rises from" in report.summary() and "τ = 0.8" in report.summary()


@pytest.mark.slow
def test_results_are_stored_and_reopen_without_the_model(store, monkeypatch) -> None:
    frame = _long_texts(200)
    two_topics = frame[frame["topic"].isin(["concurrency", "data formats"])]
    _ingest(store, two_topics.groupby("topic").head(6), "twelve")
    request = LengthRequest(lengths=(8, 16), per_bucket=12, taus=(1.0,), label_column="topic")
    analysis = LengthAnalysis(store, get_corpus(store, "twelve"), request)
    assert analysis.find() is None
    first = analysis.run()
    assert not first.reused

    def no_model(*args, **kwargs):
        raise AssertionError("the model ran again")

    monkeypatch.setattr(length_collapse, "run_pass", no_model)
    again = LengthAnalysis(store, get_corpus(store, "twelve"), request).find()
    assert again is not None and again.reused
    assert again.taus == first.taus
    other_seed = LengthAnalysis(store, get_corpus(store, "twelve"), replace(request, seed=1))
    assert other_seed.find() is None
    assert "task" in again.reference
    assert all(0 <= row["task_accuracy"] <= 1 for row in again.reference["buckets"])


@pytest.mark.slow
def test_attention_diagnostics_and_every_figure(store) -> None:
    _ingest(store, _long_texts(10), "ten")
    request = LengthRequest(
        lengths=(8, 16, 32), per_bucket=10, taus=(1.0, 0.8), label_column="topic", attention=True
    )
    analysis = LengthAnalysis(store, get_corpus(store, "ten"), request)
    report = analysis.run()
    attention = report.attention[0.8]
    assert attention["buckets"] == ["8 tok", "16 tok", "32 tok"]
    assert np.array(attention["sigma"]).shape == (6, 3)
    assert all(0 < e <= 1 for row in attention["entropy"] for e in row)
    charts = analysis.figures(report, {"tau": 0.8})
    keys = [chart.key for chart in charts]
    assert keys == [
        "len_collapse",
        "len_layers",
        "len_cross",
        "len_map",
        "len_spread",
        "len_smoothing",
        "len_probe",
        "len_task",
        "len_sweep",
        "len_attention",
    ]
    assert "τ = 0.8" in charts[1].figure.layout.title.text  # the per-τ charts follow the view
    by_key = {chart.key: chart.figure for chart in charts}
    for key, axes in (("len_collapse", ["xaxis"]), ("len_spread", ["xaxis", "xaxis2", "xaxis3"])):
        figure = by_key[key]
        for name in axes:  # a real log axis of numbers, not bucket names in a row
            axis = figure.layout[name]
            assert axis.type == "log" and list(axis.tickvals) == [8, 16, 32], (key, name)
            assert list(axis.ticktext) == ["8", "16", "32"]
        assert axes and figure.layout.xaxis.title.text == "mean tokens per text (log scale)"
        assert [float(x) for x in figure.data[0].x] == [8.0, 16.0, 32.0]
    for chart in charts:
        caption = chart.figure.layout.meta["caption"]
        for needed in ("all-MiniLM-L6-v2", "10 texts", "seed 0", "arXiv 2410.24200", "τ = "):
            assert needed in caption, (chart.key, caption)
        assert "8 tok, 16 tok, 32 tok" in caption
        assert chart.what and chart.analysis == f"length-{chart.key[4:]}"
        assert chart.data is not None and not chart.data.empty


def test_length_axis_ticks_are_a_doubling_grid_around_the_buckets() -> None:
    assert log_ticks([8.0, 16.0, 32.0]) == [8, 16, 32]
    assert log_ticks([12.5, 40.2, 90.0]) == [8, 16, 32, 64, 128]
    assert log_ticks([0.5, 1.0]) == [1, 2]


def test_attention_subsample_direct(default_encoder) -> None:
    docs = _documents(_long_texts(10))
    request = LengthRequest(lengths=(8, 64), per_bucket=10, mode=TRUNCATE)
    sample = plan_sample(docs, default_encoder._hidden.tokenizer, 256, request)
    seen = []
    result = attention_diagnostics(default_encoder, sample, 1.0, 0, lambda d, t: seen.append(d))
    assert result["n_texts"] == [10, 10]
    assert seen[-1] == 20
    assert "sink" in result["note"]
