"""``default-int8``: the bundled MiniLM quantized to int8 and run by ONNX Runtime on the CPU.

It is its own model (own key, own cache entries) because its vectors differ from fp32 ones by
about 1 % in cosine; mixing the two in one cache would make neighbours depend on which texts
happened to be embedded when. How far it is from fp32 is measured on the user's own texts
(``vectors.int8_fidelity``) and shown where the user picks it. The pipeline matches the bundled
sentence-transformers one (modules.json: Transformer, mean Pooling, Normalize): the same
tokenizer and max length, mean pooling over the attention mask, L2 normalisation.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.models.encoders import (
    DEFAULT_MODEL_NAME,
    Encoder,
    ModelInfo,
    _batched,
    _normalise,
    _weights_hash,
    default_model_path,
    register_spec,
)
from analysis.models.onnx_export import RECIPE, int8_model_file

INT8_SPEC = "default-int8"
FIDELITY_TEXTS = 500  # the corpus's first texts that fidelity is measured on
_NEIGHBOURS = 10


def int8_key() -> str:
    """The model key, known without loading: fp32 weights hash plus the quantization recipe."""
    return f"int8:{DEFAULT_MODEL_NAME}@{_weights_hash(default_model_path())}:{RECIPE}"


class Int8Encoder(Encoder):
    """ONNX Runtime (CPU provider) over the int8 export of the bundled weights."""

    def __init__(self) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        model_dir = default_model_path()
        weights = _weights_hash(model_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, os.cpu_count() or 1)
        options.log_severity_level = 3  # no per-session warnings on stderr
        # Idle workers sleep instead of spinning: the cores are shared with the app's server and
        # the browser, and spinning threads slowed the other side (and this one) under load.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(int8_model_file(model_dir, DEFAULT_MODEL_NAME, weights)),
            options,
            providers=["CPUExecutionProvider"],
        )
        self._tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.max_length = _max_seq_length(model_dir)
        self._lock = threading.Lock()  # one run at a time: the tokenizer's truncation is state
        self.info = ModelInfo(
            model_key=int8_key(),
            name=f"{DEFAULT_MODEL_NAME}-int8",
            kind="onnx-int8",
            # The spec itself, so a stored int8 model can be loaded again (search queries).
            source=INT8_SPEC,
            revision=f"{weights}:{RECIPE}",
            dim=int(self.session.get_outputs()[0].shape[-1]),
            # The weights have these layers, but the int8 graph outputs only the last one:
            # per-layer requests reach encode_layers and get its explanation.
            n_layers=int(_config(model_dir, "config.json")["num_hidden_layers"]),
            pooling="mean",
            max_length=self.max_length,
        )

    @property
    def tokenizer(self) -> object | None:
        return self._tokenizer

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        def run(batch: list[str]) -> np.ndarray:
            with self._lock:
                enc = self._tokenizer(
                    batch,
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="np",
                )
                feeds = {
                    "input_ids": enc["input_ids"].astype(np.int64),
                    "attention_mask": enc["attention_mask"].astype(np.int64),
                }
                hidden = self.session.run(None, feeds)[0]
            mask = feeds["attention_mask"][..., None].astype(np.float32)
            mean = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            return _normalise(mean)

        return _batched(texts, run, progress)

    def encode_layers(
        self,
        texts: Sequence[str],
        pooling: str = "mean",
        max_length: int | None = None,
        progress: ProgressFn | None = None,
    ) -> np.ndarray:
        raise UserError(_NO_LAYERS)

    def token_states(self, input_ids: Sequence[Sequence[int]]) -> list[np.ndarray]:
        raise UserError(_NO_LAYERS)


_NO_LAYERS = (
    f"'{INT8_SPEC}' exports only the final sentence embedding, not per-layer states; use "
    "'default' (the same model in fp32) for per-layer analyses."
)


def _max_seq_length(model_dir: str) -> int:
    """The sentence-transformers window (256 for MiniLM), not the transformer's 512."""
    return int(_config(model_dir, "sentence_bert_config.json")["max_seq_length"])


def _config(model_dir: str, name: str) -> dict[str, object]:
    return dict(json.loads((Path(model_dir) / name).read_text()))


@dataclass(frozen=True)
class Fidelity:
    """How close int8 vectors are to fp32 ones on the same texts."""

    n_texts: int
    mean_cosine: float
    min_cosine: float
    top10_overlap: float  # mean share of each text's 10 nearest neighbours both agree on

    def describe(self) -> str:
        return (
            f"int8 vs fp32 on the first {self.n_texts:,} texts: mean cosine "
            f"{self.mean_cosine:.4f}, minimum {self.min_cosine:.4f}; top-10 neighbour overlap "
            f"{self.top10_overlap:.3f} (cosine of each text's two vectors; share of its 10 "
            "nearest texts found by both)"
        )


def compare(exact: np.ndarray, quantized: np.ndarray) -> Fidelity:
    """Fidelity of unit vectors ``quantized`` to ``exact`` (same texts, same order)."""
    cosines = np.sum(exact * quantized, axis=1)
    n = len(exact)
    k = min(_NEIGHBOURS, n - 1)
    pairs = zip(_neighbours(exact, k), _neighbours(quantized, k), strict=True)
    overlap = np.mean([len(set(a) & set(b)) / k for a, b in pairs])
    return Fidelity(n, float(cosines.mean()), float(cosines.min()), float(overlap))


def _neighbours(vectors: np.ndarray, k: int) -> np.ndarray:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return np.argpartition(-sims, k - 1, axis=1)[:, :k]


register_spec(INT8_SPEC, int8_key, Int8Encoder)
