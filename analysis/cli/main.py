"""``python -m analysis``: every analysis from the command line, one JSON object on stdout.

Progress goes to stderr so stdout stays machine-readable. Exit codes: 0 success, 2 bad input (one
line on stderr, no traceback), 1 an internal error (one line; EMBEDLENS_DEBUG=1 shows the
traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType

from analysis.cli import compare, corpus, length, map, probe, report, tables
from analysis.cli.common import DB_HELP, common_parser
from analysis.core.errors import UserError

# Every command module has one shape: register(sub, common) adds its parsers (with
# parents=[common] for --db) and sets each one's handler with set_defaults(handler=...).
# This order is the order of the commands in --help.
COMMAND_MODULES: tuple[ModuleType, ...] = (corpus, map, report, length, probe, compare, tables)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="EmbedLens engine: ingest, embed and analyse corpora; prints JSON on stdout.",
    )
    parser.add_argument("--db", default=None, help=DB_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = common_parser()
    for module in COMMAND_MODULES:
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = args.handler(args)
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
