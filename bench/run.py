"""EmbedLens benchmarks: our code paths against the plain library calls they wrap.

Run from the project root::

    .venv/bin/python bench/run.py            # full run (several minutes)
    .venv/bin/python bench/run.py --quick    # smaller sizes, a smoke run (about a minute)
    .venv/bin/python bench/run.py --json out.json
    .venv/bin/python bench/run.py --group map  # only rows 6-9 (UMAP, kNN reuse, Map page, search)

Why compare against the plain call: EmbedLens adds a store, a content-addressed cache and Arrow
plumbing around sentence-transformers, DuckDB, numpy, umap-learn and plotly. The ratio column
says what that costs (or saves); a ratio above 1 means ours is faster. Every DuckDB file lives in
a temporary directory, never in data/embedlens.duckdb. See bench/README.md for what each row
measures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

# Offline before any Hugging Face import; the bundled model needs no network.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/run.py` puts bench/, not the root, on sys.path
    sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402

from analysis.core.arrow_vectors import arrow_to_matrix, query_arrow  # noqa: E402
from analysis.core.config import Limits  # noqa: E402
from analysis.core.store import Store, cache_table  # noqa: E402
from analysis.corpus.corpora import (  # noqa: E402
    Corpus,
    IngestOptions,
    get_corpus,
    load_documents,
)
from analysis.corpus.readers import ParsedTable, read_path  # noqa: E402
from analysis.map.projection import (  # noqa: E402
    Projection,
    ProjectionParams,
    find_projection,
    project,
    warm_up,
)
from analysis.models.encoders import SentenceTransformerEncoder, load_encoder  # noqa: E402
from analysis.vectors.cache import Representation, write_cache  # noqa: E402
from analysis.vectors.catalogue import CorpusModel, corpus_models, load_model_vectors, load_vectors  # noqa: E402
from analysis.vectors.embedding import embed_corpus  # noqa: E402
from analysis.vectors.ingest import ingest  # noqa: E402
from analysis.vectors.search import top_k_cosine  # noqa: E402
from bench.estimates import Row, format_rows, run_estimates  # noqa: E402
from bench.tables_bench import bench_tables  # noqa: E402

DEMO_CSV = ROOT / "data" / "demo" / "stdlib_docs.csv"
DEMO_SMALL_CSV = ROOT / "data" / "demo" / "stdlib_docs_small.csv"
BENCH_KEY = "bench:random-unit-vectors"  # model key of the synthetic vectors in benchmark 3
DIM = 384


@dataclass
class Result:
    """One row of the table; ``passed`` is None for rows that only report (no target)."""

    benchmark: str
    size: str
    ours_s: float | None
    plain_s: float | None
    ratio: float | None
    target: str
    passed: bool | None
    notes: str = ""


@dataclass(frozen=True)
class Sizes:
    """Problem sizes; --quick shrinks them so a smoke run takes about a minute."""

    embed_csv: Path
    vectors: int
    queries: int
    cli_rows: int | None  # None = skip the CLI benchmark
    umap_points: int  # rows 6-7; above EXACT_LIMIT, so the kNN graph comes from NN-descent
    umap_repetitions: int
    map_points: int  # row 8
    map_reruns: int


FULL = Sizes(
    embed_csv=DEMO_CSV,
    vectors=100_000,
    queries=50,
    cli_rows=15_000,
    umap_points=20_000,
    umap_repetitions=3,
    map_points=50_000,
    map_reruns=7,
)
QUICK = Sizes(
    embed_csv=DEMO_SMALL_CSV,
    vectors=20_000,
    queries=20,
    cli_rows=None,
    umap_points=12_000,
    umap_repetitions=1,
    map_points=15_000,
    map_reruns=3,
)
GROUPS = ("core", "map", "tables", "estimates", "all")


# --- helpers ----------------------------------------------------------------------------------


def log(message: str) -> None:
    """Progress on stderr, so the table on stdout stays clean."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def timed_cpu(fn: Callable[[], object]) -> tuple[float, float, object]:
    """Wall seconds, CPU seconds (this process, all threads) and the value of ``fn()``."""
    start_cpu = time.process_time()
    seconds, value = timed(fn)
    return seconds, time.process_time() - start_cpu, value


def best_time(fn: Callable[[], object], repetitions: int = 3) -> float:
    return min(timed(fn)[0] for _ in range(repetitions))


def alternating(
    first: Callable[[int], object],
    second: Callable[[int], object],
    repetitions: int,
    after: Callable[[int], object] | None = None,
) -> None:
    """Call ``first(rep)`` then ``second(rep)`` on even runs, the other way round on odd runs."""
    for rep in range(repetitions):
        for fn in (first, second) if rep % 2 == 0 else (second, first):
            fn(rep)
        if after is not None:
            after(rep)


def alternate_times(
    ours: Callable[[int], object],
    plain: Callable[[int], object],
    repetitions: int,
    after: Callable[[int], object] | None = None,
) -> tuple[list[float], list[float]]:
    """Time ``ours(rep)`` and ``plain(rep)`` in alternating order (ours first on even runs)."""
    ours_times: list[float] = []
    plain_times: list[float] = []
    alternating(
        lambda rep: ours_times.append(timed(lambda: ours(rep))[0]),
        lambda rep: plain_times.append(timed(lambda: plain(rep))[0]),
        repetitions,
        after,
    )
    return ours_times, plain_times


def compared(
    benchmark: str, size: str, ours: float, plain: float, target: str, passed: bool, notes: str
) -> Result:
    """A row with both sides measured; ratio = plain / ours."""
    return Result(benchmark, size, ours, plain, plain / ours, target, passed, notes)


def report_only(benchmark: str, size: str, seconds: float, notes: str) -> Result:
    return Result(benchmark, size, seconds, None, None, "report only", None, notes)


def _fresh_path(workdir: Path, name: str) -> Path:
    path = workdir / f"{name}.duckdb"
    if path.exists():
        path.unlink()
    return path


def fresh_store(workdir: Path, name: str) -> Store:
    """A new, empty store in its own DuckDB file (never the user's data/embedlens.duckdb)."""
    return Store(_fresh_path(workdir, name))


def fresh_duckdb(workdir: Path, name: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(_fresh_path(workdir, name)))


def ingested_store(workdir: Path, name: str, table: ParsedTable, corpus: str) -> Store:
    """A fresh store holding ``table`` ingested as corpus ``corpus``."""
    store = fresh_store(workdir, name)
    ingest(store, [table], IngestOptions(name=corpus))
    return store


def blob_store(
    workdir: Path, name: str, corpus: str, vectors: np.ndarray, labels: np.ndarray
) -> tuple[Store, Corpus, CorpusModel]:
    """A fresh store holding ``vectors`` as an imported-vectors corpus, and its one model."""
    store = fresh_store(workdir, name)
    stored = blob_corpus(store, corpus, vectors, labels)
    return store, stored, corpus_models(store, stored)[0]


def unit_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((n, dim), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix


def fake_hashes(n: int) -> list[str]:
    """sha256 hex strings like the cache's keys (of 'bench-0', 'bench-1', ...)."""
    return [hashlib.sha256(f"bench-{i}".encode()).hexdigest() for i in range(n)]


def plain_arrow_to_numpy(table: pa.Table, column: str, dim: int) -> np.ndarray:
    """What a user would write by hand: flatten the list column and reshape."""
    flat = table.column(column).combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return flat.reshape(-1, dim)


# --- 1 + 2: embedding through the store --------------------------------------------------------


@dataclass
class EmbedContext:
    """What benchmark 2 reuses from benchmark 1: a store whose corpus was just embedded."""

    store: Store
    corpus: str
    first_seconds: float
    n_texts: int


def bench_embed_throughput(
    workdir: Path, csv_path: Path, encoder: SentenceTransformerEncoder, repetitions: int = 2
) -> tuple[Result, EmbedContext]:
    """embed_corpus on an uncached corpus vs SentenceTransformer.encode on the same texts.

    Why alternate and take the best: on a shared 2-core machine a background burst can slow
    whichever side happens to be running; best-of over alternating runs compares both sides at
    their least disturbed. The model is loaded and warmed up beforehand, so neither side pays
    for loading; each of our runs gets a fresh store, so nothing is cached.
    """
    table = read_path(csv_path, Limits())
    model = encoder.model

    log("warming up both sides")
    warm = ParsedTable(frame=table.frame.head(16).copy(), source="warmup.csv", notices=[])
    warm_store = ingested_store(workdir, "embed_warmup", warm, "warmup")
    embed_corpus(warm_store, "warmup")
    warm_store.close()

    probe = ingested_store(workdir, "embed_probe", table, "bench")
    docs = load_documents(probe, get_corpus(probe, "bench"), with_metadata=False)
    probe.close()
    texts = docs.drop_duplicates("text_sha256")["text"].tolist()  # what embed_corpus encodes
    model.encode(texts[:16], batch_size=32, normalize_embeddings=True)
    max_len = int(model.max_seq_length)
    model_tokens = int(np.minimum(docs["n_tokens"].to_numpy() + 2, max_len).sum())

    plain_times: list[float] = []
    ours_times: list[float] = []
    plain_vectors: np.ndarray | None = None
    last: EmbedContext | None = None

    def run_plain(_rep: int) -> None:
        nonlocal plain_vectors
        log(f"plain SentenceTransformer.encode on {len(texts):,} texts")
        seconds, vectors = timed(
            lambda: model.encode(texts, batch_size=32, normalize_embeddings=True)
        )
        plain_times.append(seconds)
        plain_vectors = np.asarray(vectors)

    def run_ours(rep: int) -> None:
        nonlocal last
        if last is not None:
            last.store.close()
        store = ingested_store(workdir, f"embed_{rep}", table, "bench")  # not timed
        log(f"embed_corpus on {len(texts):,} uncached texts (fresh store {rep})")
        seconds, result = timed(lambda: embed_corpus(store, "bench"))
        assert result.encoded == len(texts) and result.cached == 0, result  # type: ignore[attr-defined]
        ours_times.append(seconds)
        last = EmbedContext(store, "bench", seconds, len(texts))

    alternating(run_plain, run_ours, repetitions)  # plain, ours, ours, plain, ...

    assert last is not None and plain_vectors is not None
    _, _, ours_vectors = load_model_vectors(last.store, "bench")
    # texts are unique here, so doc order == the plain call's input order
    max_diff = float(np.abs(ours_vectors - plain_vectors).max())

    ours, plain = min(ours_times), min(plain_times)
    ratio = plain / ours
    notes = (
        f"ours {len(texts) / ours:,.0f} texts/s, {model_tokens / ours:,.0f} tokens/s; "
        f"plain {len(texts) / plain:,.0f} texts/s, {model_tokens / plain:,.0f} tokens/s "
        f"(tokens = word pieces incl. [CLS]/[SEP], truncated at {max_len}); "
        f"runs ours {_fmt_list(ours_times)}, plain {_fmt_list(plain_times)}; "
        f"max |ours - plain| = {max_diff:.1e}"
    )
    result = compared(
        "1 embed throughput (uncached)",
        f"{len(texts):,} texts / {model_tokens:,} tok",
        ours,
        plain,
        "ratio >= 0.95",
        ratio >= 0.95,
        notes,
    )
    return result, last


def bench_cached_reembed(ctx: EmbedContext, repetitions: int = 3) -> Result:
    """A second embed_corpus call on the same store: every vector comes from the cache.

    Why it matters: re-opening or re-embedding a corpus must feel instant; the cached path reads
    the documents, checks hashes against the cache and records the embedding, without even
    loading the model. The baseline is our own first (uncached) call on that very store.
    """
    times = []
    for _ in range(repetitions):
        seconds, result = timed(lambda: embed_corpus(ctx.store, ctx.corpus))
        assert result.encoded == 0 and result.cached == ctx.n_texts, result  # type: ignore[attr-defined]
        times.append(seconds)
    second = statistics.median(times)
    ratio = ctx.first_seconds / second
    ctx.store.close()
    return compared(
        "2 re-embed, all cached",
        f"{ctx.n_texts:,} texts",
        second,
        ctx.first_seconds,
        "first/second >= 50x",
        ratio >= 50,
        "plain column = our own first, uncached embed_corpus call on the same store; "
        f"ours = median of {repetitions} cached calls {_fmt_list(times)}",
    )


# --- 3: DuckDB vectors through Arrow -------------------------------------------------------------


@dataclass
class VectorStores:
    """The stores benchmark 3's reads use: ours (written by write_cache) and the plain file."""

    store: Store
    plain: duckdb.DuckDBPyConnection
    hashes: list[str]
    vectors: np.ndarray


PLAIN_DDL = f"""
    CREATE TABLE vectors (
        model_key VARCHAR NOT NULL, layer INTEGER NOT NULL, pooling VARCHAR NOT NULL,
        max_length INTEGER NOT NULL, temperature DOUBLE NOT NULL,
        text_sha256 VARCHAR NOT NULL, vector FLOAT[{DIM}] NOT NULL
    )
"""


def bench_duckdb_write(workdir: Path, n: int, repetitions: int = 2) -> tuple[Result, VectorStores]:
    """write_cache of n x 384 float32 vectors in one transaction vs a raw DuckDB Arrow insert.

    Why: embedding a large corpus ends with one cache write; row-by-row it would take minutes.
    Ours includes building the Arrow batch from numpy and the NOT EXISTS check that keeps the
    cache free of duplicates; the plain side inserts a prebuilt Arrow table of the same data into
    a table of the same schema. Each run writes into a fresh DuckDB file (commit included).
    """
    vectors = unit_vectors(n, DIM, seed=1)
    hashes = fake_hashes(n)
    arrow = pa.table(
        {
            "text_sha256": pa.array(hashes, pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), DIM),
        }
    )
    rep_ = Representation()
    ours_times: list[float] = []
    plain_times: list[float] = []
    store: Store | None = None
    plain: duckdb.DuckDBPyConnection | None = None

    def run_ours(rep: int) -> None:
        nonlocal store
        if store is not None:
            store.close()
        store = fresh_store(workdir, f"write_ours_{rep}")

        def write() -> None:
            with store.transaction() as cur:
                write_cache(cur, store, BENCH_KEY, rep_, hashes, vectors)

        log(f"write_cache of {n:,} vectors (run {rep})")
        ours_times.append(timed(write)[0])

    def run_plain(rep: int) -> None:
        nonlocal plain
        if plain is not None:
            plain.close()
        plain = fresh_duckdb(workdir, f"write_plain_{rep}")
        plain.execute(PLAIN_DDL)

        def insert() -> None:
            plain.execute("BEGIN TRANSACTION")
            plain.register("incoming", arrow)
            plain.execute(
                "INSERT INTO vectors SELECT ?, -1, 'model', 0, 1.0, text_sha256, vector "
                "FROM incoming",
                [BENCH_KEY],
            )
            plain.unregister("incoming")
            plain.execute("COMMIT")

        log(f"plain DuckDB insert of {n:,} vectors (run {rep})")
        plain_times.append(timed(insert)[0])

    alternating(run_plain, run_ours, repetitions)

    assert store is not None and plain is not None
    ours, best_plain = min(ours_times), min(plain_times)
    result = compared(
        "3a DuckDB write via Arrow",
        f"{n:,} x {DIM} f32",
        ours,
        best_plain,
        "ours <= 3 s",
        ours <= 3.0,
        f"write_cache in store.transaction(), {_best_of(ours_times)}; plain = INSERT ... "
        f"SELECT FROM a registered Arrow table {_fmt_list(plain_times)}",
    )
    return result, VectorStores(store, plain, hashes, vectors)


def bench_duckdb_read(stores: VectorStores, repetitions: int = 3) -> Result:
    """Read every cached vector back as a numpy matrix: query_arrow + arrow_to_matrix.

    Why: every analysis starts by loading a corpus's vectors; this is the raw cost of moving
    them from DuckDB into numpy, without the join to the documents (that is row 3c).
    """
    table = cache_table(DIM)
    rep = Representation()
    sql = (
        f"SELECT text_sha256, vector FROM {table} WHERE model_key = ? AND layer = ? "
        "AND pooling = ? AND max_length = ? AND temperature = ?"
    )

    def ours() -> np.ndarray:
        with stores.store.connection() as cur:
            result = query_arrow(cur, sql, [BENCH_KEY, *rep.params()])
        return arrow_to_matrix(result.column("vector"), DIM)

    def plain() -> np.ndarray:
        result = stores.plain.sql("SELECT text_sha256, vector FROM vectors").to_arrow_table()
        return plain_arrow_to_numpy(result, "vector", DIM)

    ours_times, plain_times = _alternate(ours, plain, repetitions)
    got = ours()
    assert got.shape == stores.vectors.shape
    # DuckDB returns rows in insertion order for a plain scan, but do not rely on it
    assert np.allclose(np.sort(got[:, 0]), np.sort(stores.vectors[:, 0]))
    n = len(stores.hashes)
    return _read_row(
        "3b DuckDB read (cache table)",
        f"{n:,} x {DIM} f32",
        ours_times,
        plain_times,
        f"query_arrow + arrow_to_matrix, {_best_of(ours_times)}; "
        f"plain = sql(SELECT).to_arrow_table() + flatten/reshape {_fmt_list(plain_times)}",
    )


def _read_row(
    benchmark: str, size: str, ours_times: list[float], plain_times: list[float], notes: str
) -> Result:
    """Rows 3b and 3c: best of each side, target ours <= 0.5 s."""
    best_ours, best_plain = min(ours_times), min(plain_times)
    return compared(
        benchmark, size, best_ours, best_plain, "ours <= 0.5 s", best_ours <= 0.5, notes
    )


def bench_load_vectors(stores: VectorStores, repetitions: int = 3) -> Result:
    """The real load_vectors path on an n-document corpus whose texts map to the cached hashes.

    Why: this is what every page and CLI analysis calls. The corpus and its documents are
    inserted directly through Arrow (texts are placeholders; only the hashes matter), in a
    shuffled order so the join has real work to do. Plain = the same join written by hand
    without our de-duplicating GROUP BY, on the same connection.
    """
    store, n = stores.store, len(stores.hashes)
    perm = np.random.default_rng(2).permutation(n)
    with store.transaction() as cur:
        corpus_id = cur.execute(
            "INSERT INTO corpora (name, sources, text_column, label_columns, metadata_columns, "
            "n_rows, dropped_empty, duplicates, notices) "
            "VALUES ('bench_vectors', '[]', 'text', '[]', '[]', ?, 0, 0, '[]') "
            "RETURNING corpus_id",
            [n],
        ).fetchone()[0]
        docs = pa.table(
            {
                "doc_id": pa.array(np.arange(n, dtype=np.int32)),
                "text": pa.array([f"document {i}" for i in range(n)]),
                "text_sha256": pa.array([stores.hashes[i] for i in perm]),
                "n_chars": pa.array(np.full(n, 12, np.int32)),
                "n_tokens": pa.array(np.full(n, 3, np.int32)),
                "source": pa.array(["bench"] * n),
                "source_row": pa.array(np.arange(1, n + 1, dtype=np.int32)),
            }
        )
        cur.register("incoming_docs", docs)
        cur.execute(
            "INSERT INTO documents SELECT ?, doc_id, text, text_sha256, n_chars, n_tokens, "
            "source, source_row FROM incoming_docs",
            [corpus_id],
        )
        cur.unregister("incoming_docs")
    corpus = get_corpus(store, "bench_vectors")
    # DuckDB 2.0: get_corpus leaves its fetchone() result open on this thread's cursor, and the
    # cur.sql() inside query_arrow then refuses to run. Record whether that happens, then clear it.
    bug = ""
    try:
        load_vectors(store, corpus, BENCH_KEY, DIM)
    except duckdb.Error as exc:
        bug = f"; NOTE load_vectors right after get_corpus raised {type(exc).__name__}"
        store.fetch_all("SELECT 1")
    table = cache_table(DIM)

    def ours() -> np.ndarray:
        return load_vectors(store, corpus, BENCH_KEY, DIM)

    def plain() -> np.ndarray:
        with store.connection() as cur:
            result = cur.sql(
                f"SELECT c.vector FROM documents d JOIN {table} c USING (text_sha256) "
                "WHERE d.corpus_id = ? AND c.model_key = ? ORDER BY d.doc_id",
                params=[corpus_id, BENCH_KEY],
            ).to_arrow_table()
        return plain_arrow_to_numpy(result, "vector", DIM)

    ours_times, plain_times = _alternate(ours, plain, repetitions)
    assert np.array_equal(ours(), stores.vectors[perm]), "load_vectors returned wrong rows"
    store.close()
    stores.plain.close()
    return _read_row(
        "3c load_vectors (corpus join)",
        f"{n:,} docs x {DIM}",
        ours_times,
        plain_times,
        f"load_vectors, {_best_of(ours_times)}; plain = hand-written "
        f"join ORDER BY doc_id, no GROUP BY {_fmt_list(plain_times)}{bug}",
    )


# --- 4: exact search ---------------------------------------------------------------------------


def bench_search(n: int, n_queries: int, k: int = 10) -> Result:
    """Exact top-10 cosine over n x 384 unit vectors: top_k_cosine vs argsort of X @ q.

    Why: search is interactive, so one query must stay well under a frame of patience. The plain
    call sorts all n scores; ours partitions first. Each query runs both sides back to back in
    alternating order; the medians are reported. The answers are checked to agree.
    """
    matrix = unit_vectors(n, DIM, seed=3)
    queries = np.random.default_rng(4).standard_normal((n_queries, DIM), dtype=np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    def ours(q: np.ndarray) -> np.ndarray:
        return top_k_cosine(matrix, q, k)[0]

    def plain(q: np.ndarray) -> np.ndarray:
        return np.argsort(-(matrix @ q))[:k]

    ours(queries[0]), plain(queries[0])  # warm-up (page in the matrix, BLAS threads)

    def check(i: int) -> None:
        q = queries[i]
        assert np.array_equal(ours(q), plain(q)), f"query {i}: top-{k} differs from argsort"

    ours_times, plain_times = alternate_times(
        lambda i: ours(queries[i]), lambda i: plain(queries[i]), n_queries, after=check
    )
    med_ours, med_plain = statistics.median(ours_times), statistics.median(plain_times)
    return compared(
        f"4 exact top-{k} cosine search",
        f"{n:,} x {DIM}, {n_queries} q",
        med_ours,
        med_plain,
        "median <= 150 ms",
        med_ours <= 0.150,
        f"median of {n_queries} queries; ours p90 "
        f"{np.percentile(ours_times, 90) * 1000:.1f} ms, plain p90 "
        f"{np.percentile(plain_times, 90) * 1000:.1f} ms; top-{k} identical on every query",
    )


# --- 5: the CLI on a 15k-row real corpus ---------------------------------------------------------

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[`])")


def stdlib_sentence_rows(target: int) -> tuple[pd.DataFrame, int]:
    """Up to ``target`` real texts: stdlib docstrings cut into paragraphs and their sentences.

    Each docstring (in build_demo_data's sorted order) yields its paragraphs, each followed by
    that paragraph's sentences when it has more than one; texts are de-duplicated (first wins)
    and kept only with >= 3 words. Returns the first ``target`` rows and how many there were.
    """
    from scripts.build_demo_data import full_stdlib_corpus

    corpus = full_stdlib_corpus()
    rows: list[dict[str, str]] = []
    seen: set[str] = set()

    def add(text: str, unit: str, source: pd.Series) -> None:
        if len(text.split()) >= 3 and text not in seen:
            seen.add(text)
            rows.append(
                {
                    "text": text,
                    "unit": unit,
                    "module": source["module"],
                    "kind": source["kind"],
                    "topic": source["topic"],
                    "qualname": source["qualname"],
                }
            )

    for _, doc in corpus.iterrows():
        for raw in re.split(r"\n\s*\n", doc["text"]):
            paragraph = " ".join(raw.split())
            if not paragraph:
                continue
            add(paragraph, "paragraph", doc)
            sentences = [s.strip() for s in _SENTENCE_SPLIT.split(paragraph) if s.strip()]
            if len(sentences) > 1:
                for sentence in sentences:
                    add(sentence, "sentence", doc)
    return pd.DataFrame(rows[:target]), len(rows)


def _run_cli(args: list[str]) -> tuple[float, dict[str, object]]:
    """Run ``python -m analysis ARGS`` from the project root; wall seconds and its JSON."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        command = " ".join(args)
        raise RuntimeError(
            f"`python -m analysis {command}` exited {proc.returncode}:\n{proc.stderr[-2000:]}"
        )
    return seconds, json.loads(proc.stdout)


def bench_cli_corpus(workdir: Path, rows: int) -> list[Result]:
    """Ingest + embed a real 15k-row corpus with the two CLI commands, as a user would.

    Why: end to end, including process start-up, imports, model loading, token counting, the
    store and the cache; wall-clock seconds of each subprocess. No plain counterpart and no
    target: it reports what a user will wait for.
    """
    log("building the sentence/paragraph corpus from full_stdlib_corpus()")
    frame, available = stdlib_sentence_rows(rows)
    shortfall = "" if available >= rows else f"; only {available:,} available, all used"
    csv_path = workdir / "stdlib_sentences.csv"
    frame.to_csv(csv_path, index=False)
    db = workdir / "cli.duckdb"
    name = "stdlib_sentences"

    log(f"CLI ingest of {len(frame):,} rows")
    ingest_s, ingested = _run_cli(["ingest", str(csv_path), "--name", name, "--db", str(db)])
    log("CLI embed (model load included)")
    embed_s, embedded = _run_cli(["embed", name, "--db", str(db)])
    n = int(embedded["rows"])  # type: ignore[arg-type]
    size = f"{n:,} rows"
    source = (
        f"from {available:,} de-duplicated paragraphs + sentences of stdlib docstrings "
        f"(>= 3 words), first {rows:,} kept{shortfall}"
    )
    return [
        report_only(
            "5a CLI ingest (real text)",
            size,
            ingest_s,
            f"{int(ingested['rows']) / ingest_s:,.0f} rows/s wall; {source}",  # type: ignore[arg-type]
        ),
        report_only(
            "5b CLI embed (real text)",
            size,
            embed_s,
            f"{n / embed_s:,.0f} texts/s wall (process start + model load included); "
            f"embed_corpus itself reported {embedded['seconds']} s = "
            f"{n / float(embedded['seconds']):,.0f} texts/s; encoded "  # type: ignore[arg-type]
            f"{embedded['encoded']:,}, cached {embedded['cached']:,}",
        ),
    ]


# --- 6-9: maps ---------------------------------------------------------------------------------

N_BLOBS = 30
UMAP_STAGES = ("find_projection", "corpus_knn", "_run_umap", "map_quality", "_save")


def blob_vectors(n: int, seed: int, dim: int = DIM) -> tuple[np.ndarray, np.ndarray]:
    """Seeded clustered unit vectors: N_BLOBS Gaussian blobs on the sphere, and each point's blob.

    Blob sizes are uneven (Dirichlet weights) and so are their spreads; the centres share a common
    direction, as sentence embeddings do. Measured on 20k points: mean pairwise cosine about
    0.12, nearest-neighbour cosine about 0.6. The blobs are well apart, so UMAP's graph has one
    component per blob and its spectral start runs per component (on both sides alike).
    """
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((N_BLOBS, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    common = rng.standard_normal(dim)
    centres += 0.5 * common / np.linalg.norm(common)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    sizes = rng.multinomial(n, rng.dirichlet(np.full(N_BLOBS, 2.0)))
    spreads = rng.uniform(0.03, 0.06, N_BLOBS)
    labels = np.repeat(np.arange(N_BLOBS), sizes)
    rng.shuffle(labels)
    matrix = centres[labels] + rng.standard_normal((n, dim)) * spreads[labels, None]
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix.astype(np.float32), labels


def blob_corpus(store: Store, name: str, vectors: np.ndarray, labels: np.ndarray) -> Corpus:
    """A stored corpus carrying ``vectors`` as imported vectors (the external-vectors path).

    Texts are real stdlib docstrings from the demo CSV, drawn with replacement and tagged with
    their row number so every text is unique; metadata: the blob as the label column 'topic',
    plus the docstring's module and kind. Vector row i is doc_id i.
    """
    demo = pd.read_csv(DEMO_CSV)
    rng = np.random.default_rng(len(labels))
    picks = rng.integers(0, len(demo), len(labels))
    frame = pd.DataFrame(
        {
            "text": [f"{demo['text'].iat[p]} [{i}]" for i, p in enumerate(picks)],
            "topic": [f"topic {label:02d}" for label in labels],
            "module": demo["module"].to_numpy()[picks],
            "kind": demo["kind"].to_numpy()[picks],
        }
    )
    table = ParsedTable(
        frame=frame,
        source=f"{name}.parquet",
        notices=[],
        vectors=vectors,
        vector_source="column 'embedding'",
    )
    options = IngestOptions(
        name=name, text_column="text", label_columns=["topic"], vector_model="synthetic-blobs"
    )
    corpus, _ = ingest(store, [table], options)
    return corpus


@contextmanager
def stage_times(
    module: object, names: tuple[str, ...]
) -> Iterator[tuple[dict[str, float], dict[str, float]]]:
    """Wall and CPU seconds spent in each named module-level function while the block runs.

    project() calls these through its module's globals, so wrapping them there times its stages
    without touching analysis/; the originals are restored on exit. CPU = this process, all
    threads (time.process_time).
    """
    spent = dict.fromkeys(names, 0.0)
    cpu = dict.fromkeys(names, 0.0)
    originals = {name: getattr(module, name) for name in names}

    def wrap(name: str, fn: Callable[..., object]) -> Callable[..., object]:
        def timed_stage(*args: object, **kwargs: object) -> object:
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start
                cpu[name] += time.process_time() - start_cpu

        return timed_stage

    for name, fn in originals.items():
        setattr(module, name, wrap(name, fn))
    try:
        yield spent, cpu
    finally:
        for name, fn in originals.items():
            setattr(module, name, fn)


def plain_umap(vectors: np.ndarray, **extra: object) -> np.ndarray:
    """The plain library call row 6 compares against (umap-learn's own seeded defaults)."""
    import umap

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*n_jobs value.*")
        reducer = umap.UMAP(n_neighbors=15, min_dist=0.1, metric="cosine", random_state=0, **extra)
        return reducer.fit_transform(vectors)


@dataclass
class ProjectRun:
    """One timed project() call: wall seconds, seconds per stage, and what it returned."""

    seconds: float
    cpu: float
    stages: dict[str, float]
    stages_cpu: dict[str, float]
    projection: Projection
    knn: tuple[str, float]  # method and compute seconds of the graph, as stored

    @property
    def without_quality(self) -> float:
        return self.seconds - self.stages["map_quality"]

    @property
    def cpu_without_quality(self) -> float:
        return self.cpu - self.stages_cpu["map_quality"]

    def breakdown(self) -> str:
        s = self.stages
        rest = self.seconds - sum(s.values())
        knn = (
            f"kNN graph loaded {s['corpus_knn']:.2f}"
            if self.projection.knn_reused
            else f"kNN {s['corpus_knn']:.2f} (of which {self.knn[0]} search {self.knn[1]:.2f})"
        )
        return (
            f"{knn}, layout {s['_run_umap']:.2f}, quality {s['map_quality']:.2f}, "
            f"save {s['_save']:.2f}, lookup + other {s['find_projection'] + rest:.2f} s wall; "
            f"CPU s: kNN {self.stages_cpu['corpus_knn']:.2f}, layout "
            f"{self.stages_cpu['_run_umap']:.2f}, quality {self.stages_cpu['map_quality']:.2f}"
        )


def _timed_project(
    store: Store, corpus: Corpus, record: CorpusModel, params: ProjectionParams, x: np.ndarray
) -> ProjectRun:
    import analysis.map.projection as projection_module

    with stage_times(projection_module, UMAP_STAGES) as (spent, spent_cpu):
        seconds, cpu, projection = timed_cpu(
            lambda: project(store, corpus, record, params, vectors=x)
        )
    assert isinstance(projection, Projection) and not projection.reused, projection
    row = (
        store.fetch_all("SELECT method, seconds FROM knn_graphs ORDER BY graph_id DESC LIMIT 1")
    )[0]
    return ProjectRun(
        seconds, cpu, dict(spent), dict(spent_cpu), projection, (row[0], float(row[1]))
    )


def _quality_text(q: dict[str, float]) -> str:
    return (
        f"trustworthiness@{q['k']} {q['trustworthiness']:.4f}, continuity "
        f"{q['continuity']:.4f}, kNN recall {q['knn_recall']:.3f}"
    )


def bench_umap(workdir: Path, n: int, repetitions: int) -> list[Result]:
    """Rows 6 and 7: a fresh UMAP map through project(), then a second map reusing its graph.

    Row 6, why: project() wraps umap-learn with a stored kNN graph, a store and a quality score;
    without the quality step (plain UMAP measures nothing) it must cost no more than the plain
    call. Each of our runs gets a fresh store with the corpus freshly imported (not timed), so
    nothing is cached; the vectors are passed in, as the Map page passes its cached matrix. The
    plain and our runs alternate; best of each side. Numba is compiled beforehand on tiny
    inputs through both paths.

    Row 7, why: the graph depends only on the vectors and k, so a second map with another
    min_dist must skip the neighbour search. It runs right after each fresh fit, in the same
    store; compared with that fresh fit, both including the quality step (what the user waits
    for).
    """
    from analysis.map.quality import map_quality

    vectors, labels = blob_vectors(n, seed=0)

    log("warming up numba through both paths (excluded from timings)")
    warm_s, _ = timed(warm_up)
    warm_store, tiny, tiny_record = blob_store(
        workdir, "umap_warmup", "tiny", vectors[:300], labels[:300]
    )
    project(warm_store, tiny, tiny_record, ProjectionParams())
    warm_store.close()
    plain_warm_s, _ = timed(lambda: plain_umap(vectors[:300], force_approximation_algorithm=True))
    log(f"warm-up: ours {warm_s:.0f} s, plain {plain_warm_s:.0f} s")

    fresh: list[ProjectRun] = []
    reused: list[ProjectRun] = []
    plain_times: list[float] = []
    plain_cpu: list[float] = []
    plain_coords: np.ndarray | None = None

    def run_plain(_rep: int) -> None:
        nonlocal plain_coords
        log(f"plain umap.UMAP().fit_transform on {n:,} x {DIM}")
        seconds, cpu, plain_coords = timed_cpu(lambda: plain_umap(vectors))
        plain_times.append(seconds)
        plain_cpu.append(cpu)
        log(f"  plain {seconds:.1f} s, CPU {plain_cpu[-1]:.1f} s")

    def run_ours(rep: int) -> None:
        store, corpus, record = blob_store(workdir, f"umap_{rep}", "blobs", vectors, labels)
        log(f"project() UMAP on {n:,} x {DIM}, fresh store {rep}")
        fresh.append(_timed_project(store, corpus, record, ProjectionParams(), vectors))
        assert fresh[-1].projection.knn_reused is False
        log(f"  ours {fresh[-1].seconds:.1f} s: {fresh[-1].breakdown()}")
        log("project() UMAP min_dist=0.3 on the same store (graph reused)")
        again = _timed_project(store, corpus, record, ProjectionParams(min_dist=0.3), vectors)
        assert again.projection.knn_reused is True, "the kNN graph was not reused"
        reused.append(again)
        log(f"  reuse {again.seconds:.1f} s: {again.breakdown()}")
        store.close()

    alternating(run_plain, run_ours, repetitions)

    assert plain_coords is not None
    plain_quality = map_quality(vectors, plain_coords, k=10, seed=0).as_dict()
    best = min(fresh, key=lambda r: r.without_quality)
    ours, plain = best.without_quality, min(plain_times)
    data = (
        f"{N_BLOBS} seeded Gaussian blobs on the sphere (synthetic, not embedded text: a 20k real "
        "corpus takes too long to embed on 2 cores)"
    )
    row6 = compared(
        "6 UMAP fresh map (no quality)",
        f"{n:,} x {DIM}",
        ours,
        plain,
        "ours <= 1.1x plain",
        ours <= 1.1 * plain,
        (
            f"{data}; ours = project(method umap, defaults, seed 0) minus its quality step, "
            f"{_best_of([r.without_quality for r in fresh])}; with quality "
            f"{_fmt_list([r.seconds for r in fresh])}; best run: {best.breakdown()}; plain = "
            f"umap.UMAP(n_neighbors=15, min_dist=0.1, metric='cosine', random_state=0)"
            f".fit_transform {_fmt_list(plain_times)}; CPU seconds (process, all threads; less "
            f"sensitive to other processes) ours without quality "
            f"{_fmt_list([r.cpu_without_quality for r in fresh])}, plain {_fmt_list(plain_cpu)}; "
            f"ours {_quality_text(best.projection.quality)}; plain {_quality_text(plain_quality)} "
            f"(same map_quality, sample {plain_quality['sample_size']:,}, seed 0)"
        ),
    )
    first, second = min(r.seconds for r in fresh), min(r.seconds for r in reused)
    best_reuse = min(reused, key=lambda r: r.seconds)
    first_nq = min(r.without_quality for r in fresh)
    second_nq = min(r.without_quality for r in reused)
    row7 = compared(
        "7 UMAP again, kNN reused",
        f"{n:,} x {DIM}",
        second,
        first,
        "fresh/reused >= 1.5x",
        first / second >= 1.5,
        (
            f"ours = project(min_dist=0.3) after a fresh fit in the same store, quality included "
            f"{_fmt_list([r.seconds for r in reused])}; plain column = our fresh fit of row 6, "
            f"quality included; without quality {first_nq:.2f} -> {second_nq:.2f} s = "
            f"{first_nq / second_nq:.2f}x; CPU seconds with quality fresh "
            f"{_fmt_list([r.cpu for r in fresh])}, reused {_fmt_list([r.cpu for r in reused])}; "
            f"per run fresh/reused "
            f"{_fmt_list([f.seconds / r.seconds for f, r in zip(fresh, reused, strict=True)])}; "
            f"best reuse run: {best_reuse.breakdown()}; "
            f"{_quality_text(best_reuse.projection.quality)}"
        ),
    )
    return [row6, row7]


def bench_map_page(workdir: Path, n: int, reruns: int) -> Result:
    """Row 8: one rerun of the Map page on a stored 50k-point map, server side, via AppTest.

    Why: every widget change reruns the whole page; with the map stored and the documents and
    vectors held by st.cache_resource, a rerun must stay interactive. The store is built through
    the imported-vectors path (not timed), with a stored PCA map: its rerun costs the same as a
    UMAP map of the same size (the page draws stored coordinates) and it takes seconds to make.
    The page's method widget is set to PCA through session_state, so it finds that map instead
    of starting a UMAP job. AppTest runs app.py in this process (EMBEDLENS_DB = the prepared
    store, EMBEDLENS_NO_WARMUP=1); the first map run fills the caches, then ``reruns`` reruns
    are timed. The plain column: a bare go.Scattergl of the same points with raw texts as hover,
    serialised the way st.plotly_chart does it (to_dict + plotly.io.to_json).
    """
    from analysis.core.store import open_store

    vectors, labels = blob_vectors(n, seed=5)
    db = workdir / "map_page.duckdb"
    with _environ(EMBEDLENS_DB=str(db), EMBEDLENS_NO_WARMUP="1"):
        store = open_store(db)  # the very Store the app's open_store() will return
        try:
            return _map_page_row(store, n, reruns, vectors, labels)
        finally:
            store.close()


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    """Set environment variables for the block, then restore (or remove) them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _map_page_row(
    store: Store, n: int, reruns: int, vectors: np.ndarray, labels: np.ndarray
) -> Result:
    """Row 8's measurements, with the environment and the store of bench_map_page in place."""
    import plotly.graph_objects as go
    import plotly.io
    from streamlit.testing.v1 import AppTest

    from analysis.map.colours import color_choices, hover_columns, projection_view

    log(f"building a {n:,}-document store with imported vectors and a PCA map")
    build_s, corpus = timed(lambda: blob_corpus(store, "map_bench", vectors, labels))
    record = corpus_models(store, corpus)[0]
    params = ProjectionParams(method="pca")
    project_s, projection = timed(lambda: project(store, corpus, record, params))

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()  # the entry page (Corpora), so the session is routed through st.navigation
    at.session_state["map_method"] = "pca"
    at.switch_page("pages/map.py")
    log("Map page: first run (loads documents and vectors into the caches)")
    first_s, _ = timed(at.run)
    errors = [e.value for e in at.exception] + [e.value for e in at.error]
    assert not errors, errors
    assert [t.value for t in at.title] == ["Map"], [t.value for t in at.title]
    assert not at.info, [i.value for i in at.info]  # no preview: the stored map was found
    charts = at.get("plotly_chart")
    assert len(charts) == 1, charts
    spec_mb = len(charts[0].proto.spec) / 1e6
    log(f"Map page: {reruns} timed reruns")
    times = [timed(at.run)[0] for _ in range(reruns)]
    assert not at.exception and len(at.get("plotly_chart")) == 1

    # The same calls outside Streamlit, to say where a rerun's time goes.
    docs = load_documents(store, corpus)
    colour = color_choices(corpus, False)[0]

    def lookup() -> object:
        return find_projection(store, corpus, record, params)

    def figure() -> go.Figure:
        return projection_view(projection, docs, corpus, colour).figure

    def serialise(fig: go.Figure) -> str:
        return plotly.io.to_json(fig.to_dict(), validate=False)

    view = figure()
    lookup_s = best_time(lookup)
    figure_s = best_time(figure)
    json_s = best_time(lambda: serialise(view))

    def plain() -> str:
        fig = go.Figure(
            go.Scattergl(
                x=projection.coords[:, 0],
                y=projection.coords[:, 1],
                mode="markers",
                text=docs["text"].tolist(),
                customdata=docs["doc_id"].to_numpy(),
                marker={"color": labels},
            )
        )
        return serialise(fig)

    plain_s = best_time(plain)

    ours = statistics.median(times)
    return compared(
        "8 Map page rerun (cached)",
        f"{n:,} points",
        ours,
        plain_s,
        "rerun <= 1.5 s",
        ours <= 1.5,
        (
            f"AppTest on app.py -> pages/map.py, stored PCA map, colour by '{colour}' "
            f"({N_BLOBS} classes), hover = text + {len(hover_columns(corpus))} fields; median of "
            f"{reruns} reruns {_fmt_list(times)} after a first map run of {first_s:.2f} s; "
            f"figure spec {spec_mb:.1f} MB; outside Streamlit: find_projection {lookup_s:.3f} s, "
            f"projection_view {figure_s:.3f} s, to_dict + to_json {json_s:.3f} s; plain = "
            f"go.Scattergl of the same points with raw hover texts, to_dict + to_json, best of 3; "
            f"setup (not timed): import {build_s:.1f} s, PCA map {project_s:.1f} s"
        ),
    )


def search_row(row4: Result | None, n: int, n_queries: int) -> Result:
    """Row 9: the Map page's search latency is row 4's measurement; rerun only if 4 did not run."""
    if row4 is None:
        row4 = bench_search(n, n_queries)
        note = "measured here as in row 4 (the core group did not run)"
    else:
        note = "the row 4 measurement, not rerun"
    return Result(
        **{
            **asdict(row4),
            "benchmark": "9 map search (= row 4)",
            "notes": f"{note}; top_k_cosine only: the page also embeds the query. {row4.notes}",
        }
    )


# --- reporting ---------------------------------------------------------------------------------


def _alternate(
    ours: Callable[[], object], plain: Callable[[], object], repetitions: int
) -> tuple[list[float], list[float]]:
    """Time both sides ``repetitions`` times in alternating order (after one warm-up each)."""
    ours(), plain()
    return alternate_times(lambda _: ours(), lambda _: plain(), repetitions)


def _best_of(times: list[float]) -> str:
    return f"best of {len(times)} {_fmt_list(times)}"


def _fmt_list(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in values) + "]"


def _fmt_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if value < 1 else f"{value:.2f}"


def _verdict(passed: bool | None) -> str:
    return "-" if passed is None else ("PASS" if passed else "FAIL")


HEADERS = (
    "benchmark",
    "size",
    "ours (s)",
    "plain library call (s)",
    "ratio",
    "target",
    "pass/fail",
)


def format_table(results: list[Result]) -> str:
    """A plain fixed-width table, then one numbered note per row."""
    rows = [
        (
            r.benchmark,
            r.size,
            _fmt_seconds(r.ours_s),
            _fmt_seconds(r.plain_s),
            "-" if r.ratio is None else f"{r.ratio:.2f}x",
            r.target,
            _verdict(r.passed),
        )
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in [HEADERS, *rows]) for i in range(len(HEADERS))]
    numeric = {2, 3, 4}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [line(HEADERS), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in rows]
    out += [
        "",
        "ratio = plain / ours (above 1: ours is faster); row 2: first / second call; "
        "row 7: fresh fit / fit on the reused kNN graph.",
        "",
    ]
    out += [f"{r.benchmark.split()[0]}: {r.notes}" for r in results if r.notes]
    return "\n".join(out)


def _load() -> str:
    """The 1, 5 and 15 minute load averages: how busy the shared machine was."""
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def environment() -> dict[str, str]:
    import numba
    import plotly
    import sentence_transformers
    import streamlit
    import torch
    import umap

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "torch_threads": str(torch.get_num_threads()),
        "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "duckdb": duckdb.__version__,
        "pyarrow": pa.__version__,
        "numpy": np.__version__,
        "umap_learn": umap.__version__,
        "numba": numba.__version__,
        "numba_threads": str(numba.config.NUMBA_NUM_THREADS),
        "streamlit": streamlit.__version__,
        "plotly": plotly.__version__,
    }


def run(quick: bool, group: str = "all") -> Iterator[Result]:
    """The benchmarks of ``group`` (core = rows 1-5, map = rows 6-9) in order, as they finish."""
    sizes = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="embedlens-bench-") as tmp:
        workdir = Path(tmp)
        row4: Result | None = None
        if group in ("core", "all"):
            for result in run_core(workdir, sizes):
                if result.benchmark.startswith("4 "):
                    row4 = result
                yield result
        if group in ("map", "all"):
            yield from run_map(workdir, sizes, row4)
        if group in ("tables", "all"):
            log("10 table properties on employees (one default run each, cold cache)")
            yield from bench_tables(workdir, _table_row)
        if group in ("estimates", "all"):
            log("11 estimate vs actual of every default analysis on the demo corpus")
            rows = list(run_estimates(workdir, quick))
            log("\n" + format_rows(rows))
            yield from (_estimate_row(row) for row in rows)


def _estimate_row(row: Row) -> Result:
    """ratio = actual / estimate; within [0.5, 2] (or both under a few seconds) passes."""
    return Result(
        f"11 estimate {row.analysis} ({row.cache})",
        "stdlib_docs",
        row.actual_s,
        row.estimate_s,
        row.ratio,
        "0.5-2x",
        row.passed,
        f"load {row.load}; {row.basis}",
    )


def _table_row(
    benchmark: str, size: str, ours: float, plain: float, target: str, passed: bool, notes: str
) -> Result:
    """ratio = model time / total: the share of a table run spent in the model calls."""
    return Result(benchmark, size, ours, plain, plain / ours, target, passed, notes)


def run_core(workdir: Path, sizes: Sizes) -> Iterator[Result]:
    """Rows 1-5: embedding, the cache, DuckDB through Arrow, exact search, the CLI."""
    log("loading the default model (excluded from every timing)")
    load_s, encoder = timed(lambda: load_encoder("default"))
    assert isinstance(encoder, SentenceTransformerEncoder)
    log(f"model loaded in {load_s:.1f} s")

    log("1/9 embedding throughput")
    first, ctx = bench_embed_throughput(workdir, sizes.embed_csv, encoder)
    yield first
    log("2/9 cached re-embed")
    yield bench_cached_reembed(ctx)

    log("3/9 DuckDB write/read")
    write, stores = bench_duckdb_write(workdir, sizes.vectors)
    yield write
    yield bench_duckdb_read(stores)
    yield bench_load_vectors(stores)
    del stores

    log("4/9 exact search")
    yield bench_search(sizes.vectors, sizes.queries)

    if sizes.cli_rows is None:
        log("5/9 CLI corpus: skipped (--quick)")
    else:
        log("5/9 CLI ingest + embed (several minutes)")
        yield from bench_cli_corpus(workdir, sizes.cli_rows)


def run_map(workdir: Path, sizes: Sizes, row4: Result | None) -> Iterator[Result]:
    """Rows 6-9: UMAP against plain umap-learn, kNN reuse, a cached Map page rerun, search."""
    log("6-7/9 UMAP fresh map and kNN reuse (several minutes)")
    yield from bench_umap(workdir, sizes.umap_points, sizes.umap_repetitions)
    log("8/9 Map page rerun")
    yield bench_map_page(workdir, sizes.map_points, sizes.map_reruns)
    log("9/9 search latency")
    yield search_row(row4, sizes.vectors, sizes.queries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, skip the CLI run")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--group",
        choices=GROUPS,
        default="all",
        help="core = rows 1-5 (embedding, cache, DuckDB, search, CLI); map = rows 6-9 (UMAP, "
        "kNN reuse, Map page rerun, search); tables = row 10 (table properties); estimates = "
        "row 11 (estimate vs actual of every default analysis; exit 1 when one is off by more "
        "than 2x); default all",
    )
    args = parser.parse_args(argv)

    env = environment()
    print(
        f"EmbedLens benchmarks ({'quick' if args.quick else 'full'}, group {args.group}): "
        f"Python {env['python']}, {env['cpus']} CPUs, torch {env['torch']} "
        f"({env['torch_threads']} threads), duckdb {env['duckdb']}, numpy {env['numpy']}, "
        f"umap-learn {env['umap_learn']}, numba {env['numba']} ({env['numba_threads']} threads), "
        f"streamlit {env['streamlit']}, plotly {env['plotly']}; load average at start "
        f"{_load()} (other processes share these cores)\n",
        flush=True,
    )
    started = time.perf_counter()
    results = list(run(args.quick, args.group))
    print(format_table(results))
    total = time.perf_counter() - started
    failed = [r.benchmark for r in results if r.passed is False]
    print(
        f"\n{len(results) - len(failed)} of {len(results)} rows pass or report only; "
        f"total {total:.0f} s; load average at end {_load()}"
    )
    if args.json:
        payload = {
            "quick": args.quick,
            "group": args.group,
            "environment": env,
            "total_seconds": total,
            "results": [asdict(r) for r in results],
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")
    estimates_off = [r for r in results if r.benchmark.startswith("11 ") and r.passed is False]
    return 1 if estimates_off else 0


if __name__ == "__main__":
    sys.exit(main())
