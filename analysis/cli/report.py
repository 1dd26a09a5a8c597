"""``python -m analysis report NAME --out DIR``: a corpus's standard figures as files.

The report package (pandas, plotly and every analysis it draws) is imported inside the handler
so building the parser stays fast.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from analysis.cli.common import StderrProgress, open_args_store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
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
    p.add_argument(
        "--title", help="heading of report.html and index.md (default: named after the corpus)"
    )
    p.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> dict[str, Any]:
    from analysis.report.standard import write_report

    start = time.perf_counter()
    files = write_report(
        open_args_store(args),
        args.name,
        Path(args.out),
        args.analyses,
        args.formats,
        args.model,
        StderrProgress("map"),
        args.title,
    )
    return {
        "corpus": args.name,
        "files": [str(path) for path in files],
        "seconds": round(time.perf_counter() - start, 3),
    }
