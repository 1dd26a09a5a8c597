"""How long a probe run will take on this machine, said before it starts.

Heavy options (random-weight encoder, MLP probe, permutations, the 5-fold heatmap) are opt-in; a
user deciding whether to tick one needs a number, not a warning. The constants were measured on
a shared 2-core CPU (2,000 texts, 7 layers, 384 dimensions, 10 classes: encoding ~100 s, default
fitting ~25 s) and are rounded up; the estimate says "about".
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, load_documents
from analysis.probes.dimension_curves import RANDOM_SEEDS, usable_dims
from analysis.probes.inputs import make_folds, probe_data
from analysis.probes.probe import ProbeRequest
from analysis.vectors.estimate import DEFAULT_SHAPE, encoding_estimate, format_seconds

LR_UNIT = 2.2e-8  # seconds per (training row x dimension x class) of one lbfgs fit
CONTROL_FACTOR = 3.0  # memorising random keys needs about three times the iterations
FIT_OVERHEAD = 0.02
TFIDF_PER_ROW = 2.5e-4
MLP_UNIT = 1.2e-6  # seconds per (training row x dimension), hidden layer of 256


@dataclass(frozen=True)
class ProbeEstimate:
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


def estimate_probe(store: Store, corpus: Corpus, request: ProbeRequest) -> ProbeEstimate:
    """Seconds for encoding (uncached texts only), the default fitting and each heavy option.

    Validates the request the way the run will (labels, classes, folds), so a label that cannot
    be probed is refused before the user waits for anything.
    """
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
    return ProbeEstimate(
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


def describe_estimate(estimate: ProbeEstimate, request: ProbeRequest) -> str:
    """One line before the Run button: what will run, how long, and what the options would add."""
    extras = [
        (request.random_encoder, "random-weight encoder", estimate.random_encoder),
        (request.mlp, "MLP probe", estimate.mlp),
        (request.heatmap, "heatmap", estimate.heatmap),
        (request.permutations > 0, "permutations", estimate.permutations),
    ]
    chosen = [f"{name} {format_seconds(s)}" for on, name, s in extras if on]
    offered = [f"{name}: {format_seconds(s)}" for on, name, s in extras if not on]
    encoding = (
        f"encoding {estimate.texts_to_encode:,} texts {format_seconds(estimate.encoding)}, "
        if estimate.texts_to_encode
        else "all layers are cached, "
    )
    return (
        f"{estimate.n:,} texts, {estimate.k} classes. Estimated on this machine: {encoding}"
        f"probes {format_seconds(estimate.fitting)}"
        + (f", plus {', '.join(chosen)}" if chosen else "")
        + (f". Options not chosen: {'; '.join(offered)}." if offered else ".")
    )
