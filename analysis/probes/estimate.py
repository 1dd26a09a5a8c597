"""How long a probe, paper-mode or sentence-pair run will take on this machine, said first.

Heavy options (random-weight encoder, MLP probe, permutations, the 5-fold heatmap) are opt-in; a
user deciding whether to tick one needs a number, not a warning. Encoding is the throughput
measured on this machine (``analysis.vectors.estimate``) applied to the texts the cache lacks;
the per-fit costs below were measured on the 2-core reference machine and are scaled by how fast
this machine does the same numeric work now (``analysis.core.speed``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.core.analysis import Estimate, format_seconds
from analysis.core.errors import UserError
from analysis.core.speed import describe_factor, machine_factor
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, load_documents
from analysis.probes.dimension_curves import RANDOM_SEEDS, usable_dims
from analysis.probes.inputs import make_folds, probe_data
from analysis.probes.requests import (
    PAPER_POOLING,
    PAPER_RANDOM_STATE,
    PAPER_TEST_SIZE,
    PairRequest,
    PaperRequest,
    ProbeRequest,
)
from analysis.vectors.estimate import (
    DEFAULT_SHAPE,
    EncodingCost,
    encoding_estimate,
    texts_encoding_estimate,
)

# Fitted to bench/estimates.py on the reference machine: the default fitting of 2,000 texts in 10
# classes (about 20 s) and of 500 texts in 3 classes (about 3 s).
LR_UNIT = 1.8e-8  # seconds per (training row x dimension x class) of one lbfgs fit
CONTROL_FACTOR = 3.0  # memorising random keys needs about three times the iterations
FIT_OVERHEAD = 0.003
TFIDF_PER_ROW = 2.5e-4
MLP_UNIT = 1.2e-6  # seconds per (training row x dimension), hidden layer of 256
PAIR_SECONDS_PER_PAIR = 0.0004  # cosines and Spearman of every layer x dimension cell


@dataclass(frozen=True)
class ProbeParts:
    """Seconds of each part of a run, before it starts."""

    n: int
    k: int
    encoding: EncodingCost
    fitting: float
    random_encoder: float
    mlp: float
    permutations: float
    heatmap: float


def _lr_fit(n_train: float, d: float, k: int) -> float:
    return (LR_UNIT * n_train * d * max(k, 2) + FIT_OVERHEAD) * machine_factor()


def _encoding_text(cost: EncodingCost) -> str:
    if not cost.texts:
        return "all layers are cached"
    return f"encoding {format_seconds(cost.seconds)} ({cost.basis})"


def estimate_probe(store: Store, corpus: Corpus, request: ProbeRequest) -> Estimate:
    """Encoding, the default fitting and the chosen heavy options; the basis offers the others.

    Validates the request the way the run will (labels, classes, folds), so a label that cannot
    be probed is refused before the user waits for anything.
    """
    parts = _probe_parts(store, corpus, request)
    extras = [
        (request.random_encoder, "random-weight encoder", parts.random_encoder),
        (request.mlp, "MLP probe", parts.mlp),
        (request.heatmap, "heatmap", parts.heatmap),
        (request.permutations > 0, "permutations", parts.permutations),
    ]
    chosen = [f"{name} {format_seconds(s)}" for on, name, s in extras if on]
    offered = [f"{name}: {format_seconds(s)}" for on, name, s in extras if not on]
    basis = (
        f"{parts.n:,} texts, {parts.k} classes; {_encoding_text(parts.encoding)}; "
        f"probes {format_seconds(parts.fitting)} ({describe_factor()})"
        + (f", plus {', '.join(chosen)}" if chosen else "")
        + (f"; options not chosen: {'; '.join(offered)}" if offered else "")
    )
    seconds = parts.encoding.seconds + parts.fitting + sum(s for on, _, s in extras if on)
    return Estimate(seconds, basis)


def _probe_parts(store: Store, corpus: Corpus, request: ProbeRequest) -> ProbeParts:
    """Seconds for encoding (uncached texts only), the default fitting and each heavy option."""
    data = request.data(store, corpus)
    make_folds(data, request.folds, request.seed)
    probed = _probed(store, corpus, data.rows)
    n, k = data.n, data.k
    encoding = encoding_estimate(
        store, corpus, request.model, request.pooling, request.max_length, probed
    )
    random_encoding = encoding_estimate(  # same architecture: the measured rate of the model
        store, corpus, "random", request.pooling, request.max_length, probed, request.model
    )
    n_layers, dim = DEFAULT_SHAPE  # other models: the same order of magnitude
    n_train = n * (request.folds - 1) / request.folds
    layers = n_layers + 1
    one_fit = _lr_fit(n_train, dim, k)
    prefix_fits = sum(_lr_fit(n_train, d, k) for d in usable_dims(request.dims, dim))
    fitting = request.folds * (
        layers * one_fit * (1 + CONTROL_FACTOR)
        + (TFIDF_PER_ROW * machine_factor() * n_train if request.tfidf else 0.0)
        + 2 * prefix_fits * (2 + RANDOM_SEEDS)  # peak and last layer
    )
    return ProbeParts(
        n=n,
        k=k,
        encoding=encoding,
        fitting=fitting,
        random_encoder=random_encoding.seconds + request.folds * layers * one_fit,
        mlp=request.folds
        * layers
        * 2
        * (MLP_UNIT * n_train * dim + FIT_OVERHEAD)
        * machine_factor(),
        permutations=2 * (max(request.permutations, 20) + 1) * request.folds * one_fit,
        heatmap=request.folds * layers * prefix_fits,
    )


def _probed(store: Store, corpus: Corpus, rows: np.ndarray) -> pd.DataFrame:
    """The documents a probe encodes: its (sub)sample of labelled rows, not the whole corpus."""
    documents = load_documents(store, corpus, with_metadata=False)
    return documents[documents["doc_id"].isin(rows)]


def estimate_paper(store: Store, corpus: Corpus, request: PaperRequest) -> Estimate:
    """Last-token encoding of the probed rows the cache lacks, then one unscaled fit per layer.

    Reads the label the way the run will, so a label that cannot be probed is refused first.
    """
    data = probe_data(store, corpus, request.label_column, seed=PAPER_RANDOM_STATE)
    encoding = encoding_estimate(
        store,
        corpus,
        request.model,
        PAPER_POOLING,
        request.max_length,
        _probed(store, corpus, data.rows),
    )
    n_layers, dim = DEFAULT_SHAPE
    fitting = (n_layers + 1) * _lr_fit(data.n * (1 - PAPER_TEST_SIZE), dim, data.k)
    return Estimate(
        encoding.seconds + fitting,
        f"{data.n:,} texts, last-token pooling; {_encoding_text(encoding)}; one fit per layer "
        f"{format_seconds(fitting)} ({describe_factor()})",
    )


def estimate_pairs(store: Store, corpus: Corpus, request: PairRequest) -> Estimate:
    """Both texts of every pair at every layer (what the cache lacks), then rank correlations."""
    documents = load_documents(store, corpus)
    if request.pair_column not in documents.columns:
        raise UserError(
            f"Corpus '{corpus.name}' has no column '{request.pair_column}'; its columns are: "
            f"{', '.join(corpus.metadata_names) or 'none'}."
        )
    second = documents[request.pair_column].astype("string").fillna("").str.strip()
    texts = documents["text"].tolist() + second[second != ""].tolist()
    cost = texts_encoding_estimate(store, texts, request.model, request.pooling, request.max_length)
    scoring = PAIR_SECONDS_PER_PAIR * len(documents) * machine_factor()
    return Estimate(
        cost.seconds + scoring,
        f"both texts of {len(documents):,} pairs; {_encoding_text(cost)}; rank correlations "
        f"{format_seconds(scoring)}",
    )
