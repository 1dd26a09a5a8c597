"""Maps at a million points: PCA, UMAP fitted on a seeded sample + transform, and full UMAP.

Seeded clustered synthetic data: 384-d unit vectors from a Gaussian mixture on the sphere
(``--centres`` centres of uneven size and spread, sharing a common direction as sentence
embeddings do). Every configuration runs in a child process of its own, so its peak RSS
(``ru_maxrss``, data generation included; the data alone is reported as ``data_rss``) is its own,
and through the product's code: ``projection._run_pca``, ``neighbors.compute_knn`` and
``projection._run_umap`` (what ``project`` and the Map page's job run), faithfulness from
``quality.map_quality`` on the same seeded evaluation sample (``projection.EVALUATION_SEED``) for
every map, so the rows are comparable. ``--raw`` adds plain umap-learn (``UMAP.fit`` on the
sample, ``transform`` of the rest in one call) beside the sampled rows.

    python bench/million_umap.py                      # 1,000,000 points, every configuration
    python bench/million_umap.py --quick              # 20,000 points, samples 2,000 and 5,000
    python bench/million_umap.py --only full --json out.json

Stage times and progress go to stderr as they happen, so a run that is stopped still says where
it got to and how long each stage took.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DIM = 384
CHUNK = 100_000


def clustered_vectors(n: int, centres: int, seed: int) -> np.ndarray:
    """Seeded Gaussian mixture on the unit sphere, generated in chunks to bound memory."""
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((centres, DIM))
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    common = rng.standard_normal(DIM)
    means += 0.5 * common / np.linalg.norm(common)
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    weights = rng.dirichlet(np.full(centres, 2.0))
    spreads = rng.uniform(0.03, 0.06, centres)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        labels = rng.choice(centres, size, p=weights)
        block = means[labels] + rng.standard_normal((size, DIM)) * spreads[labels, None]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + size] = block
    return out


def _rss_mb() -> float:
    """Resident memory now (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: peak so far


class PeakRss:
    """The highest resident memory while the map is computed, polled every 0.2 s: the process's
    own peak (ru_maxrss) would be the data generation's, whose temporaries are larger."""

    def __init__(self) -> None:
        self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, _rss_mb())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, _rss_mb())


class StageClock:
    """The progress callback of a run: logs each stage change and epoch tenth with times."""

    def __init__(self, name: str) -> None:
        self.name, self.start, self.stage, self.since = name, time.perf_counter(), "", 0.0
        self.stages: dict[str, float] = {}
        self._tenth = -1

    def __call__(self, done: int, total: int, stage: str | None = None) -> None:
        now = time.perf_counter() - self.start
        if stage and stage != self.stage:
            self.close(now)
            self.stage, self.since, self._tenth = stage, now, -1
            _log(f"[{self.name}] {now:8.1f} s  start: {stage}")
        tenth = 10 * done // max(total, 1)
        if tenth != self._tenth:
            self._tenth = tenth
            _log(f"[{self.name}] {now:8.1f} s  {self.stage}: {done:,}/{total:,}")

    def close(self, now: float | None = None) -> None:
        now = time.perf_counter() - self.start if now is None else now
        if self.stage:
            self.stages[self.stage] = self.stages.get(self.stage, 0.0) + now - self.since
            self.stage = ""


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_one(config: dict, queue: mp.Queue) -> None:
    """One configuration in this (child) process; puts its row on ``queue``."""
    from analysis.core.speed import machine_factor
    from analysis.map.neighbors import compute_knn
    from analysis.map.projection import (
        EVALUATION_SEED,
        QUALITY_K,
        ProjectionParams,
        _run_pca,
        _run_umap,
    )
    from analysis.map.quality import map_quality

    name, n = config["name"], config["n"]
    factors = [machine_factor()]
    start = time.perf_counter()
    vectors = clustered_vectors(n, config["centres"], config["seed"])
    row: dict = {"name": name, "n": n, "data_seconds": time.perf_counter() - start}
    row["data_rss_mb"] = _rss_mb()
    _log(f"[{name}] data: {n:,} x {DIM} in {row['data_seconds']:.1f} s")
    clock = StageClock(name)
    memory = PeakRss()
    start = time.perf_counter()
    if config["kind"] == "pca":
        coords = _run_pca(vectors, ProjectionParams(method="pca"))
    elif config["kind"] == "full":
        params = ProjectionParams(fit_sample=None).effective(n)
        clock(0, 1, "kNN graph")
        graph = compute_knn(vectors, params.n_neighbors, seed=params.seed)
        clock(0, 1, "fuzzy graph and spectral start")
        coords = _run_umap(vectors, params, graph.pruned(params.n_neighbors), clock)
    elif config["kind"] == "sample":
        params = ProjectionParams(fit_sample=config["sample"]).effective(n)
        coords = _run_umap(vectors, params, None, clock)
    else:  # raw umap-learn: fit on the same seeded sample, transform the rest in one call
        import umap

        from analysis.map.umap_run import fit_sample_rows

        rows = fit_sample_rows(n, config["sample"], 0)
        rest = np.setdiff1d(np.arange(n), rows, assume_unique=True)
        reducer = umap.UMAP(metric="cosine", random_state=0, transform_seed=0)
        coords = np.empty((n, 2), dtype=np.float32)
        clock(0, 1, "umap-learn fit")
        coords[rows] = reducer.fit_transform(vectors[rows])
        clock(0, 1, "umap-learn transform")
        coords[rest] = reducer.transform(vectors[rest])
    clock.close()
    row["seconds"] = time.perf_counter() - start
    row["stages"] = {k: round(v, 1) for k, v in clock.stages.items()}
    row["peak_rss_mb"] = memory.stop()
    factors.append(machine_factor())
    row["machine_factor"] = round(sum(factors) / 2, 2)  # how busy the shared machine was
    start = time.perf_counter()
    quality = map_quality(vectors, coords, k=QUALITY_K, seed=EVALUATION_SEED)
    row["quality_seconds"] = time.perf_counter() - start
    row["quality"] = quality.as_dict()
    _log(f"[{name}] done: {json.dumps(row)}")
    queue.put(row)


def configs(args: argparse.Namespace) -> list[dict]:
    base = {"n": args.n, "centres": args.centres, "seed": args.seed}
    wanted = args.only.split(",")
    out = []
    if "pca" in wanted:
        out.append({**base, "name": "PCA", "kind": "pca"})
    for sample in args.samples:
        if "sample" in wanted and sample < args.n:
            out.append(
                {
                    **base,
                    "name": f"UMAP fit {sample:,} + transform",
                    "kind": "sample",
                    "sample": sample,
                }
            )
        if args.raw and sample < args.n:
            out.append(
                {
                    **base,
                    "name": f"raw umap-learn fit {sample:,} + transform",
                    "kind": "raw",
                    "sample": sample,
                }
            )
    if "full" in wanted:
        out.append({**base, "name": "UMAP on every point", "kind": "full"})
    return out


def table(rows: list[dict]) -> str:
    head = (
        f"{'configuration':<38} {'n':>10} {'time':>9} {'peak RSS':>9} {'data RSS':>9} "
        f"{'trust@10':>9} {'recall@10':>10} {'load':>7}  stages (s)"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        q = r["quality"]
        stages = ", ".join(f"{k} {v}" for k, v in r["stages"].items())
        lines.append(
            f"{r['name']:<38} {r['n']:>10,} {r['seconds']:>8.1f}s {r['peak_rss_mb']:>7,.0f}MB "
            f"{r['data_rss_mb']:>7,.0f}MB {q['trustworthiness']:>9.4f} {q['knn_recall']:>10.4f}"
            f" {r.get('machine_factor', float('nan')):>6.1f}x  {stages}"
        )
    if rows:
        q = rows[0]["quality"]
        lines.append(
            f"Faithfulness: trustworthiness and kNN recall at k={q['k']} on the same seeded sample "
            f"of {q['sample_size']:,} of {q['n_points']:,} points (seed {q['seed']}); a random "
            f"map's kNN recall is about {q['k'] / (q['sample_size'] - 1):.4f}. load: seconds of "
            "numeric work per reference second (core.speed), mean of the run's start and end."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 points, samples 2k and 5k")
    parser.add_argument(
        "--samples", default="50000,100000", help="fit sample sizes, comma-separated"
    )
    parser.add_argument("--only", default="pca,sample,full", help="pca, sample and/or full")
    parser.add_argument("--raw", action="store_true", help="also plain umap-learn on each sample")
    parser.add_argument("--centres", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.n, args.samples = 20_000, "2000,5000"
    args.samples = [int(s) for s in args.samples.split(",") if s]
    rows = []
    context = mp.get_context("spawn")
    for config in configs(args):
        queue = context.Queue()
        child = context.Process(target=run_one, args=(config, queue))
        child.start()
        rows.append(queue.get())
        child.join()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
