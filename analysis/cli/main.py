"""``python -m analysis``: every analysis from the command line, one JSON object on stdout.

Progress goes to stderr so stdout stays machine-readable. Exit codes: 0 success, 2 bad input (one
line on stderr, no traceback), 1 an internal error (one line; EMBEDLENS_DEBUG=1 shows the
traceback).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.core.errors import UserError

if TYPE_CHECKING:
    from analysis.map.projection import Projection

Handler = Callable[[argparse.Namespace], dict[str, Any]]
# Modules that add their own subcommands: each has register(sub, common), which adds a parser
# (with parents=[common] for --db) and sets its handler with set_defaults(handler=...).
COMMAND_MODULES: tuple[str, ...] = (
    "analysis.cli.length",
    "analysis.cli.probe",
    "analysis.cli.compare",
    "analysis.cli.tables",
)
_COMMANDS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _COMMANDS[name] = handler
        return handler

    return register


class StderrProgress:
    """Progress lines on stderr, at most one per percent, so logs stay short."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // max(total, 1)
        if percent != self._last:
            self._last = percent
            print(f"{self.label}: {done:,}/{total:,} ({percent}%)", file=sys.stderr, flush=True)


def _store(args: argparse.Namespace):
    from analysis.core.store import open_store

    return open_store(getattr(args, "db", None))


@command("ingest")
def _ingest(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.core.config import Limits
    from analysis.corpus.corpora import IngestOptions
    from analysis.corpus.readers import read_path
    from analysis.vectors.ingest import ingest

    limits = Limits.from_env()
    if args.npy and len(args.paths) != 1:
        raise UserError("--npy goes with exactly one CSV/TSV file.")
    tables = []
    for raw in args.paths:
        path = Path(raw)
        if not path.is_file():
            raise UserError(f"{raw}: no such file.")
        npy = Path(args.npy) if args.npy else None
        if npy is not None and not npy.is_file():
            raise UserError(f"{args.npy}: no such file.")
        tables.append(read_path(path, limits, vector_column=args.vector_column, npy_path=npy))
    options = IngestOptions(
        name=args.name,
        text_column=args.text_column,
        label_columns=args.label_column,
        metadata_columns=args.keep_columns,
        vector_model=args.vector_model,
    )
    corpus, prepared = ingest(_store(args), tables, options, limits)
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
    if prepared.vector_model:
        result["imported_model"] = prepared.vector_model
    return result


@command("embed")
def _embed(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.vectors.embedding import embed_corpus

    result = embed_corpus(_store(args), args.name, args.model, StderrProgress("embedding"))
    return {
        "corpus": result.corpus,
        "model": result.model,
        "model_key": result.model_key,
        "rows": result.rows,
        "dim": result.dim,
        "seconds": result.seconds,
        "cached": result.cached,
        "encoded": result.encoded,
    }


@command("corpora")
def _corpora(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.corpus.corpora import list_corpora
    from analysis.vectors.catalogue import corpus_models

    store = _store(args)
    return {
        "corpora": [
            {
                "name": corpus.name,
                "rows": corpus.n_rows,
                "text_column": corpus.text_column,
                "label_columns": corpus.label_columns,
                "created_at": corpus.created_at,
                "models": [m.name for m in corpus_models(store, corpus)],
            }
            for corpus in list_corpora(store)
        ]
    }


@command("vectors")
def _vectors(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.vectors.export import export_vectors

    return export_vectors(_store(args), args.name, Path(args.out), args.model)


@command("delete")
def _delete(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.corpus.corpora import delete_corpus

    corpus = delete_corpus(_store(args), args.name)
    return {"deleted": corpus.name, "rows": corpus.n_rows}


@command("project")
def _project(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.map.projection import ProjectionParams, project
    from analysis.vectors.catalogue import load_model_vectors

    params = ProjectionParams(
        method=args.method,
        dims=args.dims,
        seed=args.seed,
        n_neighbors=args.n_neighbors,
        min_dist=args.min_dist,
        densmap=args.densmap,
        perplexity=args.perplexity,
    )
    if args.out:
        _check_out_path(Path(args.out), ".parquet")
    store = _store(args)
    corpus, record, vectors = load_model_vectors(store, args.name, args.model)
    result = project(store, corpus, record, params, StderrProgress("projection stage"), vectors)
    out: dict[str, Any] = {
        "corpus": corpus.name,
        "model": record.name,
        "n": result.n_points,
        "method": result.params.method,
        "params": result.params.as_dict(),
        "seconds": round(result.seconds, 3),
        "reused": result.reused,
        "trustworthiness": result.quality.get("trustworthiness"),
        "continuity": result.quality.get("continuity"),
        "knn_recall": result.quality.get("knn_recall"),
        "quality": result.quality,
    }
    if args.out:
        out["out"] = _write_coords(result, Path(args.out))
    return out


def _check_out_path(path: Path, suffix: str) -> None:
    """Refuse a bad output path before any work is done or stored."""
    if path.suffix.lower() != suffix:
        raise UserError(f"--out {path}: this command writes a {suffix} file.")
    if not path.parent.exists():
        raise UserError(f"--out {path}: the folder {path.parent} does not exist.")


def _write_coords(result: Projection, path: Path) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {"doc_id": pa.array(range(result.n_points), pa.int32())}
    for axis, name in enumerate("xyz"[: result.params.dims]):
        columns[name] = pa.array(result.coords[:, axis])
    metadata = {b"params": result.params.key().encode(), b"model": result.model_key.encode()}
    pq.write_table(pa.table(columns).replace_schema_metadata(metadata), path)
    return str(path)


@command("search")
def _search(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.corpus.corpora import load_documents
    from analysis.vectors.catalogue import load_model_vectors
    from analysis.vectors.search import semantic_search

    store = _store(args)
    corpus, record, vectors = load_model_vectors(store, args.name, args.model)
    hits = semantic_search(store, corpus, record, args.query, args.k, vectors)
    documents = load_documents(store, corpus).set_index("doc_id")
    keep = ["text", *corpus.metadata_names]
    results = []
    for hit in hits:
        row = documents.loc[hit.doc_id, keep]
        fields = {
            (f"metadata.{key}" if key in ("doc_id", "score") else key): value
            for key, value in _plain(row.to_dict()).items()
        }
        results.append({"doc_id": hit.doc_id, "score": round(hit.score, 6), **fields})
    return {"corpus": corpus.name, "model": record.name, "query": args.query, "results": results}


@command("cluster")
def _cluster(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.map.cluster_runs import ClusterRequest, run_clustering
    from analysis.vectors.catalogue import load_model_vectors

    store = _store(args)
    corpus, record, vectors = load_model_vectors(store, args.name, args.model)
    request = ClusterRequest(
        method=args.method,
        k=args.k,
        min_cluster_size=args.min_cluster_size,
        pca_dims=None if args.pca_dims == 0 else args.pca_dims,
        seed=args.seed,
    )
    stored = run_clustering(store, corpus, record, request, vectors)
    return {
        "corpus": corpus.name,
        "model": record.name,
        "seconds": round(stored.seconds, 3),
        "reused": stored.reused,
        **stored.clustering.as_dict(),
    }


@command("report")
def _report(args: argparse.Namespace) -> dict[str, Any]:
    import time

    from analysis.report.standard import write_report

    start = time.perf_counter()
    files = write_report(
        _store(args),
        args.name,
        Path(args.out),
        args.analyses,
        args.formats,
        args.model,
        StderrProgress("projection stage"),
    )
    return {
        "corpus": args.name,
        "files": [str(path) for path in files],
        "seconds": round(time.perf_counter() - start, 3),
    }


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """numpy / pandas scalars and missing values as JSON-friendly Python values."""
    out = {}
    for key, value in values.items():
        if hasattr(value, "item"):
            value = value.item()
        out[key] = None if value is None or value != value else value
    return out


def _parser() -> argparse.ArgumentParser:
    db_help = "DuckDB store (default: $EMBEDLENS_DB or data/embedlens.duckdb)"
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=db_help)
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="EmbedLens engine: ingest, embed and analyse corpora; prints JSON on stdout.",
    )
    parser.add_argument("--db", default=None, help=db_help)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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

    p = sub.add_parser("embed", parents=[common], help="embed a corpus with a model")
    p.add_argument("name", help="corpus name")
    p.add_argument(
        "--model",
        default="default",
        help="default (bundled all-MiniLM-L6-v2), lsa, random, or a local model folder / hub id",
    )

    sub.add_parser("corpora", parents=[common], help="list corpora and their models")

    p = sub.add_parser("vectors", parents=[common], help="export a corpus's vectors")
    p.add_argument("name", help="corpus name")
    p.add_argument("--out", required=True, help="FILE.parquet or FILE.npy")
    p.add_argument("--model", help="model name or key (default: the first embedded)")

    p = sub.add_parser("project", parents=[common], help="2-D/3-D map of a corpus")
    p.add_argument("name", help="corpus name")
    p.add_argument("--model", help="model name or key (default: the first embedded)")
    p.add_argument("--method", choices=["umap", "pca", "tsne"], default="umap")
    p.add_argument("--dims", type=int, choices=[2, 3], default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-neighbors", type=int, default=15, help="UMAP neighbours")
    p.add_argument("--min-dist", type=float, default=0.1, help="UMAP minimum distance")
    p.add_argument("--densmap", action="store_true", help="UMAP with densMAP")
    p.add_argument("--perplexity", type=float, default=30.0, help="t-SNE perplexity")
    p.add_argument("--out", help="write doc_id and coordinates to this .parquet file")

    p = sub.add_parser("search", parents=[common], help="semantic search in a corpus")
    p.add_argument("name", help="corpus name")
    p.add_argument("query", help="text to search for")
    p.add_argument("--k", type=int, default=10, help="number of results")
    p.add_argument("--model", help="model name or key (default: the first embedded)")

    p = sub.add_parser("cluster", parents=[common], help="cluster a corpus, keyword labels")
    p.add_argument("name", help="corpus name")
    p.add_argument("--model", help="model name or key (default: the first embedded)")
    p.add_argument("--method", choices=["hdbscan", "kmeans"], default="hdbscan")
    p.add_argument("--k", type=int, help="number of clusters (k-means)")
    p.add_argument("--min-cluster-size", type=int, help="HDBSCAN minimum cluster size")
    p.add_argument("--pca-dims", type=int, default=50, help="reduce with PCA first (0 = no)")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("report", parents=[common], help="export a corpus's standard figures")
    p.add_argument("name", help="corpus name")
    p.add_argument(
        "--analyses",
        nargs="+",
        choices=["map", "corpus", "length", "probe"],
        default=["map", "corpus"],
    )
    p.add_argument("--out", required=True, help="folder for the files (created if missing)")
    p.add_argument(
        "--formats",
        nargs="+",
        choices=["png", "svg", "pdf", "html"],
        default=["png", "svg", "html"],
        help="figure formats; report.html and index.md are always written",
    )
    p.add_argument("--model", help="model name or key for the map (default: the first embedded)")

    p = sub.add_parser("delete", parents=[common], help="delete a corpus")
    p.add_argument("name", help="corpus name")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        handler = getattr(args, "handler", None) or _COMMANDS[args.command]
        result = handler(args)
    except UserError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written by the unfinished step", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line, keep the traceback behind a switch
        if os.environ.get("EMBEDLENS_DEBUG"):
            traceback.print_exc()
        print(
            f"internal error: {type(exc).__name__}: {exc} (set EMBEDLENS_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 1
    print(json.dumps(result, default=str))
    return 0
