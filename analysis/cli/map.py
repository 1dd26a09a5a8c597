"""Map commands: ``project`` (2-D/3-D coordinates), ``search``, ``index`` and ``cluster``.

Engine modules (UMAP, pyarrow, the encoder) are imported inside the handlers so building the
parser stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.cli.common import StderrProgress, open_args_store
from analysis.core.errors import UserError
from analysis.map.cluster_defaults import HDBSCAN_RULE, hdbscan_settings

if TYPE_CHECKING:
    from analysis.map.projection import Projection


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
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
    p.add_argument(
        "--fit-sample",
        type=_fit_sample,
        default="auto",
        metavar="N|all|auto",
        help="UMAP: fit on N seeded documents and place the rest with transform; 'all' fits on "
        "every document; 'auto' (default): all up to 200,000 documents, else 50,000",
    )
    p.add_argument("--out", help="write doc_id and coordinates to this .parquet file")
    p.set_defaults(handler=_project)

    p = sub.add_parser("search", parents=[common], help="semantic search in a corpus")
    p.add_argument("name", help="corpus name")
    p.add_argument("query", help="text to search for")
    p.add_argument("--k", type=int, default=10, help="number of results")
    p.add_argument("--model", help="model name or key (default: the first embedded)")
    p.add_argument(
        "--method",
        choices=["auto", "exact", "index"],
        default="auto",
        help="auto: exact up to a size, the search index above it when one is built; "
        "exact: always scan every vector; index: the search index (build it with 'index')",
    )
    p.set_defaults(handler=_search)

    p = sub.add_parser("index", parents=[common], help="build a corpus's search index (IVF)")
    p.add_argument("name", help="corpus name")
    p.add_argument("--model", help="model name or key (default: the first embedded)")
    p.add_argument(
        "--lists", type=int, help="k-means lists the vectors are filed under (default 2 sqrt(n))"
    )
    p.set_defaults(handler=_index)

    p = sub.add_parser("cluster", parents=[common], help="cluster a corpus, keyword labels")
    p.add_argument("name", help="corpus name")
    p.add_argument("--model", help="model name or key (default: the first embedded)")
    p.add_argument("--method", choices=["hdbscan", "kmeans"], default="hdbscan")
    p.add_argument("--k", type=int, help="number of clusters (k-means)")
    p.add_argument(
        "--min-cluster-size",
        type=int,
        help="HDBSCAN: fewest documents a cluster may have (default: see --min-samples)",
    )
    p.add_argument(
        "--min-samples",
        type=int,
        help="HDBSCAN: how dense a document's neighbourhood must be to start a cluster; lower "
        f"leaves fewer documents as noise (default: {HDBSCAN_RULE})",
    )
    p.add_argument("--pca-dims", type=int, default=50, help="reduce with PCA first (0 = no)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=_cluster)


def _fit_sample(text: str) -> int | str | None:
    """--fit-sample: a whole number of documents, 'all' (None: every document) or 'auto'."""
    if text in ("all", "auto"):
        return None if text == "all" else text
    try:
        return int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of documents, 'all' or 'auto', got '{text}'"
        ) from None


def _project(args: argparse.Namespace) -> dict[str, Any]:
    """Computes the map asked for, through the same plan as the Map page (no preview here)."""
    from analysis.map.plan import plan_map
    from analysis.map.projection import ProjectionParams
    from analysis.vectors.catalogue import load_model_vectors

    params = ProjectionParams(
        method=args.method,
        dims=args.dims,
        seed=args.seed,
        n_neighbors=args.n_neighbors,
        min_dist=args.min_dist,
        densmap=args.densmap,
        perplexity=args.perplexity,
        fit_sample=args.fit_sample,
    )
    if args.out:
        _check_out_path(Path(args.out), ".parquet")
    store = open_args_store(args)
    corpus, record, vectors = load_model_vectors(store, args.name, args.model)
    plan = plan_map(store, corpus, record, params, background=False, vectors=vectors)
    result = plan.show(StderrProgress("map"))
    out: dict[str, Any] = {
        "corpus": corpus.name,
        "model": record.name,
        "n": result.n_points,
        "method": result.params.method,
        "params": result.params.as_dict(),
        "fitted": result.params.fit_note(result.n_points) or "on every document",
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

    from analysis.core.results import params_key

    columns = {"doc_id": pa.array(range(result.n_points), pa.int32())}
    for axis, name in enumerate("xyz"[: result.params.dims]):
        columns[name] = pa.array(result.coords[:, axis])
    params = params_key(result.params.as_dict())
    metadata = {b"params": params.encode(), b"model": result.model_key.encode()}
    pq.write_table(pa.table(columns).replace_schema_metadata(metadata), path)
    return str(path)


def _search(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.corpus.corpora import get_corpus, load_documents
    from analysis.vectors.catalogue import resolve_corpus_model
    from analysis.vectors.search import EXACT_SEARCH_MAX, search_method, semantic_search

    store = open_args_store(args)
    corpus = get_corpus(store, args.name)
    record = resolve_corpus_model(store, corpus, args.model)
    exact_below = {"auto": EXACT_SEARCH_MAX, "exact": corpus.n_rows, "index": 0}[args.method]
    method = search_method(store, corpus, record, exact_below=exact_below)
    if args.method == "index" and not method.approximate:
        raise UserError(
            method.notice
            or f"Corpus '{corpus.name}' has no search index for '{record.name}'; build it with "
            f"python -m analysis index '{corpus.name}'."
        )
    hits = semantic_search(store, corpus, record, args.query, args.k, method=method)
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
    return {
        "corpus": corpus.name,
        "model": record.name,
        "query": args.query,
        "method": method.describe(),
        "approximate": method.approximate,
        "results": results,
    }


def _index(args: argparse.Namespace) -> dict[str, Any]:
    """Builds (or rebuilds) the index, with its recall against exact search measured."""
    from dataclasses import asdict

    from analysis.corpus.corpora import get_corpus
    from analysis.vectors.ann_build import IvfParams
    from analysis.vectors.catalogue import resolve_corpus_model
    from analysis.vectors.search import EXACT_SEARCH_MAX, build_search_index

    ivf = IvfParams(args.lists)  # checked before the store is opened
    store = open_args_store(args)
    corpus = get_corpus(store, args.name)
    record = resolve_corpus_model(store, corpus, args.model)
    method = build_search_index(store, corpus, record, StderrProgress("search index"), ivf)
    info = asdict(method.info)
    del info["key"]
    return {
        "corpus": corpus.name,
        "model": record.name,
        "n": corpus.n_rows,
        "method": method.describe(),
        "used_by_search": corpus.n_rows > EXACT_SEARCH_MAX,
        "exact_search_max": EXACT_SEARCH_MAX,
        **info,
    }


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """numpy / pandas scalars and missing values as JSON-friendly Python values."""
    out = {}
    for key, value in values.items():
        if hasattr(value, "item"):
            value = value.item()
        out[key] = None if value is None or value != value else value
    return out


def _cluster(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.map.cluster_analysis import ClusteringAnalysis
    from analysis.map.cluster_runs import ClusterRequest
    from analysis.vectors.catalogue import load_model_vectors

    fields = {
        "method": args.method,
        "k": args.k,
        "min_cluster_size": args.min_cluster_size,
        "min_samples": args.min_samples,
        "pca_dims": None if args.pca_dims == 0 else args.pca_dims,
        "seed": args.seed,
    }
    ClusterRequest(**fields)  # refuses bad choices before the store is opened
    store = open_args_store(args)
    corpus, record, vectors = load_model_vectors(store, args.name, args.model)
    request = ClusterRequest(**_with_suggested(fields, corpus.n_rows))
    analysis = ClusteringAnalysis(store, corpus, record, request, vectors=vectors)
    stored = analysis.run()
    return {
        "corpus": corpus.name,
        "model": record.name,
        "seconds": round(stored.seconds, 3),
        "reused": stored.reused,
        **stored.clustering.as_dict(),
        "reading": analysis.reading(stored),
        "notices": analysis.notices(stored),
    }


def _with_suggested(fields: dict[str, Any], n: int) -> dict[str, Any]:
    """HDBSCAN settings left out take the suggestion for n documents, as the Map page shows it,
    so the page and the command line find each other's stored clustering."""
    if fields["method"] != "hdbscan":
        return fields
    size, samples = hdbscan_settings(n, fields["min_cluster_size"], fields["min_samples"])
    return {**fields, "min_cluster_size": size, "min_samples": samples}
