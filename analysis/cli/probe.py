"""``python -m analysis probe``: layer-wise probes, paper mode and sentence-pair heatmaps as JSON.

Three modes share one command: a label column (the default probe run), ``--paper`` (the Concept
Depth replication) and ``--pair-column/--score-column`` (the Spearman layer x dimension heatmap of
a sentence-pair corpus). Progress goes to stderr; bad input exits 2 with one line.
"""

from __future__ import annotations

import argparse
from typing import Any

from analysis.cli.common import StderrProgress, open_args_store
from analysis.core.analysis import StoredAnalysis
from analysis.core.errors import UserError
from analysis.core.results import StoredResult
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, get_corpus
from analysis.models.pooling import POOLINGS
from analysis.probes.dimension_curves import DEFAULT_DIMS
from analysis.probes.inputs import SMALL_CLASS_RULES, SmallClassesError

BULKY = ("doc_ids", "fold_of")  # kept in the store, left out of the printed JSON


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "probe", parents=[common], help="layer-wise probes of a label (after Concept Depth)"
    )
    p.add_argument("name", help="corpus name")
    p.add_argument("--label-column", help="the label to probe (a column of the corpus)")
    p.add_argument("--model", default="default", help="default, random, or a local model folder")
    p.add_argument("--pooling", choices=POOLINGS, default="mean", help="per-layer pooling")
    p.add_argument("--max-length", type=int, default=0, help="token limit (0 = the model's)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    p.add_argument("--seed", type=int, default=0, help="folds, control task, projections")
    p.add_argument("--group-column", help="keep each group in one fold (StratifiedGroupKFold)")
    p.add_argument(
        "--dims", type=int, nargs="+", default=list(DEFAULT_DIMS), help="sizes d (full is added)"
    )
    p.add_argument("--dim-layers", type=int, nargs="+", help="layers for dimension curves")
    p.add_argument(
        "--subsample",
        type=int,
        help="rows to probe (default: a stratified 2,000 above 5,000 rows; 0 = all)",
    )
    p.add_argument(
        "--min-class-size",
        type=int,
        default=0,
        metavar="N",
        help="drop or merge classes with fewer than N labelled texts (default 0: keep every "
        "class, and refuse a label whose classes are too small for the folds, naming them)",
    )
    p.add_argument(
        "--small-classes",
        choices=SMALL_CLASS_RULES,
        default="drop",
        help="what happens to classes below --min-class-size: drop them, or merge them into "
        "'other' (default drop)",
    )
    p.add_argument("--no-tfidf", action="store_true", help="skip the TF-IDF + LR baseline")
    p.add_argument("--random-encoder", action="store_true", help="add the random-weight encoder")
    p.add_argument("--mlp", action="store_true", help="add an MLP probe and its control")
    p.add_argument("--permutations", type=int, default=0, help="permutation p-values (20-100)")
    p.add_argument("--heatmap", action="store_true", help="5-fold layer x dimension heatmap")
    p.add_argument("--paper", action="store_true", help="Concept-Depth replication (60/40 split)")
    p.add_argument("--pair-column", help="second text of each pair (sentence-pair heatmap)")
    p.add_argument("--score-column", help="gold similarity score of each pair")
    p.set_defaults(handler=probe_command)


def probe_command(args: argparse.Namespace) -> dict[str, Any]:
    store = open_args_store(args)
    corpus = get_corpus(store, args.name)
    analysis = _analysis(store, corpus, args)
    stored = _run(analysis)
    result = {k: v for k, v in stored.result.items() if k not in BULKY}
    return {
        "corpus": corpus.name,
        **result,
        "seconds": round(stored.seconds, 3),
        "reused": stored.reused,
    }


def _run(analysis: StoredAnalysis) -> StoredResult:
    """Run the probe; a refusal over small classes ends with the flags that get past it."""
    try:
        return analysis.run(StderrProgress("probe (texts encoded, then probes fitted)"))
    except SmallClassesError as exc:
        raise UserError(
            f"{exc.message} On the command line: --min-class-size {exc.minimum} "
            "--small-classes drop (or merge)."
        ) from exc


def _analysis(store: Store, corpus: Corpus, args: argparse.Namespace) -> StoredAnalysis:
    """The mode the options ask for: a sentence-pair heatmap, paper mode or the label probe."""
    # Imported here: the probes pull in scikit-learn and the figure stack, which --help never needs.
    from analysis.probes.pair_scores import PairHeatmap
    from analysis.probes.paper_mode import PaperProbe
    from analysis.probes.probe import Probe
    from analysis.probes.requests import PairRequest, PaperRequest, ProbeRequest

    if args.pair_column or args.score_column:
        if not (args.pair_column and args.score_column):
            raise UserError("A sentence-pair heatmap needs both --pair-column and --score-column.")
        pairs = PairRequest(
            args.pair_column,
            args.score_column,
            args.model,
            args.pooling,
            args.max_length,
            tuple(args.dims),
        )
        return PairHeatmap(store, corpus, pairs)
    if not args.label_column:
        raise UserError("Name the label to probe with --label-column (or use --pair-column).")
    if args.paper:
        paper = PaperRequest(args.label_column, args.model, args.max_length)
        return PaperProbe(store, corpus, paper)
    request = ProbeRequest(
        label_column=args.label_column,
        model=args.model,
        pooling=args.pooling,
        max_length=args.max_length,
        folds=args.folds,
        seed=args.seed,
        group_column=args.group_column,
        dims=tuple(args.dims),
        dim_layers=tuple(args.dim_layers or ()),
        subsample=args.subsample,
        tfidf=not args.no_tfidf,
        random_encoder=args.random_encoder,
        mlp=args.mlp,
        permutations=args.permutations,
        heatmap=args.heatmap,
        min_class_size=args.min_class_size,
        small_classes=args.small_classes,
    )
    return Probe(store, corpus, request)
