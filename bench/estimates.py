"""Estimates that hold: each default analysis's estimate against its wall time on the demo corpus.

Issue #12: every estimate comes from throughput measured on this machine and lies within a factor
of 2 of the actual time, with a cold cache and with the vectors already cached (then only what
must be computed counts). On a fresh temporary store with the demo corpus (stdlib_docs, 2,000
docstrings) each default analysis is estimated, run and timed:

- cold: nothing it needs is cached (per-layer vectors dropped from the cache first), except the
  default model's output vectors the map, clustering and comparison read;
- warm: its stored result deleted, every vector it needs cached.

Each row also gives the run's CPU seconds (this process, all threads): on a shared machine the
wall time depends on other work, CPU / 2 is what two idle cores would need at best.

Runs shorter than ``FLOOR`` seconds on both sides pass whatever the ratio: ``Estimate.describe``
shows them as "a few seconds", and a ratio of two sub-second times is noise. The first estimate
in the process calibrates (a few seconds) and is not timed as part of any run. The exit code is 1
when any ratio falls outside [0.5, 2].

    .venv/bin/python bench/estimates.py [--quick] [--json out.json]
    .venv/bin/python bench/run.py --group estimates
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.compare.comparison import CompareRequest, Comparison, LayerCka, LayerRequest  # noqa: E402
from analysis.core.analysis import Analysis, Estimate  # noqa: E402
from analysis.core.config import Limits  # noqa: E402
from analysis.core.store import Store  # noqa: E402
from analysis.corpus.corpora import Corpus, IngestOptions, get_corpus  # noqa: E402
from analysis.corpus.demo import demo_dataset  # noqa: E402
from analysis.corpus.readers import read_bytes, read_path  # noqa: E402
from analysis.length.collapse import suggested_mode  # noqa: E402
from analysis.length.length_analysis import LengthAnalysis  # noqa: E402
from analysis.length.sample import LengthRequest, default_lengths  # noqa: E402
from analysis.map.cluster_analysis import ClusteringAnalysis  # noqa: E402
from analysis.map.cluster_runs import ClusterRequest  # noqa: E402
from analysis.map.projection import ProjectionParams  # noqa: E402
from analysis.map.projection_analysis import ProjectionAnalysis  # noqa: E402
from analysis.probes.pair_scores import PairHeatmap  # noqa: E402
from analysis.probes.paper_mode import PaperProbe  # noqa: E402
from analysis.probes.probe import Probe  # noqa: E402
from analysis.probes.requests import PairRequest, PaperRequest, ProbeRequest  # noqa: E402
from analysis.tables.context import TablesRequest  # noqa: E402
from analysis.tables.data import demo_tables  # noqa: E402
from analysis.tables.properties import PROPERTIES  # noqa: E402
from analysis.tables.property_run import TablePropertyRun  # noqa: E402
from analysis.vectors.catalogue import corpus_models  # noqa: E402
from analysis.vectors.embedding import embed_corpus  # noqa: E402
from analysis.vectors.estimate import embedding_estimate  # noqa: E402
from analysis.vectors.ingest import ingest  # noqa: E402

LOW, HIGH = 0.5, 2.0  # the acceptance band of actual / estimate
FLOOR = 5.0  # seconds: below this on both sides, "a few seconds" is the estimate and it holds
DEMO = "stdlib_docs"
PAIRS = "stdlib_pairs"
LABEL = "topic"
TABLES = ("countries", "employees")  # what the Tables page selects when it opens


@dataclass(frozen=True)
class Row:
    analysis: str
    cache: str  # cold | warm
    estimate_s: float
    actual_s: float
    cpu_s: float  # CPU seconds of this process (all threads): what idle cores would need
    load: str  # 1-minute load average when the run ended: other work on the same cores
    basis: str

    @property
    def ratio(self) -> float:
        return self.actual_s / max(self.estimate_s, 1e-9)

    @property
    def passed(self) -> bool:
        if self.estimate_s < FLOOR and self.actual_s < FLOOR:
            return True
        return LOW <= self.ratio <= HIGH


def log(message: str) -> None:
    print(f"[estimates {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def measure(name: str, cache: str, analysis: Analysis, run: Callable[[], object]) -> Row:
    """Estimate (calibration included, not timed as the run), then the run, wall-clock."""
    estimate: Estimate = analysis.estimate()
    actual, cpu = _timed(run)
    row = Row(name, cache, estimate.seconds, actual, cpu, _load(), estimate.basis)
    log(
        f"{name} ({cache}): estimate {row.estimate_s:.1f} s, actual {row.actual_s:.1f} s "
        f"(CPU {row.cpu_s:.1f} s), ratio {row.ratio:.2f}, load {row.load}"
    )
    return row


def _timed(run: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of ``run()``."""
    start, start_cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - start, time.process_time() - start_cpu


def _drop_layer_cache(store: Store) -> None:
    """Forget every per-layer vector (the model outputs stay): the next layer analysis is cold."""
    with store.transaction() as cur:
        for (table,) in cur.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_name LIKE 'embedding_cache_d%'"
        ).fetchall():
            cur.execute(f'DELETE FROM "{table}" WHERE layer >= 0')


def _forget_result(store: Store, kind: str) -> None:
    with store.transaction() as cur:
        cur.execute("DELETE FROM analysis_results WHERE kind = ?", [kind])


def _pairs_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every docstring paired with a seeded other one; score 1 when both share the topic."""
    rng = np.random.default_rng(0)
    other = rng.permutation(len(frame))
    return pd.DataFrame(
        {
            "text": frame["text"],
            "text_b": frame["text"].to_numpy()[other],
            "score": (frame[LABEL].to_numpy() == frame[LABEL].to_numpy()[other]).astype(int),
        }
    )


def _setup(store: Store, rows: int | None) -> tuple[Corpus, Corpus]:
    dataset = demo_dataset(DEMO)
    table = read_path(dataset.path, Limits())
    frame = pd.read_csv(dataset.path)
    if rows is not None:
        frame = frame.head(rows)
        table = read_bytes(frame.to_csv(index=False).encode(), f"{DEMO}.csv", Limits())
    labels = list(dataset.label_columns)
    ingest(store, [table], IngestOptions(name=DEMO, text_column="text", label_columns=labels))
    pairs = read_bytes(_pairs_frame(frame).to_csv(index=False).encode(), "pairs.csv", Limits())
    ingest(store, [pairs], IngestOptions(name=PAIRS, text_column="text", label_columns=[]))
    return get_corpus(store, DEMO), get_corpus(store, PAIRS)


def _layer_analyses(
    store: Store, corpus: Corpus, pairs: Corpus
) -> list[tuple[str, str, Callable[[], Analysis]]]:
    """(name, stored-result kind, the bound analysis) of every analysis reading per-layer
    vectors; bound afresh for each run, as a page does."""
    return [
        ("probe", "probe", lambda: Probe(store, corpus, ProbeRequest(LABEL))),
        ("paper probe", "probe-paper", lambda: PaperProbe(store, corpus, PaperRequest(LABEL))),
        (
            "pair heatmap",
            "probe-pairs",
            lambda: PairHeatmap(store, pairs, PairRequest("text_b", "score")),
        ),
        (
            "compare",
            "compare",
            lambda: Comparison(
                store, corpus, CompareRequest(_output_key(store, corpus), "default:0")
            ),
        ),
        ("layer CKA", "compare-layers", lambda: LayerCka(store, corpus, LayerRequest())),
    ]


def _output_key(store: Store, corpus: Corpus) -> str:
    """The Compare page's default A: the first model the corpus is embedded with (its output)."""
    return corpus_models(store, corpus)[0].model_key


def run_estimates(workdir: Path, quick: bool = False) -> Iterator[Row]:
    """Every default analysis, cold and (where a cache applies) warm, as the rows finish."""
    store = Store(workdir / "estimates.duckdb")
    try:
        corpus, pairs = _setup(store, 500 if quick else None)
        log(f"{corpus.n_rows:,} texts ingested; load {_load()}")
        for cache in ("cold", "warm"):
            yield _embed_row(store, cache)
        corpus = get_corpus(store, DEMO)
        record = corpus_models(store, corpus)[0]
        maps = (("map PCA", ProjectionParams(method="pca")), ("map UMAP", ProjectionParams()))
        for name, params in maps:
            analysis = ProjectionAnalysis(store, corpus, record, params)
            yield measure(name, "cold", analysis, analysis.run)
        clustering = ClusteringAnalysis(store, corpus, record, ClusterRequest())
        yield measure("clustering", "cold", clustering, clustering.run)
        request = LengthRequest(
            mode=suggested_mode(store, corpus),
            lengths=default_lengths(suggested_mode(store, corpus)),
        )
        length = LengthAnalysis(store, corpus, request)
        yield measure("length", "cold", length, length.run)
        for name, kind, bind in _layer_analyses(store, corpus, pairs):
            _drop_layer_cache(store)
            analysis = bind()
            yield measure(name, "cold", analysis, analysis.run)
            _forget_result(store, kind)
            analysis = bind()
            yield measure(name, "warm", analysis, analysis.run)
    finally:
        store.close()
    yield from _table_rows(workdir)


def _embed_row(store: Store, cache: str) -> Row:
    """Embedding with the default model: everything (cold), then nothing left to do (warm)."""
    corpus = get_corpus(store, DEMO)
    estimate = embedding_estimate(store, corpus, "default")
    actual, cpu = _timed(lambda: embed_corpus(store, DEMO, "default"))
    row = Row("embed", cache, estimate.seconds, actual, cpu, _load(), estimate.basis)
    log(f"embed ({cache}): estimate {estimate.seconds:.1f} s, actual {actual:.1f} s")
    return row


def _table_rows(workdir: Path) -> Iterator[Row]:
    """One default run of each table property on the Tables page's default tables, fresh store
    each."""
    tables = [t for t in demo_tables() if t.name in TABLES]
    for index, prop in enumerate(PROPERTIES):
        store = Store(workdir / f"tables-{index}.duckdb")
        try:
            run = TablePropertyRun(store, tables, TablesRequest(property=prop))
            yield measure(f"tables {prop}", "cold", run, run.run)
        finally:
            store.close()


def _ratio(row: Row) -> str:
    """The ratio, or '-' when nothing was left to do (a cached re-embed: 0 s against 0 s)."""
    return f"{row.ratio:.2f}" if row.estimate_s >= 0.05 else "-"


def format_rows(rows: list[Row]) -> str:
    header = (
        f"{'analysis':<34} {'cache':<5} {'estimate':>9} {'actual':>8} {'cpu':>7} {'ratio':>6} "
        f"{'load':>5}  ok"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.analysis:<34} {row.cache:<5} {row.estimate_s:>8.1f}s {row.actual_s:>7.1f}s "
            f"{row.cpu_s:>6.1f}s {_ratio(row):>6} {row.load:>5}  {'yes' if row.passed else 'NO'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 texts instead of 2,000")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    print(f"load average at start {_load()} (other processes share these cores)", flush=True)
    with tempfile.TemporaryDirectory(prefix="embedlens-estimates-") as tmp:
        rows = list(run_estimates(Path(tmp), args.quick))
    print(format_rows(rows))
    failed = [f"{r.analysis} ({r.cache})" for r in rows if not r.passed]
    print(
        f"\n{len(rows) - len(failed)} of {len(rows)} estimates within [{LOW}, {HIGH}] x actual "
        f"(or both under {FLOOR:.0f} s); load average at end {_load()}"
        + (f"; outside: {', '.join(failed)}" if failed else "")
    )
    if args.json:
        payload = [{**asdict(r), "ratio": r.ratio, "passed": r.passed} for r in rows]
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
