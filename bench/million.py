"""Issue #14's benchmark group: a million documents on one machine, every row in one command.

    .venv/bin/python bench/million.py [--quick] [--only ingest search map umap embed] [--out DIR]

Runs, one after another (never side by side: each would slow the others on 2 cores), the scripts
that measure one concern each at 1,000,000 documents (``--quick``: their small sizes):

- ``million_ingest.py``: `python -m analysis ingest` of 1M-row Parquet and CSV files of real
  texts, with and without a vector column: time and peak RSS, against the plain library read;
- ``million_search.py``: top-10 search over 1M x 384 with the approximate index, latency and
  recall@10 against numpy exact search, index build time and size;
- ``million_map.py``: the Map page on a stored 1M-point map, server time to open and to rerun,
  and the figure payload sent to the browser; a box selection and its export;
- ``million_umap.py``: UMAP on all points against UMAP fitted on a sample with the rest placed by
  ``transform``: time, peak RSS, trustworthiness and kNN recall on the same evaluation sample;
- ``embed_scaling.py``: `embed` on a 1M-document corpus watched for RSS, plus resume after a kill.

Each script prints its own table and writes its JSON into ``--out`` (default a new folder under
``bench/results/``); this script prints where, and exits 1 when any of them did.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = {
    "ingest": "million_ingest.py",
    "search": "million_search.py",
    "map": "million_map.py",
    "umap": "million_umap.py",
    "embed": "embed_scaling.py",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each script's small sizes")
    parser.add_argument("--only", nargs="+", choices=list(SCRIPTS), default=list(SCRIPTS))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or ROOT / "bench" / "results" / time.strftime("million-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in args.only:
        command = [sys.executable, str(ROOT / "bench" / SCRIPTS[name]), "--json"]
        command += [str(out / f"{name}.json"), *(["--quick"] if args.quick else [])]
        print(f"\n== {name}: {' '.join(command[1:])}", flush=True)
        start = time.perf_counter()
        code = subprocess.run(command, cwd=ROOT).returncode
        print(f"== {name}: exit {code} after {time.perf_counter() - start:.0f} s", flush=True)
        if code != 0:
            failed.append(name)
    print(f"\nJSON results in {out}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
