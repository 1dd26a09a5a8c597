"""How long a probe, paper-mode or sentence-pair run will take on this machine, said first.

Heavy options (random-weight encoder, MLP probe, permutations, the 5-fold heatmap) are opt-in; a
user deciding whether to tick one needs a number, not a warning. The constants were measured on
a shared 2-core CPU (2,000 texts, 7 layers, 384 dimensions, 10 classes: encoding ~100 s, default
fitting ~25 s) and are rounded up; the estimate says "about". Encoding is the measured throughput
of ``analysis.vectors.estimate`` applied to the texts the cache lacks.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.core.analysis import Estimate, format_seconds
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
from analysis.vectors.estimate import DEFAULT_SHAPE, encoding_estimate

LR_UNIT = 2.2e-8  # seconds per (training row x dimension x class) of one lbfgs fit
CONTROL_FACTOR = 3.0  # memorising random keys needs about three times the iterations
FIT_OVERHEAD = 0.02
TFIDF_PER_ROW = 2.5e-4
MLP_UNIT = 1.2e-6  # seconds per (training row x dimension), hidden layer of 256
PAIR_SECONDS = 2.0  # cosines and Spearman of every layer x dimension cell: no fitting


@dataclass(frozen=True)
class ProbeParts:
    """Seconds of each part of a run, before it starts."""

    n: int
    k: int
    texts_to_encode: int
    encoding: float
    fitting: float
    random_encoder: float
    mlp: float
    permutations: float
    heatmap: float


def _lr_fit(n_train: float, d: float, k: int) -> float:
    return LR_UNIT * n_train * d * max(k, 2) + FIT_OVERHEAD


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
    encoding = (
        f"encoding {parts.texts_to_encode:,} texts {format_seconds(parts.encoding)}, "
        if parts.texts_to_encode
        else "all layers are cached, "
    )
    basis = (
        f"{parts.n:,} texts, {parts.k} classes; on this machine: {encoding}"
        f"probes {format_seconds(parts.fitting)}"
        + (f", plus {', '.join(chosen)}" if chosen else "")
        + (f"; options not chosen: {'; '.join(offered)}" if offered else "")
    )
    seconds = parts.encoding + parts.fitting + sum(s for on, _, s in extras if on)
    return Estimate(seconds, basis)


def _probe_parts(store: Store, corpus: Corpus, request: ProbeRequest) -> ProbeParts:
    """Seconds for encoding (uncached texts only), the default fitting and each heavy option."""
    data = probe_data(
        store, corpus, request.label_column, request.group_column, request.subsample, request.seed
    )
    make_folds(data, request.folds, request.seed)
    documents = load_documents(store, corpus, with_metadata=False)
    n, k = data.n, data.k
    share = n / max(len(documents), 1)  # a subsample encodes only its own texts
    missing, encoding = encoding_estimate(
        store, corpus, request.model, request.pooling, request.max_length, documents
    )
    _, random_encoding = encoding_estimate(
        store, corpus, "random", request.pooling, request.max_length, documents
    )
    n_layers, dim = DEFAULT_SHAPE  # other models: the same order of magnitude
    n_train = n * (request.folds - 1) / request.folds
    layers = n_layers + 1
    one_fit = _lr_fit(n_train, dim, k)
    prefix_fits = sum(_lr_fit(n_train, d, k) for d in usable_dims(request.dims, dim))
    fitting = request.folds * (
        layers * one_fit * (1 + CONTROL_FACTOR)
        + (TFIDF_PER_ROW * n_train if request.tfidf else 0.0)
        + 2 * prefix_fits * (2 + RANDOM_SEEDS)  # peak and last layer
    )
    return ProbeParts(
        n=n,
        k=k,
        texts_to_encode=round(missing * share),
        encoding=encoding * share,
        fitting=fitting,
        random_encoder=random_encoding * share + request.folds * layers * one_fit,
        mlp=request.folds * layers * 2 * (MLP_UNIT * n_train * dim + FIT_OVERHEAD),
        permutations=2 * (max(request.permutations, 20) + 1) * request.folds * one_fit,
        heatmap=request.folds * layers * prefix_fits,
    )


def estimate_paper(store: Store, corpus: Corpus, request: PaperRequest) -> Estimate:
    """Last-token encoding of the probed rows the cache lacks, then one unscaled fit per layer.

    Reads the label the way the run will, so a label that cannot be probed is refused first.
    """
    data = probe_data(store, corpus, request.label_column, seed=PAPER_RANDOM_STATE)
    documents = load_documents(store, corpus, with_metadata=False)
    share = data.n / max(len(documents), 1)
    _, encoding = encoding_estimate(
        store, corpus, request.model, PAPER_POOLING, request.max_length, documents
    )
    n_layers, dim = DEFAULT_SHAPE
    fitting = (n_layers + 1) * _lr_fit(data.n * (1 - PAPER_TEST_SIZE), dim, data.k)
    return Estimate(
        encoding * share + fitting,
        "encodes the corpus with last-token pooling if not cached, then one fit per layer",
    )


def estimate_pairs(store: Store, corpus: Corpus, request: PairRequest) -> Estimate:
    """Both texts of every pair at every layer, then seconds of rank correlations.

    The first texts are the corpus's, counted against the cache; the second ones are as many
    and were encoded in the same runs, so they are counted alike.
    """
    _, encoding = encoding_estimate(
        store, corpus, request.model, request.pooling, request.max_length
    )
    return Estimate(
        2 * encoding + PAIR_SECONDS,
        "encodes both texts of every pair at every layer if not cached, about a minute per "
        "2,000 short texts, then seconds",
    )
