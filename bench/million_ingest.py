"""Ingest at a million rows: `python -m analysis ingest` on Parquet, CSV and Parquet with vectors.

Each row runs the real command as a subprocess into a fresh temporary store and reports its wall
time and peak RSS (the child's ru_maxrss, measured by a small wrapper process per run so runs do
not share a maximum). Beside each, the plain library call: DuckDB reading the same file into a
table (`CREATE TABLE AS SELECT * FROM read_parquet/read_csv`), also in its own process.

Texts are real English from disk, no downloads: sentences from the docstrings and comments of the
Python standard library, joined 1-3 at a time (seeded). Metadata: a topic label (12 values) and an
integer score. Vectors: seeded random unit vectors, 384-d. Generated files are cached under
/tmp/embedlens_million so reruns skip the generation.

    python bench/million_ingest.py                # 1,000,000 rows
    python bench/million_ingest.py --quick        # 20,000 rows
    python bench/million_ingest.py --n 200000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path("/tmp/embedlens_million")
SEED = 14
DIM = 384
TOPICS = [f"topic_{i:02d}" for i in range(12)]
_WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "seconds = time.perf_counter() - start\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(done.returncode, seconds, peak)\n"
    "sys.stderr.write(done.stderr[-2000:] if done.returncode else '')\n"
)


def sentences() -> list[str]:
    """Sentences of 5-60 words from stdlib docstrings and comments."""
    found: set[str] = set()
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py")):
        try:
            source = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        prose = " ".join(
            line.strip().lstrip("#").strip()
            for line in source.splitlines()
            if line.strip().startswith("#") or re.match(r"^\s+[A-Z][a-z]+ [a-z]+ ", line)
        )
        for sentence in re.split(r"(?<=[.!?])\s+", prose):
            words = sentence.split()
            if 5 <= len(words) <= 60 and sentence[0].isupper():
                found.add(" ".join(words))
    return sorted(found)


def build_files(n: int) -> dict[str, Path]:
    """The Parquet, CSV and Parquet-with-vectors files of n rows, generated once and cached."""
    CACHE.mkdir(exist_ok=True)
    paths = {
        "parquet": CACHE / f"docs_{n}.parquet",
        "csv": CACHE / f"docs_{n}.csv",
        "vectors": CACHE / f"docs_{n}_vectors.parquet",
    }
    if all(path.exists() for path in paths.values()):
        return paths
    rng = np.random.default_rng(SEED)
    pool = np.array(sentences(), dtype=object)
    print(f"generating {n:,} rows from {len(pool):,} stdlib sentences ...", file=sys.stderr)
    counts = rng.integers(1, 4, size=n)
    picks = rng.integers(0, len(pool), size=int(counts.sum()))
    texts, at = [], 0
    for count in counts:
        texts.append(" ".join(pool[picks[at : at + count]]))
        at += count
    table = pa.table(
        {
            "text": pa.array(texts, pa.string()),
            "topic": pa.array(np.array(TOPICS, dtype=object)[rng.integers(0, 12, size=n)]),
            "score": pa.array(rng.integers(0, 1000, size=n)),
        }
    )
    pq.write_table(table, paths["parquet"], row_group_size=50_000)
    pacsv.write_csv(table, paths["csv"])
    writer = None
    for start in range(0, n, 50_000):
        part = table.slice(start, 50_000)
        matrix = rng.standard_normal((part.num_rows, DIM)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        flat = pa.array(matrix.reshape(-1))
        part = part.append_column("embedding", pa.FixedSizeListArray.from_arrays(flat, DIM))
        writer = writer or pq.ParquetWriter(paths["vectors"], part.schema)
        writer.write_table(part)
    assert writer is not None
    writer.close()
    return paths


def measured(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one command, run under its own wrapper process."""
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    code, seconds, peak_kb = out.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed:\n{out.stderr}")
    return float(seconds), int(peak_kb) / 1024


def plain_duckdb(path: Path, db: Path) -> list[str]:
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    script = (
        "import duckdb, sys\n"
        "con = duckdb.connect(sys.argv[1])\n"
        f"con.execute(\"CREATE TABLE t AS SELECT * FROM {reader}('{path}')\")\n"
        "print(con.execute('SELECT count(*) FROM t').fetchone()[0], file=sys.stderr)\n"
    )
    return [sys.executable, "-c", script, str(db)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="rows (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="20,000 rows")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    n = 20_000 if args.quick else args.n
    paths = build_files(n)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "EMBEDLENS_NO_WARMUP": "1"}
    rows = []
    for label, key, extra in (
        ("Parquet", "parquet", []),
        ("CSV", "csv", []),
        ("Parquet + 384-d vectors", "vectors", ["--vector-column", "embedding"]),
    ):
        path = paths[key]
        with tempfile.TemporaryDirectory() as tmp:
            ours = measured(
                [
                    sys.executable,
                    "-m",
                    "analysis",
                    "ingest",
                    str(path),
                    "--name",
                    "m",
                    "--db",
                    str(Path(tmp) / "s.duckdb"),
                    *extra,
                ],
                env,
            )
            plain = measured(plain_duckdb(path, Path(tmp) / "plain.duckdb"), env)
        rows.append(
            {
                "input": label,
                "rows": n,
                "file_mb": round(path.stat().st_size / 2**20, 1),
                "seconds": round(ours[0], 1),
                "rows_per_s": round(n / ours[0]),
                "peak_rss_mb": round(ours[1]),
                "duckdb_seconds": round(plain[0], 1),
                "duckdb_peak_rss_mb": round(plain[1]),
            }
        )
        print(f"done: {label}", file=sys.stderr)
    header = (
        f"{'input':<25}{'rows':>11}{'file MB':>9}{'seconds':>9}{'rows/s':>9}{'peak RSS MB':>13}"
        f"{'| duckdb s':>11}{'duckdb RSS MB':>15}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['input']:<25}{r['rows']:>11,}{r['file_mb']:>9}{r['seconds']:>9}"
            f"{r['rows_per_s']:>9,}{r['peak_rss_mb']:>13,}{r['duckdb_seconds']:>11}"
            f"{r['duckdb_peak_rss_mb']:>15,}"
        )
    print(
        "ours: python -m analysis ingest (read, clean, hash, count tokens with the bundled "
        "tokenizer, write in one transaction); duckdb: CREATE TABLE AS SELECT * FROM the file. "
        "One run each; wall time; peak RSS = ru_maxrss of the process."
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "time": time.time()}, indent=2))


if __name__ == "__main__":
    main()
