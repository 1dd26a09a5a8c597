"""Compare two representations of one corpus: two models, two layers, or a model and a layer.

A representation is written MODEL or MODEL:LAYER. MODEL alone is a model the corpus is embedded
with (its own output, by name, key or spec: 'default', 'lsa', an imported model ...); MODEL:LAYER
is one pooled hidden layer of a transformer (0 = embeddings), read through ``layer_vectors`` so
probes and comparisons share the cached per-layer vectors. Results are stored with every
parameter and reopened instead of recomputed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.compare.figures import change_map, cka_heatmap, overlap_histogram
from analysis.compare.similarity import (
    cka_matrix,
    distance_spearman,
    linear_cka,
    neighbour_drift,
    neighbour_overlap,
    neighbours,
    overlap_summary,
)
from analysis.compare.summary import (
    compare_reading,
    layer_cka_frame,
    layer_cka_reading,
    overlap_counts_frame,
    overlap_frame,
)
from analysis.core.analysis import ChartSpec, Estimate, StoredAnalysis, format_seconds
from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.results import StoredResult
from analysis.core.speed import describe_factor, machine_factor
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, load_documents
from analysis.map.default_map import corpus_map
from analysis.models.encoders import expected_key
from analysis.models.pooling import POOLINGS
from analysis.vectors.catalogue import (
    DEFAULT_KEY_PREFIX,
    corpus_models,
    load_vectors,
    resolve_corpus_model,
)
from analysis.vectors.estimate import encoding_estimate
from analysis.vectors.layers import layer_vectors

KIND = "compare"
KIND_LAYERS = "compare-layers"
TOP_CHANGED = 20
TEXT_CHARS = 300
MAX_LAYER_DIGITS = 3
# CKA, neighbours and distances: about 3 s for 2,000 texts on the reference machine
COMPARE_SECONDS_PER_TEXT = 0.0015


@dataclass(frozen=True)
class Representation:
    """One side of a comparison: a model's output (layer None) or one of its hidden layers."""

    model: str
    layer: int | None = None

    @classmethod
    def parse(cls, text: str) -> Representation:
        """'MODEL' or 'MODEL:LAYER'; model keys hold ':' too, so only a numeric tail is a layer."""
        text = (text or "").strip()
        if not text:
            raise UserError("Name a representation as MODEL or MODEL:LAYER, e.g. default:3.")
        head, _, tail = text.rpartition(":")
        if head and tail.isdigit() and len(tail) <= MAX_LAYER_DIGITS:  # not a hash in a key
            return cls(head, int(tail))
        return cls(text)

    def __str__(self) -> str:
        return self.model if self.layer is None else f"{self.model}:{self.layer}"


def layer_spec(store: Store, corpus: Corpus, model: str) -> str:
    """The encoder spec behind a model name: per-layer vectors need the transformer itself."""
    if model in ("default", "random") or Path(model).is_dir():
        return model
    record = resolve_corpus_model(store, corpus, model)
    if record.kind in ("lsa", "external") or record.n_layers is None:
        raise UserError(
            f"'{record.name}' has no hidden layers; compare its output (name it without ':LAYER')."
        )
    if record.kind == "random":
        return "random"
    return "default" if record.model_key.startswith(DEFAULT_KEY_PREFIX) else record.source


def representation_choices(store: Store, corpus: Corpus) -> dict[str, str]:
    """Every representation a corpus offers, label -> spec: model outputs, then hidden layers."""
    models = corpus_models(store, corpus)
    choices = {f"{m.name} (output)": m.model_key for m in models}
    for model in models:
        if model.n_layers is not None and model.kind in ("sentence-transformers", "random"):
            for layer in range(model.n_layers + 1):
                choices[f"{model.name} · layer {layer}"] = f"{model.model_key}:{layer}"
    return choices


def layer_models(store: Store, corpus: Corpus) -> dict[str, str]:
    """The corpus's transformer models (name -> key): the ones with layers to compare."""
    return {
        m.name: m.model_key
        for m in corpus_models(store, corpus)
        if m.n_layers is not None and m.kind in ("sentence-transformers", "random")
    }


def _encoding_estimate(
    store: Store, corpus: Corpus, specs: list[str], pooling: str, max_length: int = 0
) -> Estimate:
    """Encoding the per-layer vectors these MODEL[:LAYER] specs need and the cache lacks (model
    outputs are stored already) at the rate measured here, then the comparison itself."""
    layered = [Representation.parse(spec) for spec in specs]
    arithmetic = COMPARE_SECONDS_PER_TEXT * corpus.n_rows * machine_factor()
    bases, seconds = [], arithmetic
    for model in dict.fromkeys(rep.model for rep in layered if rep.layer is not None):
        cost = encoding_estimate(
            store, corpus, layer_spec(store, corpus, model), pooling, max_length
        )
        if cost.texts:
            seconds += cost.seconds
            bases.append(cost.basis)
    comparison = f"the comparison {format_seconds(arithmetic)} ({describe_factor()})"
    if not bases:
        return Estimate(seconds, f"every vector needed is stored; {comparison}")
    return Estimate(seconds, f"per-layer vectors first: {'; '.join(bases)}; then {comparison}")


@dataclass(frozen=True)
class Loaded:
    vectors: np.ndarray
    label: str
    model_key: str
    layer: int | None


def identity(store: Store, corpus: Corpus, rep: Representation) -> dict[str, Any]:
    """What pins a representation in the stored parameters: the model key and the layer."""
    if rep.layer is None:
        return {
            "model_key": resolve_corpus_model(store, corpus, rep.model).model_key,
            "layer": None,
        }
    spec = layer_spec(store, corpus, rep.model)
    return {"model_key": expected_key(spec) or spec, "layer": rep.layer}


def load_representation(
    store: Store,
    corpus: Corpus,
    rep: Representation,
    pooling: str = "mean",
    max_length: int = 0,
    progress: ProgressFn | None = None,
) -> Loaded:
    if rep.layer is None:
        record = resolve_corpus_model(store, corpus, rep.model)
        vectors = load_vectors(store, corpus, record.model_key, record.dim)
        if progress is not None:
            progress(1, 1)
        return Loaded(vectors, f"{record.name} (output)", record.model_key, None)
    layers = layer_vectors(
        store, corpus, layer_spec(store, corpus, rep.model), pooling, max_length, progress
    )
    if not 0 <= rep.layer <= layers.n_layers:
        raise UserError(
            f"{layers.model.name} has layers 0..{layers.n_layers}; there is no layer {rep.layer}."
        )
    label = f"{layers.model.name} layer {rep.layer} ({pooling})"
    return Loaded(layers.tensor[rep.layer], label, layers.model.model_key, rep.layer)


@dataclass(frozen=True)
class CompareRequest:
    a: str
    b: str
    k: int = 10
    pooling: str = "mean"
    max_length: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise UserError(f"Unknown pooling '{self.pooling}'; choose {', '.join(POOLINGS)}.")
        if not 1 <= self.k <= 200:
            raise UserError(f"k must be between 1 and 200, not {self.k}.")


class Comparison(StoredAnalysis):
    """Two representations of one corpus: CKA, mutual kNN overlap, distance correlation."""

    kind = KIND
    title = "Comparison"

    def __init__(self, store: Store, corpus: Corpus, request: CompareRequest) -> None:
        self.corpus, self.request = corpus, request
        super().__init__(store, corpus.scope)

    def canonical_params(self) -> dict[str, Any]:
        """'default' and the bundled model's name resolve to the same weight-hashed key."""
        store, corpus = self.store, self.corpus
        return {
            **asdict(self.request),
            "a": identity(store, corpus, Representation.parse(self.request.a)),
            "b": identity(store, corpus, Representation.parse(self.request.b)),
        }

    def compute(self, progress: ProgressFn | None) -> dict[str, Any]:
        return _compare(self.store, self.corpus, self.request, progress)

    def estimate(self) -> Estimate:
        return _encoding_estimate(
            self.store, self.corpus, [self.request.a, self.request.b], self.request.pooling
        )

    def reading(self, result: StoredResult) -> str:
        return compare_reading(result.result)

    def figures(
        self, result: StoredResult, view: Mapping[str, Any] | None = None
    ) -> list[ChartSpec]:
        data, name = result.result, self.corpus.name
        models = f"{data['a']} vs {data['b']}"
        counts = overlap_counts_frame(data)
        charts = [
            ChartSpec(
                "cmp_overlap",
                overlap_histogram(data, name, counts),
                "compare-overlap",
                models,
                counts,
            )
        ]
        projection = corpus_map(self.store, self.corpus, data["a_key"])
        if projection is not None:
            documents = load_documents(self.store, self.corpus)
            charts.append(
                ChartSpec(
                    "cmp_map",
                    change_map(projection, self.corpus, documents, data).figure,
                    "compare-change-map",
                    models,
                    overlap_frame(data, documents["text"].tolist()),
                )
            )
        return charts


def _compare(
    store: Store, corpus: Corpus, request: CompareRequest, progress: ProgressFn | None
) -> dict[str, Any]:
    if corpus.n_rows < request.k + 2:
        raise UserError(
            f"Comparing neighbourhoods with k = {request.k} needs at least {request.k + 2} "
            f"documents; '{corpus.name}' has {corpus.n_rows}."
        )
    a = load_representation(
        store,
        corpus,
        Representation.parse(request.a),
        request.pooling,
        request.max_length,
        progress,
    )
    b = load_representation(
        store,
        corpus,
        Representation.parse(request.b),
        request.pooling,
        request.max_length,
        progress,
    )
    neighbours_a, method = neighbours(a.vectors, request.k, request.seed)
    neighbours_b, _ = neighbours(b.vectors, request.k, request.seed)
    overlap = neighbour_overlap(neighbours_a, neighbours_b)
    return {
        "kind": KIND,
        "a": a.label,
        "b": b.label,
        "a_key": a.model_key,
        "b_key": b.model_key,
        "a_layer": a.layer,
        "b_layer": b.layer,
        "pooling": request.pooling,
        "n": corpus.n_rows,
        "cka": round(linear_cka(a.vectors, b.vectors), 6),
        "knn_overlap": {
            **overlap_summary(overlap, request.k),
            "method": method,
            "per_point": np.round(overlap, 4).tolist(),
        },
        "distance_spearman": distance_spearman(a.vectors, b.vectors, request.seed),
        "top_changed": top_changed(
            store,
            corpus,
            overlap,
            neighbour_drift(a.vectors, b.vectors, neighbours_a, neighbours_b),
            (neighbours_a, neighbours_b),
        ),
    }


def top_changed(
    store: Store,
    corpus: Corpus,
    overlap: np.ndarray,
    drift: np.ndarray,
    neighbours_ab: tuple[np.ndarray, np.ndarray],
    limit: int = TOP_CHANGED,
) -> list[dict[str, Any]]:
    """The documents whose neighbourhoods changed most, with a neighbour from each side.

    Largest change (1 - overlap) first; overlap ties (often hundreds of texts sharing no
    neighbour) are ordered by drift, largest first; unchanged documents are left out.
    """
    neighbours_a, neighbours_b = neighbours_ab
    documents = load_documents(store, corpus)
    order = np.lexsort((-drift, overlap))
    order = order[overlap[order] < 1.0][:limit]
    texts = documents["text"].tolist()
    labels = corpus.label_columns[:1]
    rows = []
    for doc in order:
        row = {
            "doc_id": int(doc),
            "change": round(1.0 - float(overlap[doc]), 4),
            "drift": round(float(drift[doc]), 4),
            "text": _short(texts[doc]),
            "nearest_in_a": _short(texts[neighbours_a[doc, 0]]),
            "nearest_in_b": _short(texts[neighbours_b[doc, 0]]),
        }
        for column in labels:
            value = documents[column].iloc[doc]
            row[column] = None if value is None or value != value else str(value)
        rows.append(row)
    return rows


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"


@dataclass(frozen=True)
class LayerRequest:
    """Layer x layer CKA of one model, or of one model's layers against another's."""

    model: str = "default"
    against: str | None = None
    pooling: str = "mean"
    max_length: int = 0


class LayerCka(StoredAnalysis):
    """Layer x layer linear CKA of one model, or of one model's layers against another's."""

    kind = KIND_LAYERS
    title = "Layer × layer CKA"

    def __init__(self, store: Store, corpus: Corpus, request: LayerRequest) -> None:
        self.corpus, self.request = corpus, request
        super().__init__(store, corpus.scope)

    def canonical_params(self) -> dict[str, Any]:
        request = self.request
        keys = {
            name: identity(self.store, self.corpus, Representation(model, 0))["model_key"]
            for name, model in (
                ("model", request.model),
                ("against", request.against or request.model),
            )
        }
        return {**asdict(request), "keys": keys}

    def compute(self, progress: ProgressFn | None) -> dict[str, Any]:
        store, corpus, request = self.store, self.corpus, self.request
        spec = (request.pooling, request.max_length, progress)
        rows = layer_vectors(store, corpus, layer_spec(store, corpus, request.model), *spec)
        cols = (
            layer_vectors(store, corpus, layer_spec(store, corpus, request.against), *spec)
            if request.against
            else None
        )
        matrix = cka_matrix(list(rows.tensor), None if cols is None else list(cols.tensor))
        return {
            "kind": KIND_LAYERS,
            "model": rows.model.name,
            "against": (cols or rows).model.name,
            "pooling": request.pooling,
            "n": corpus.n_rows,
            "layers": list(range(rows.n_layers + 1)),
            "against_layers": list(range((cols or rows).n_layers + 1)),
            "matrix": np.round(matrix, 6).tolist(),
        }

    def estimate(self) -> Estimate:
        request = self.request
        specs = [f"{request.model}:0", f"{request.against or request.model}:0"]
        return _encoding_estimate(self.store, self.corpus, specs, request.pooling)

    def reading(self, result: StoredResult) -> str:
        return layer_cka_reading(result.result)

    def figures(
        self, result: StoredResult, view: Mapping[str, Any] | None = None
    ) -> list[ChartSpec]:
        data = result.result
        figure = cka_heatmap(data, self.corpus.name)
        return [
            ChartSpec(
                "cmp_layers", figure, "compare-layer-cka", data["model"], layer_cka_frame(data)
            )
        ]
