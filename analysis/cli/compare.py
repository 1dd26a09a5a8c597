"""``python -m analysis compare``: two representations of a corpus, or a model's layers, as JSON.

``--a MODEL[:LAYER] --b MODEL[:LAYER]`` prints linear CKA, mutual kNN overlap (mean and
quantiles), the Spearman correlation of pairwise cosine distances and the texts whose neighbours
changed most; ``--layers [--model M] [--against M2]`` prints the layer x layer CKA matrix.
"""

from __future__ import annotations

import argparse
from typing import Any

from analysis.cli.common import StderrProgress, open_args_store
from analysis.core.errors import UserError
from analysis.corpus.corpora import get_corpus
from analysis.models.pooling import POOLINGS


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "compare", parents=[common], help="CKA and neighbourhood overlap of two representations"
    )
    p.add_argument("name", help="corpus name")
    p.add_argument("--a", help="MODEL or MODEL:LAYER (e.g. default, lsa, default:3)")
    p.add_argument("--b", help="MODEL or MODEL:LAYER")
    p.add_argument("--k", type=int, default=10, help="neighbours per text for the overlap")
    p.add_argument("--layers", action="store_true", help="layer x layer CKA of --model")
    p.add_argument("--model", default="default", help="model for --layers")
    p.add_argument("--against", help="with --layers: a second model's layers as columns")
    p.add_argument("--pooling", choices=POOLINGS, default="mean", help="per-layer pooling")
    p.add_argument("--max-length", type=int, default=0, help="token limit (0 = the model's)")
    p.add_argument("--seed", type=int, default=0, help="seed of sampled pairs / NN-descent")
    p.set_defaults(handler=compare_command)


def compare_command(args: argparse.Namespace) -> dict[str, Any]:
    # Imported here: the comparison pulls in the map and figure stack, which --help never needs.
    from analysis.compare.comparison import CompareRequest, Comparison, LayerCka, LayerRequest
    from analysis.compare.summary import top_changed_note

    store = open_args_store(args)
    corpus = get_corpus(store, args.name)
    progress = StderrProgress("compare (texts encoded)")
    if args.layers:
        request = LayerRequest(args.model, args.against, args.pooling, args.max_length)
        stored = LayerCka(store, corpus, request).run(progress)
        return {
            "corpus": corpus.name,
            **stored.result,
            "seconds": round(stored.seconds, 3),
            "reused": stored.reused,
        }
    if not (args.a and args.b):
        raise UserError("Name both representations: --a MODEL[:LAYER] --b MODEL[:LAYER].")
    request = CompareRequest(args.a, args.b, args.k, args.pooling, args.max_length, args.seed)
    stored = Comparison(store, corpus, request).run(progress)
    result = dict(stored.result)
    note = top_changed_note(result)
    result["knn_overlap"] = {k: v for k, v in result["knn_overlap"].items() if k != "per_point"}
    return {
        "corpus": corpus.name,
        **result,
        "top_changed_note": note,
        "seconds": round(stored.seconds, 3),
        "reused": stored.reused,
    }
