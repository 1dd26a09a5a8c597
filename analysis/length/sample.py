"""Which texts, at which lengths, the length-collapse diagnostics run on.

Two designs (length_collapse.md): natural buckets group existing texts by token count, as the
paper does; controlled truncation cuts the same long texts to several lengths, so content is held
fixed and only length varies. Lengths are counted as the positions the model sees, [CLS] and
[SEP] included (L = 16 is [CLS] + 14 word pieces + [SEP]), with the model's own tokenizer; that is
the n of the spec's J = (1/n) 11^T, and the mean pooling averages exactly those rows. Nothing ever
goes beyond the model's max_seq_length: beyond it the model would silently truncate.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.core.errors import UserError
from analysis.models.encoders import default_model_path
from analysis.models.tokens import word_pieces

TRUNCATE = "truncate"
BUCKETS = "buckets"
MODES = (TRUNCATE, BUCKETS)
DEFAULT_LENGTHS = (8, 16, 32, 64, 128)
LENGTH_CHOICES = (8, 16, 32, 64, 128, 256)  # 256 (= MiniLM's whole window) is opt-in
DEFAULT_EDGES = (0, 16, 32, 64, 128, 256)
DEFAULT_PER_BUCKET = 200
MIN_PER_BUCKET = 10  # fewer texts give no usable bootstrap interval or 5-fold probe
TAU_CHOICES = (1.0, 0.95, 0.9, 0.85, 0.8, 0.7)
DEFAULT_TAUS = (1.0, 0.8)
NOT_A_TRANSFORMER = (
    "Length diagnostics run the model on texts cut to each length and read its attention, so "
    "they need a transformer: the bundled MiniLM, the random-weights control, or a local "
    "sentence-transformers folder. {what}"
)


def default_lengths(mode: str) -> tuple[int, ...]:
    """The lengths a mode uses unless told otherwise: truncation lengths or bucket edges."""
    return DEFAULT_LENGTHS if mode == TRUNCATE else DEFAULT_EDGES


@dataclass(frozen=True)
class LengthRequest:
    """Everything a length analysis depends on besides the corpus and the model's weights.

    ``lengths`` are truncation lengths in mode 'truncate' and bucket edges in mode 'buckets'.
    """

    model: str = "default"
    mode: str = TRUNCATE
    lengths: tuple[int, ...] = DEFAULT_LENGTHS
    per_bucket: int = DEFAULT_PER_BUCKET
    taus: tuple[float, ...] = DEFAULT_TAUS
    label_column: str | None = None
    seed: int = 0
    attention: bool = False

    def __post_init__(self) -> None:
        """Checked, and put in one canonical form (sorted, de-duplicated lengths; taus from 1.0
        down with 1.0 always in), so two spellings of one request are one request."""
        if self.model == "lsa":
            raise UserError(
                NOT_A_TRANSFORMER.format(what="LSA has no tokens, layers or attention.")
            )
        if self.model.startswith("external:"):
            raise UserError(
                NOT_A_TRANSFORMER.format(what="Imported vectors cannot embed truncated texts.")
            )
        if self.mode not in MODES:
            raise UserError(f"Unknown length mode '{self.mode}'; choose {' or '.join(MODES)}.")
        lengths = tuple(sorted({int(length) for length in self.lengths}))
        needed = 2 if self.mode == TRUNCATE else 3
        if len(lengths) < needed:
            what = "lengths" if self.mode == TRUNCATE else "bucket edges (2 buckets)"
            raise UserError(f"Give at least {needed} different {what}; got {list(lengths)}.")
        if self.per_bucket < MIN_PER_BUCKET:
            raise UserError(
                f"{self.per_bucket} texts per bucket is too few: at least {MIN_PER_BUCKET} are "
                "needed for a bootstrap interval and a 5-fold probe."
            )
        taus = tuple(sorted({1.0, *(round(float(t), 4) for t in self.taus)}, reverse=True))
        if any(not 0 < tau <= 10 for tau in taus):
            raise UserError(f"Temperatures must lie in (0, 10]; got {list(taus)}.")
        object.__setattr__(self, "lengths", lengths)
        object.__setattr__(self, "taus", taus)
        object.__setattr__(self, "label_column", self.label_column or None)

    def sample_params(self) -> dict[str, Any]:
        """The parameters that decide the sample (everything but the temperatures)."""
        return {
            "mode": self.mode,
            "lengths": list(self.lengths),
            "per_bucket": self.per_bucket,
            "label_column": self.label_column,
            "seed": self.seed,
        }


@dataclass
class LengthSample:
    """The items a pass runs on, grouped by bucket: one item = one text at one length."""

    mode: str
    bucket_names: list[str]
    texts: list[str]
    max_tokens: np.ndarray  # per item: the tokenizer's max_length (L, or the model's limit)
    tokens: np.ndarray  # per item: positions the model sees, [CLS]/[SEP] included
    bucket: np.ndarray  # per item: bucket index
    group: np.ndarray  # per item: source doc_id (the same text at several lengths shares it)
    labels: np.ndarray | None  # per item: label, None where missing
    available: list[int]  # per bucket: texts that qualified before sampling
    notices: list[str] = field(default_factory=list)

    @property
    def k(self) -> int:
        return len(self.bucket_names)

    @property
    def n_texts(self) -> int:
        return len(self.texts)

    @property
    def total_tokens(self) -> int:
        return int(self.tokens.sum())

    def items_of(self, bucket: int) -> np.ndarray:
        return np.flatnonzero(self.bucket == bucket)

    def summary(self) -> dict[str, Any]:
        """What a stored result and a caption say about the sample."""
        return {
            "mode": self.mode,
            "buckets": [
                {
                    "name": name,
                    "n_texts": int(self.items_of(b).size),
                    "mean_tokens": round(float(self.tokens[self.items_of(b)].mean()), 2),
                    "available": self.available[b],
                }
                for b, name in enumerate(self.bucket_names)
            ],
            "n_texts": self.n_texts,
            "tokens": self.total_tokens,
            "notices": list(self.notices),
        }


def token_positions(
    texts: list[str], n_tokens: np.ndarray, tokenizer: Any, lock: threading.Lock | None
) -> np.ndarray:
    """Positions each whole text would take in the model: word pieces + special tokens.

    The store already holds word-piece counts of the bundled tokenizer; other tokenizers count
    afresh, in batches and without truncation, holding the model's lock: a fast tokenizer
    called from two threads with different truncation settings fails ("Already borrowed").
    """
    specials = tokenizer.num_special_tokens_to_add(pair=False)
    if tokenizer.name_or_path == default_model_path():
        return np.asarray(n_tokens, dtype=np.int64) + specials
    with lock or nullcontext():
        counts = word_pieces(tokenizer, texts, 2048)
    return np.asarray(counts, dtype=np.int64) + specials


def plan_sample(
    documents: pd.DataFrame,
    tokenizer: Any,
    max_length: int,
    request: LengthRequest,
    lock: threading.Lock | None = None,
) -> LengthSample:
    """The seeded sample for a request, or a UserError naming the bucket that is too small.

    ``documents`` has doc_id, text, text_sha256, n_tokens and (if asked for) the label column;
    exact duplicate texts count once, since repeats would inflate every similarity. ``lock``
    guards the tokenizer when it is shared with a model other threads may be running.
    """
    if request.label_column is not None and request.label_column not in documents.columns:
        raise UserError(f"Label column '{request.label_column}' is not a column of this corpus.")
    unique = documents.drop_duplicates("text_sha256").reset_index(drop=True)
    texts = unique["text"].tolist()
    positions = token_positions(texts, unique["n_tokens"].to_numpy(), tokenizer, lock)
    specials = tokenizer.num_special_tokens_to_add(pair=False)
    if request.mode == TRUNCATE:
        chosen, bucket, max_tokens, names, available, notices = _truncation_plan(
            positions, request, max_length, specials
        )
        tokens = max_tokens.copy()
    else:
        chosen, bucket, names, available, notices = _bucket_plan(positions, request, max_length)
        max_tokens = np.full(chosen.size, max_length, dtype=np.int64)
        tokens = positions[chosen]
    labels = None
    if request.label_column is not None:
        values = unique[request.label_column].to_numpy(dtype=object)[chosen]
        labels = np.array([None if pd.isna(v) else str(v) for v in values], dtype=object)
    duplicates = len(documents) - len(unique)
    if duplicates:
        notices.append(f"{duplicates:,} exact duplicate text(s) count once.")
    return LengthSample(
        mode=request.mode,
        bucket_names=names,
        texts=[texts[i] for i in chosen],
        max_tokens=max_tokens,
        tokens=tokens,
        bucket=bucket,
        group=unique["doc_id"].to_numpy()[chosen],
        labels=labels,
        available=available,
        notices=notices,
    )


def _check_limit(largest: int, max_length: int, what: str) -> None:
    if largest > max_length:
        raise UserError(
            f"{what} {largest} is beyond the model's limit of {max_length} tokens ([CLS]/[SEP] "
            "included); the model would silently truncate longer inputs. Use "
            f"{max_length} or less."
        )


def _truncation_plan(
    positions: np.ndarray, request: LengthRequest, max_length: int, specials: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], list[int], list[str]]:
    """P long texts, each truncated to every length L (the same texts in every bucket)."""
    lengths = request.lengths
    _check_limit(lengths[-1], max_length, "Length")
    if lengths[0] <= specials:
        raise UserError(
            f"Length {lengths[0]} leaves no room for text: {specials} positions go to special "
            "tokens. Use lengths of at least 4."
        )
    longest = lengths[-1]
    eligible = np.flatnonzero(positions >= longest)
    if eligible.size < MIN_PER_BUCKET:
        reach = [L for L in lengths if (positions >= L).sum() >= MIN_PER_BUCKET]
        hint = (
            f" Lengths up to {reach[-1]} have enough texts."
            if reach
            else " Use natural buckets instead."
        )
        raise UserError(
            f"Bucket {longest} tokens is too small: only {eligible.size} text(s) have at least "
            f"{longest} tokens, and controlled truncation needs at least {MIN_PER_BUCKET} texts "
            f"that long.{hint}"
        )
    notices = []
    per = min(request.per_bucket, eligible.size)
    if per < request.per_bucket:
        notices.append(
            f"Only {eligible.size:,} texts have at least {longest} tokens: every length uses "
            f"those {per:,} (asked for {request.per_bucket:,})."
        )
    rng = np.random.default_rng(request.seed)
    picked = rng.choice(eligible, size=per, replace=False)
    k = len(lengths)
    chosen = np.tile(picked, k)
    bucket = np.repeat(np.arange(k), per)
    max_tokens = np.repeat(np.asarray(lengths, dtype=np.int64), per)
    names = [f"{L} tok" for L in lengths]
    return chosen, bucket, max_tokens, names, [int(eligible.size)] * k, notices


def _bucket_plan(
    positions: np.ndarray, request: LengthRequest, max_length: int
) -> tuple[np.ndarray, np.ndarray, list[str], list[int], list[str]]:
    """Equal numbers of texts from each length bucket; too-small buckets named and left out."""
    edges = request.lengths
    _check_limit(edges[-1], max_length, "Bucket edge")
    k = len(edges) - 1
    names, members = [], []
    for b in range(k):
        low, high = edges[b], edges[b + 1]
        last = b == k - 1
        inside = (positions >= low) & ((positions <= high) if last else (positions < high))
        names.append(f"[{low},{high}]" if last else f"[{low},{high})")
        members.append(np.flatnonzero(inside))
    available = [int(m.size) for m in members]
    usable = [b for b in range(k) if available[b] >= MIN_PER_BUCKET]
    counted = [f"{names[b]}: {available[b]} text(s)" for b in range(k)]
    too_small = [counted[b] for b in range(k) if b not in usable]
    if len(usable) < 2:
        raise UserError(
            f"Too few texts per length bucket (at least {MIN_PER_BUCKET} are needed in at least "
            f"2 buckets): {'; '.join(counted)}. "
            "Change the bucket edges, or use controlled truncation on long texts."
        )
    notices = []
    if too_small:
        notices.append(
            f"Left out (fewer than {MIN_PER_BUCKET} texts): {'; '.join(too_small)} (tokens "
            "counted with [CLS]/[SEP])."
        )
    shorter, longer = int((positions < edges[0]).sum()), int((positions > edges[-1]).sum())
    if shorter:
        notices.append(f"{shorter:,} text(s) shorter than {edges[0]} tokens are in no bucket.")
    if longer:
        notices.append(f"{longer:,} text(s) longer than {edges[-1]} tokens are in no bucket.")
    per = min(request.per_bucket, *(available[b] for b in usable))
    if per < request.per_bucket:
        smallest = min(usable, key=lambda b: available[b])
        notices.append(
            f"Bucket {names[smallest]} has only {available[smallest]:,} texts, so every bucket "
            f"uses {per:,} (asked for {request.per_bucket:,}) to stay comparable."
        )
    rng = np.random.default_rng(request.seed)
    chosen = np.concatenate([rng.choice(members[b], size=per, replace=False) for b in usable])
    bucket = np.repeat(np.arange(len(usable)), per)
    return (
        chosen,
        bucket,
        [names[b] for b in usable],
        [available[b] for b in usable],
        notices,
    )
