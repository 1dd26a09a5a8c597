"""What a user asks of the probes: a label probe, the paper-mode replication, a pair heatmap.

Each request is frozen and checked when it is made, so a choice no run could honour (a pooling
that does not exist, the LSA baseline, which has no layers) is refused with one clear message
before anything is estimated or stored. The analyses that run them live next to their computation
(probe, paper_mode, pair_scores); the requests sit apart so the time estimates can read them too.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus
from analysis.models.pooling import POOLINGS
from analysis.probes.dimension_curves import DEFAULT_DIMS
from analysis.probes.inputs import ProbeData, check_small_classes, probe_data

# The paper-mode protocol of Jin et al. (COLING 2025): fixed, so part of every stored result.
PAPER_RANDOM_STATE = 42
PAPER_TEST_SIZE = 0.4
PAPER_POOLING = "last"
PAPER_SPLIT = f"{1 - PAPER_TEST_SIZE:g}/{PAPER_TEST_SIZE:g}, random_state {PAPER_RANDOM_STATE}"


def _check_layers(model: str, pooling: str) -> None:
    """Every probe reads a transformer's hidden layers through one of the poolings."""
    if pooling not in POOLINGS:
        raise UserError(f"Unknown pooling '{pooling}'; choose {', '.join(POOLINGS)}.")
    if model.strip() == "lsa":
        raise UserError(
            "The LSA baseline has no layers to probe; choose a transformer model (the "
            "default, 'random', or a local sentence-transformers folder)."
        )


@dataclass(frozen=True)
class ProbeRequest:
    """Every choice that changes a probe result (and so the key it is stored under)."""

    label_column: str
    model: str = "default"
    pooling: str = "mean"
    max_length: int = 0
    folds: int = 5
    seed: int = 0
    group_column: str | None = None
    dims: tuple[int, ...] = DEFAULT_DIMS
    dim_layers: tuple[int, ...] = ()  # empty = the peak and the last layer
    subsample: int | None = None  # None = 2,000 above 5,000 rows; 0 = every row
    tfidf: bool = True
    random_encoder: bool = False
    mlp: bool = False
    permutations: int = 0
    heatmap: bool = False
    min_class_size: int = 0  # 0 = keep every class (and refuse ones too small for the folds)
    small_classes: str = "drop"  # what happens to classes below min_class_size: drop | merge

    def __post_init__(self) -> None:
        _check_layers(self.model, self.pooling)
        check_small_classes(self.min_class_size, self.small_classes)
        if self.permutations and not 10 <= self.permutations <= 1000:
            raise UserError("Use between 10 and 1,000 permutations (or 0 for none).")
        object.__setattr__(self, "dims", tuple(sorted({int(d) for d in self.dims})))
        object.__setattr__(self, "dim_layers", tuple(sorted({int(x) for x in self.dim_layers})))

    def data(self, store: Store, corpus: Corpus) -> ProbeData:
        """The labelled rows this request probes (the same for its estimate and its run)."""
        return probe_data(
            store,
            corpus,
            self.label_column,
            self.group_column,
            self.subsample,
            self.seed,
            self.min_class_size,
            self.small_classes,
        )


@dataclass(frozen=True)
class PaperRequest:
    """A label to read with the paper's protocol (pooling, split and probe are fixed)."""

    label_column: str
    model: str = "default"
    max_length: int = 0

    def __post_init__(self) -> None:
        _check_layers(self.model, PAPER_POOLING)


@dataclass(frozen=True)
class PairRequest:
    """Which columns hold the second text and the gold score of each pair, and the encoder."""

    pair_column: str
    score_column: str
    model: str = "default"
    pooling: str = "mean"
    max_length: int = 0
    dims: tuple[int, ...] = DEFAULT_DIMS

    def __post_init__(self) -> None:
        _check_layers(self.model, self.pooling)
