"""Issue #13 items 1 and 5, measured: embedding that resumes after a kill, stays bounded in memory
at a million documents, and how close the exact path runs to this CPU's fp32 limit.

    .venv/bin/python bench/embed_scaling.py [--texts 3000] [--docs 1000000] [--watch 180]
    .venv/bin/python bench/embed_scaling.py --quick   # 1,500 texts, 50,000 documents, 60 s

Three parts, each through the product's own command line as a user runs it:

1. **Resume.** `ingest` --texts demo docstrings into a fresh store; `embed` as a subprocess,
   killed with SIGKILL at a seeded random point after its first chunk is committed; `embed`
   again. The stored vectors are compared with an uninterrupted run in another store (max |diff|),
   and the second run must encode only what the first had not committed.
2. **Memory at scale.** A corpus of --docs distinct documents (the demo docstrings, each with a
   variant number) through `ingest`; then `embed` as a subprocess with its RSS read from /proc
   every 0.5 s: the peak before the first chunk is written (hashes, cache lookup, model load) and
   RSS after every committed chunk for --watch seconds, then SIGKILL (the run is resumable, so
   nothing is lost). A bounded run's RSS stops growing after a few chunks: the slope over the
   watched chunks says so, and the rate gives the time a whole run would take.
3. **fp32 share.** This CPU's fp32 matrix-multiply rate (torch, 2048 x 2048, best of 5) against
   the model's arithmetic at plain `SentenceTransformer.encode`'s rate on 2,000 demo texts
   (MiniLM-L6: 6 layers of 4 d^2 + 2 d x 4d multiply-adds per token, d = 384, plus attention's
   2 L d per token for a text of L pieces).

Exit 1 when resume is wrong or the watched RSS passes 4 GB (issue #13's bound).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/embed_scaling.py` puts bench/ on sys.path
    sys.path.insert(0, str(ROOT))

from analysis.core.store import Store  # noqa: E402
from analysis.vectors.catalogue import load_model_vectors  # noqa: E402
from bench.run import DEMO_CSV  # noqa: E402

RSS_LIMIT_MB = 4096
PROGRESS = re.compile(r"embedding: ([\d,]+)/([\d,]+)")
LAYERS, WIDTH, WINDOW = 6, 384, 256


def cli(*argv: str) -> dict:
    """A finished command's JSON; a failure stops the bench with its stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "analysis", *argv], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"analysis {' '.join(argv)} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def spawn_embed(db: Path, chunk: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "analysis", "embed", "docs", "--db", str(db), "--chunk", str(chunk)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a live process, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def ingest_texts(db: Path, texts: list[str], folder: Path) -> None:
    source = folder / "docs.parquet"
    pd.DataFrame({"text": texts}).to_parquet(source)
    cli("ingest", str(source), "--name", "docs", "--db", str(db))


def resume(texts: list[str], workdir: Path, seed: int, chunk: int) -> dict:
    """Kill an embed after its first committed chunk, resume it, compare with an unbroken run."""
    whole, broken = workdir / "whole.duckdb", workdir / "broken.duckdb"
    for db in (whole, broken):
        ingest_texts(db, texts, workdir)
    start = time.perf_counter()
    cli("embed", "docs", "--db", str(whole), "--chunk", str(chunk))
    unbroken_seconds = time.perf_counter() - start
    kill_after = random.Random(seed).uniform(0.1, 0.9) * unbroken_seconds
    process = spawn_embed(broken, chunk)
    assert process.stderr is not None
    started = time.perf_counter()
    for line in process.stderr:  # the clock for the kill starts once a chunk is in
        found = PROGRESS.search(line)
        if found and int(found.group(1).replace(",", "")) >= chunk:
            break
    time.sleep(max(0.0, kill_after - (time.perf_counter() - started)))
    process.send_signal(signal.SIGKILL)
    process.wait()
    resumed = cli("embed", "docs", "--db", str(broken), "--chunk", str(chunk))
    vectors = [load_model_vectors(Store(db), "docs")[2] for db in (whole, broken)]
    return {
        "texts": len(texts),
        "killed_after_s": round(time.perf_counter() - started, 1),
        "committed_before_kill": resumed["cached"],
        "encoded_on_resume": resumed["encoded"],
        "max_abs_diff": float(np.abs(vectors[0] - vectors[1]).max()),
        "ok": resumed["cached"] > 0
        and resumed["cached"] + resumed["encoded"] == len(texts)
        and np.array_equal(vectors[0], vectors[1]),
    }


def memory(docs: int, demo: list[str], workdir: Path, watch: float, chunk: int) -> dict:
    """RSS of `embed` on a corpus of ``docs`` documents: before the first chunk and per chunk."""
    db = workdir / "scale.duckdb"
    texts = [f"{demo[i % len(demo)]} (variant {i})" for i in range(docs)]
    start = time.perf_counter()
    ingest_texts(db, texts, workdir)
    ingest_seconds = time.perf_counter() - start
    del texts
    process = spawn_embed(db, chunk)
    latest = [0]  # texts done, as the progress lines on stderr say

    def follow() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            found = PROGRESS.search(line)
            if found:
                latest[0] = int(found.group(1).replace(",", ""))

    threading.Thread(target=follow, daemon=True).start()
    began, first_chunk_at, peak_before, samples = time.perf_counter(), None, 0.0, []
    while process.poll() is None:
        now = time.perf_counter()
        done = latest[0]
        current, peak = rss_mb(process.pid)
        if first_chunk_at is None and done >= chunk:
            first_chunk_at = now
        if first_chunk_at is None:
            peak_before = peak
        else:
            samples.append((now - first_chunk_at, done, current, peak))
        if first_chunk_at is not None and now - first_chunk_at >= watch:
            break
        time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    if not samples:
        raise SystemExit("embed ended or produced no chunk while being watched")
    seconds = np.array([s[0] for s in samples])
    rss = np.array([s[2] for s in samples])
    texts_done = samples[-1][1] - samples[0][1]
    rate = texts_done / max(seconds[-1] - seconds[0], 1e-9)
    half = len(samples) // 2
    return {
        "documents": docs,
        "ingest_s": round(ingest_seconds, 1),
        "first_chunk_after_s": round(first_chunk_at - began, 1) if first_chunk_at else None,
        "peak_rss_before_first_chunk_mb": round(peak_before, 0),
        "peak_rss_watched_mb": round(max(s[3] for s in samples), 0),
        "rss_first_half_mean_mb": round(float(rss[:half].mean()), 0),
        "rss_second_half_mean_mb": round(float(rss[half:].mean()), 0),
        "texts_embedded_while_watched": texts_done,
        "texts_per_s": round(rate, 1),
        "whole_run_estimate_h": round(docs / max(rate, 1e-9) / 3600, 1),
    }


def fp32_share(demo: list[str]) -> dict:
    """The exact path's arithmetic rate as a share of this CPU's fp32 matmul rate."""
    import torch
    from sentence_transformers import SentenceTransformer

    from analysis.models.encoders import default_model_path

    a = torch.randn(2048, 2048)
    rates = []
    for _ in range(5):
        start = time.perf_counter()
        a @ a
        rates.append(2 * 2048**3 / (time.perf_counter() - start))
    model = SentenceTransformer(str(default_model_path()), device="cpu")
    model.encode(demo[:16])
    start = time.perf_counter()
    model.encode(demo, batch_size=32, normalize_embeddings=True)
    seconds = time.perf_counter() - start
    lengths = np.minimum(np.array([len(ids) for ids in model.tokenizer(demo)["input_ids"]]), WINDOW)
    per_token = 2 * LAYERS * (4 * WIDTH**2 + 2 * WIDTH * 4 * WIDTH)
    attention = 2 * LAYERS * 2 * WIDTH * float(np.sum(lengths.astype(np.float64) ** 2))
    flops = per_token * float(lengths.sum()) + attention
    return {
        "texts": len(demo),
        "tokens_per_s": round(float(lengths.sum()) / seconds, 0),
        "model_gflops": round(flops / seconds / 1e9, 1),
        "cpu_fp32_matmul_gflops": round(max(rates) / 1e9, 1),
        "share_of_limit": round(flops / seconds / max(rates), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=3000, help="texts of the resume part")
    parser.add_argument("--docs", type=int, default=1_000_000, help="documents of the memory part")
    parser.add_argument("--watch", type=float, default=180.0, help="seconds of embedding watched")
    parser.add_argument("--chunk", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.texts, args.docs, args.watch, args.chunk = 1500, 50_000, 60.0, 256
    os.environ["HF_HUB_OFFLINE"] = "1"
    demo = pd.read_csv(DEMO_CSV)["text"].astype(str).tolist()
    texts = (demo * (args.texts // len(demo) + 1))[: args.texts]
    texts = [f"{t} (copy {i // len(demo)})" if i >= len(demo) else t for i, t in enumerate(texts)]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["resume"] = resume(texts, Path(tmp), args.seed, args.chunk)
        print(json.dumps({"resume": results["resume"]}), flush=True)
        results["memory"] = memory(args.docs, demo, Path(tmp), args.watch, args.chunk)
        print(json.dumps({"memory": results["memory"]}), flush=True)
    results["fp32"] = fp32_share(demo)
    print(json.dumps({"fp32": results["fp32"]}), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    bounded = results["memory"]["peak_rss_watched_mb"] < RSS_LIMIT_MB
    return 0 if results["resume"]["ok"] and bounded else 1


if __name__ == "__main__":
    sys.exit(main())
