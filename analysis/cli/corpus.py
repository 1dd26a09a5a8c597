"""Corpus commands: ``ingest``, ``embed``, ``corpora``, ``vectors`` and ``delete``.

Engine modules are imported inside the handlers: ``python -m analysis corpora`` must not pay for
the embedding stack just to build the parser.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from analysis.cli.common import StderrProgress, open_args_store
from analysis.core.config import EMBED_CHUNK_TEXTS, EMBED_ENGINES
from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn

#: Seconds of an ingest before its progress lines start.
QUIET_SECONDS = 1.0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("ingest", parents=[common], help="read files into a new corpus")
    p.add_argument("paths", nargs="+", metavar="PATH", help="CSV, TSV, JSONL, JSON, Parquet, TXT")
    p.add_argument("--name", required=True, help="name of the new corpus")
    p.add_argument("--text-column", help="column holding the text (default: detected)")
    p.add_argument(
        "--label-column", action="append", help="a label column (repeatable; default: detected)"
    )
    p.add_argument(
        "--keep-columns", nargs="*", help="metadata columns to keep (default: all others)"
    )
    p.add_argument("--vector-column", help="column of precomputed vectors (Parquet/JSONL)")
    p.add_argument("--npy", help=".npy matrix of precomputed vectors, row-aligned with the CSV")
    p.add_argument("--vector-model", help="name for the imported vectors' model")
    p.set_defaults(handler=_ingest)

    p = sub.add_parser("embed", parents=[common], help="embed a corpus with a model")
    p.add_argument("name", help="corpus name")
    p.add_argument(
        "--model",
        default="default",
        help="default (bundled all-MiniLM-L6-v2), default-int8 (the same, int8 on ONNX Runtime), "
        "lsa, random, or a local model folder / hub id",
    )
    p.add_argument(
        "--chunk",
        type=int,
        default=EMBED_CHUNK_TEXTS,
        metavar="N",
        help=f"texts encoded and committed together (default {EMBED_CHUNK_TEXTS}): an interrupted "
        "embed loses at most one chunk, and running it again resumes from the cache",
    )
    p.add_argument(
        "--engine",
        choices=EMBED_ENGINES,
        default="local",
        help="where the model runs: in this process (default) or as a Ray Data pipeline of "
        "encoder actors (a local Ray instance, or the cluster at --address / RAY_ADDRESS)",
    )
    p.add_argument("--address", help="a Ray cluster's address, with --engine ray")
    p.set_defaults(handler=_embed)

    p = sub.add_parser("corpora", parents=[common], help="list corpora and their models")
    p.set_defaults(handler=_corpora)

    p = sub.add_parser("vectors", parents=[common], help="export a corpus's vectors")
    p.add_argument("name", help="corpus name")
    p.add_argument("--out", required=True, help="FILE.parquet or FILE.npy")
    p.add_argument("--model", help="model name or key (default: the first embedded)")
    p.set_defaults(handler=_vectors)

    p = sub.add_parser("delete", parents=[common], help="delete a corpus")
    p.add_argument("name", help="corpus name")
    p.set_defaults(handler=_delete)


def _ingest(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.core.config import Limits
    from analysis.corpus.corpora import IngestOptions
    from analysis.corpus.streaming import stream_path
    from analysis.vectors.ingest import ingest

    limits = Limits.from_env()
    if args.npy and len(args.paths) != 1:
        raise UserError("--npy goes with exactly one CSV/TSV file.")
    streams = []
    for raw in args.paths:
        path = Path(raw)
        if not path.is_file():
            raise UserError(f"{raw}: no such file.")
        npy = Path(args.npy) if args.npy else None
        if npy is not None and not npy.is_file():
            raise UserError(f"{args.npy}: no such file.")
        checking = _after_quiet_start(StderrProgress(f"Checking {path.name}", "bytes"))
        streams.append(
            stream_path(
                path, limits, vector_column=args.vector_column, npy_path=npy, progress=checking
            )
        )
    options = IngestOptions(
        name=args.name,
        text_column=args.text_column,
        label_columns=args.label_column,
        metadata_columns=args.keep_columns,
        vector_model=args.vector_model,
    )
    store = open_args_store(args)
    progress = _after_quiet_start(StderrProgress(f"Ingesting {args.name}", "rows"))
    corpus, imported_model = ingest(store, streams, options, limits, progress)
    result: dict[str, Any] = {
        "corpus": corpus.name,
        "rows": corpus.n_rows,
        "dropped_empty": corpus.dropped_empty,
        "duplicates": corpus.duplicates,
        "columns": [corpus.text_column, *corpus.metadata_names],
        "text_column": corpus.text_column,
        "label_columns": corpus.label_columns,
        "notices": corpus.notices,
    }
    if imported_model:
        result["imported_model"] = imported_model
    return result


def _after_quiet_start(progress: ProgressFn) -> ProgressFn:
    """Progress from the first report after QUIET_SECONDS: a small file ingests without a line
    of progress, so an error stays the only line on stderr."""
    start = time.monotonic()

    def report(done: int, total: int) -> None:
        if time.monotonic() - start >= QUIET_SECONDS:
            progress(done, total)

    return report


def _embed(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.models.int8_encoder import INT8_SPEC
    from analysis.vectors.embedding import embed_corpus

    store = open_args_store(args)
    result = embed_corpus(
        store,
        args.name,
        args.model,
        StderrProgress("embedding", "texts"),
        args.chunk,
        engine=args.engine,
        address=args.address,
    )
    out: dict[str, Any] = {
        "corpus": result.corpus,
        "model": result.model,
        "model_key": result.model_key,
        "rows": result.rows,
        "dim": result.dim,
        "seconds": result.seconds,
        "cached": result.cached,
        "encoded": result.encoded,
        "engine": args.engine,
    }
    if args.model.strip() == INT8_SPEC:
        from dataclasses import asdict

        from analysis.corpus.corpora import get_corpus
        from analysis.vectors.int8_fidelity import corpus_int8_fidelity

        fidelity = corpus_int8_fidelity(store, get_corpus(store, args.name))
        out["fidelity"] = {**asdict(fidelity), "how": fidelity.describe()}
    return out


def _corpora(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.corpus.corpora import list_corpora
    from analysis.vectors.catalogue import corpus_models

    store = open_args_store(args)
    return {
        "corpora": [
            {
                "name": corpus.name,
                "rows": corpus.n_rows,
                "text_column": corpus.text_column,
                "label_columns": corpus.label_columns,
                "created_at": corpus.created_at,
                "models": [m.name for m in corpus_models(store, corpus)],
                "backends": {m.name: m.backend for m in corpus_models(store, corpus)},
            }
            for corpus in list_corpora(store)
        ]
    }


def _vectors(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.vectors.export import export_vectors

    return export_vectors(open_args_store(args), args.name, Path(args.out), args.model)


def _delete(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.corpus.corpora import delete_corpus

    corpus = delete_corpus(open_args_store(args), args.name)
    return {"deleted": corpus.name, "rows": corpus.n_rows}
