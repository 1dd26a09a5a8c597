"""``python -m analysis length NAME``: the length-collapse diagnostics as JSON.

The same analysis and the same stored results as the Length page: a run the page made is
reused here and the other way round.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from analysis.cli.common import StderrProgress, open_args_store
from analysis.length.sample import (
    DEFAULT_EDGES,
    DEFAULT_LENGTHS,
    DEFAULT_PER_BUCKET,
    DEFAULT_TAUS,
    MIN_PER_BUCKET,
    MODES,
    LengthRequest,
    default_lengths,
)

if TYPE_CHECKING:
    from analysis.length.collapse import LengthReport


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "length",
        parents=[common],
        help="length-collapse diagnostics and the TempScale what-if",
        description=(
            "Length collapse after Zhou et al., ACL 2025 (arXiv 2410.24200). Token counts "
            "include [CLS]/[SEP] and never exceed the model's max_seq_length."
        ),
    )
    p.add_argument("name", help="corpus name")
    p.add_argument(
        "--mode",
        choices=MODES,
        help="truncate: the same long texts cut to each length; buckets: texts grouped by "
        f"length (default: truncate when at least {MIN_PER_BUCKET} texts reach the longest "
        "length)",
    )
    p.add_argument(
        "--lengths",
        nargs="+",
        type=int,
        help=f"truncate: lengths (default {' '.join(map(str, DEFAULT_LENGTHS))}); buckets: "
        f"bucket edges (default {' '.join(map(str, DEFAULT_EDGES))})",
    )
    p.add_argument(
        "--per-bucket", type=int, default=DEFAULT_PER_BUCKET, help="texts per length bucket"
    )
    p.add_argument(
        "--tau",
        nargs="+",
        type=float,
        default=list(DEFAULT_TAUS),
        help="attention temperatures (1.0 is always included)",
    )
    p.add_argument("--label-column", help="a label column: task accuracy per length bucket")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--model",
        default="default",
        help="default, random, or a local sentence-transformers folder",
    )
    p.add_argument(
        "--attention",
        action="store_true",
        help="also measure attention as a filter (eager attention on a small subsample)",
    )
    p.set_defaults(handler=_length)


def _length(args: argparse.Namespace) -> dict[str, Any]:
    # Imported here: the analysis loads torch and scikit-learn, which --help never needs.
    from analysis.corpus.corpora import get_corpus
    from analysis.length.collapse import suggested_mode
    from analysis.length.length_analysis import LengthAnalysis

    store = open_args_store(args)
    corpus = get_corpus(store, args.name)
    longest = max(args.lengths) if args.lengths else DEFAULT_LENGTHS[-1]
    mode = args.mode or suggested_mode(store, corpus, longest)
    request = LengthRequest(
        model=args.model,
        mode=mode,
        lengths=tuple(args.lengths or default_lengths(mode)),
        per_bucket=args.per_bucket,
        taus=tuple(args.tau),
        label_column=args.label_column,
        seed=args.seed,
        attention=args.attention,
    )
    start = time.perf_counter()
    analysis = LengthAnalysis(store, corpus, request)
    report = analysis.run(StderrProgress("length analysis"))
    return report_json(report, analysis.params["model"], time.perf_counter() - start)


def report_json(report: LengthReport, model_key: str, seconds: float) -> dict[str, Any]:
    """The report as the CLI prints it: every number per tau and bucket, no plot coordinates."""
    request = report.request
    taus = []
    for tau, result in report.taus.items():
        entry: dict[str, Any] = {
            "tau": tau,
            "seconds": round(report.seconds[tau], 3),
            "gap": result["gap"],
            "probe_accuracy": result["probe"]["accuracy"],
            "probe_chance": result["probe"]["chance"],
            "buckets": result["buckets"],
            "cross_length": result["cross"],
        }
        if "task" in result:
            entry["task_accuracy"] = result["task"]["mean_accuracy"]
        if tau in report.attention:
            entry["attention"] = report.attention[tau]
        taus.append(entry)
    reference = report.reference
    return {
        "corpus": report.corpus,
        "model": report.model,
        "model_key": model_key,
        "mode": request.mode,
        "lengths": list(request.lengths),
        "tokens_counted": "model tokenizer, [CLS]/[SEP] included",
        "per_bucket": report.per_bucket,
        "seed": request.seed,
        "label_column": request.label_column,
        "notices": reference["sample"]["notices"],
        "taus": taus,
        "baselines": {
            "tau": 1.0,
            "centered": [row["centered_mpc"] for row in reference["buckets"]],
            "whitened": [row["whitened_mpc"] for row in reference["buckets"]],
        },
        "summary": report.summary(),
        "reused": report.reused,
        "seconds": round(seconds, 3),
    }
