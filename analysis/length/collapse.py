"""Length collapse (Zhou et al., ACL 2025, arXiv 2410.24200) and the TempScale what-if.

Prepares a request (loads the model, draws the sample of length_sample), runs that sample
through the model at one attention temperature (length_forward) and derives every per-temperature
diagnostic of length_collapse.md from that pass (length_stats). ``LengthReport`` gathers the
stored results of every temperature; storing them is length_analysis's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from analysis.core.analysis import Estimate, format_seconds
from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.speed import describe_factor, machine_factor
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, load_documents
from analysis.length.attention import subsample_size
from analysis.length.forward import TauPass, run_pass
from analysis.length.sample import (
    BUCKETS,
    DEFAULT_LENGTHS,
    MIN_PER_BUCKET,
    TRUNCATE,
    LengthRequest,
    LengthSample,
    plan_sample,
)
from analysis.length.stats import (
    cross_similarity,
    length_probe,
    mean_centred,
    mpc,
    mpc_interval,
    pca_map,
    spread_and_rank,
    task_accuracy,
    whitened,
)
from analysis.length.tempscale import transformer_of
from analysis.models.encoders import Encoder, load_encoder
from analysis.models.throughput import throughput

VERSION = 1
# On the 2-core reference machine, scaled by this machine's measured speed (core.speed): the
# statistics of one temperature at the default size (probes, bootstrap, PCA, whitening), the
# token-smoothing statistics of every layer on top of the forward pass itself (a share of it),
# and the attention diagnostics per text (eager attention, one text at a time, power iteration).
STATS_SECONDS = 1.5
SMOOTHING_SHARE = 0.3
ATTENTION_SECONDS_PER_TEXT = 0.12
CITATION = "After Zhou et al., ACL 2025 (arXiv 2410.24200)."


@dataclass(frozen=True)
class Prepared:
    """A checked request with its model loaded and its sample drawn: ready to estimate or run."""

    corpus: Corpus
    request: LengthRequest
    encoder: Encoder
    sample: LengthSample

    @property
    def model_key(self) -> str:
        return self.encoder.info.model_key

    def params(self, tau: float) -> dict[str, Any]:
        return {
            "version": VERSION,
            "model": self.model_key,
            **self.request.sample_params(),
            "tau": tau,
        }

    def estimate(self, taus: int, attention: int) -> Estimate:
        """``taus`` temperatures still to compute (``attention`` of them with the attention
        diagnostics): the sample's tokens at the all-layers rate measured on this machine."""
        sample, factor = self.sample, machine_factor()
        measured = throughput(self.request.model, "layers")
        forward = measured.seconds(sample.n_texts, sample.total_tokens) * (1 + SMOOTHING_SHARE)
        diagnostics = subsample_size(sample) * ATTENTION_SECONDS_PER_TEXT * factor
        seconds = taus * (forward + STATS_SECONDS * factor) + attention * diagnostics
        basis = (
            f"{taus} temperature(s) to compute, each "
            f"{measured.describe(sample.n_texts, sample.total_tokens)}; {describe_factor()}"
        )
        if attention:
            basis += f"; attention diagnostics {format_seconds(diagnostics)} per temperature"
        else:  # opt-in: its cost is said before anyone ticks it
            basis += f"; option not chosen: attention diagnostics {format_seconds(diagnostics)}"
        per_tau = format_seconds(forward + STATS_SECONDS * factor)
        return Estimate(seconds, f"{basis}; each further temperature {per_tau}")


def suggested_mode(store: Store, corpus: Corpus, longest: int = DEFAULT_LENGTHS[-1]) -> str:
    """Controlled truncation when enough texts reach ``longest`` tokens, else natural buckets.

    Counted with the stored word-piece counts of the bundled tokenizer (+ [CLS]/[SEP]): a
    default, not a promise; prepare() counts with the chosen model's own tokenizer.
    """
    long_texts = store.fetch_all(
        "SELECT count(DISTINCT text_sha256) FROM documents "
        "WHERE corpus_id = ? AND n_tokens + 2 >= ?",
        [corpus.corpus_id, longest],
    )[0][0]
    return TRUNCATE if long_texts >= MIN_PER_BUCKET else BUCKETS


def prepare(store: Store, corpus: Corpus, request: LengthRequest) -> Prepared:
    """Check the request against the corpus, load the model, draw the sample (a UserError
    explains any problem)."""
    if request.label_column is not None and request.label_column not in corpus.metadata_names:
        known = ", ".join(corpus.label_columns) or "none"
        raise UserError(
            f"'{request.label_column}' is not a column of corpus '{corpus.name}' (label "
            f"columns: {known})."
        )
    encoder = load_encoder(request.model)
    _, lock = transformer_of(encoder)  # a UserError for encoders without layers
    documents = load_documents(store, corpus, with_metadata=request.label_column is not None)
    tokenizer = encoder._hidden.tokenizer
    sample = plan_sample(documents, tokenizer, int(encoder.info.max_length), request, lock)
    return Prepared(corpus, request, encoder, sample)


def _bucket_results(prepared: Prepared, tau_pass: TauPass) -> tuple[list[dict[str, Any]], float]:
    """Per-bucket statistics and the overall length-probe accuracy."""
    sample, seed = prepared.sample, prepared.request.seed
    unit = tau_pass.embeddings
    groups = sample.group
    probe_accuracy, recall = length_probe(unit, sample.bucket, groups, seed)
    centred, white = mean_centred(unit), whitened(unit)
    rows = []
    for b, summary in enumerate(sample.summary()["buckets"]):
        items = sample.items_of(b)
        spread, rank, pc1 = spread_and_rank(unit[items])
        row = {
            **summary,
            "mpc": mpc(unit[items]),
            "ci": list(mpc_interval(unit[items], seed=[seed, b])),
            "spread": spread,
            "effective_rank": rank,
            "pc1_share": pc1,
            "probe_accuracy": float(recall[b]),
            "pooled_mpc": [mpc(layer[items]) for layer in tau_pass.layers],
            "hc_dc": tau_pass.hc_dc[:, b].tolist(),
            "token_mpc": tau_pass.token_mpc[:, b].tolist(),
            "centered_mpc": mpc(centred[items]),
            "whitened_mpc": mpc(white[items]),
        }
        if sample.labels is not None:
            accuracy, majority = task_accuracy(
                unit[items], sample.labels[items], groups[items], seed
            )
            row["task_accuracy"], row["majority_share"] = accuracy, majority
        rows.append(row)
    return rows, probe_accuracy


def analyse_tau(prepared: Prepared, tau: float, progress: ProgressFn | None) -> dict[str, Any]:
    """Every per-temperature diagnostic (1-7, 9-12) from one forward pass; JSON-ready."""
    sample = prepared.sample
    tau_pass = run_pass(prepared.encoder, sample, tau, progress)
    # One BLAS thread: with torch's threads just released and other work on 2 cores, threaded
    # SVDs of these small matrices ran up to 10x slower than single-threaded ones.
    with threadpool_limits(1):
        buckets, probe_accuracy = _bucket_results(prepared, tau_pass)
        pairwise, centroid = cross_similarity(
            tau_pass.embeddings, sample.bucket, sample.group, sample.k
        )
        coords, explained = pca_map(tau_pass.embeddings, prepared.request.seed)
    result: dict[str, Any] = {
        "tau": tau,
        "sample": sample.summary(),
        "buckets": buckets,
        "gap": buckets[-1]["mpc"] - buckets[0]["mpc"],
        "probe": {"accuracy": probe_accuracy, "chance": 1.0 / sample.k},
        "cross": {"pairwise": pairwise.tolist(), "centroid": centroid.tolist()},
        "map": {
            "x": np.round(coords[:, 0], 5).tolist(),
            "y": np.round(coords[:, 1], 5).tolist(),
            "bucket": sample.bucket.tolist(),
            "explained": explained,
        },
        "dim": int(tau_pass.embeddings.shape[1]),
        "forward_seconds": tau_pass.seconds,
    }
    if sample.labels is not None:
        scores = [row["task_accuracy"] for row in buckets if row["task_accuracy"] is not None]
        result["task"] = {
            "label_column": prepared.request.label_column,
            "mean_accuracy": float(np.mean(scores)) if scores else None,
        }
    return result


@dataclass(frozen=True)
class LengthReport:
    """Every temperature's stored result for one request, plus what captions need."""

    corpus: str
    model: str
    request: LengthRequest
    taus: dict[float, dict[str, Any]]
    attention: dict[float, dict[str, Any]]
    seconds: dict[float, float]
    reused: bool = field(compare=False)  # how this copy was obtained, not part of the result

    @property
    def reference(self) -> dict[str, Any]:
        """The tau = 1 result (always part of a run)."""
        return self.taus[1.0]

    @property
    def bucket_names(self) -> list[str]:
        return [row["name"] for row in self.reference["buckets"]]

    @property
    def per_bucket(self) -> int:
        return self.reference["buckets"][0]["n_texts"]

    def caption(self, taus: list[float] | None = None) -> str:
        request = self.request
        design = (
            f"controlled truncation of the same {self.per_bucket} texts"
            if request.mode == TRUNCATE
            else f"natural length buckets, {self.per_bucket} texts each"
        )
        shown = ", ".join(f"{t:g}" for t in (taus or list(self.taus)))
        return (
            f"{self.model} on '{self.corpus}': {design}; lengths {', '.join(self.bucket_names)} "
            f"(tokens incl. [CLS]/[SEP]); τ = {shown}; seed {request.seed}. {CITATION}"
        )

    def summary(self) -> str:
        """The finding in a few plain sentences, with the numbers that carry it."""
        ref = self.reference
        rows, names = ref["buckets"], self.bucket_names
        first, last = rows[0], rows[-1]
        gap = ref["gap"]
        verb = "rises" if gap > 0 else "falls" if gap < 0 else "stays"
        pooled0, pooled1 = first["pooled_mpc"][0], last["pooled_mpc"][0]
        parts = [
            f"At τ = 1, the mean pairwise cosine (MPC) of the embeddings {verb} from "
            f"{first['mpc']:.3f} ({names[0]}) to {last['mpc']:.3f} ({names[-1]}), gap "
            f"{gap:+.3f}.",
            f"Mean-pooling the layer-0 input embeddings, before any attention, already goes "
            f"from {pooled0:.3f} to {pooled1:.3f} (gap {pooled1 - pooled0:+.3f}).",
        ]
        scaled = [tau for tau in self.taus if tau != 1.0]
        if scaled and abs(gap) > 1e-9:
            best = min(scaled, key=lambda tau: abs(self.taus[tau]["gap"]))
            change = 100 * (abs(gap) - abs(self.taus[best]["gap"])) / abs(gap)
            parts.append(
                f"τ = {best:g} {'narrows' if change >= 0 else 'widens'} the gap by "
                f"{abs(change):.1f}% (to {self.taus[best]['gap']:+.3f})"
                + (", the best of the temperatures tried." if len(scaled) > 1 else ".")
            )
        probe = ref["probe"]
        parts.append(
            f"A linear probe reads the length bucket off the embedding with "
            f"{probe['accuracy']:.0%} accuracy (chance {probe['chance']:.0%})."
        )
        return " ".join(parts)
