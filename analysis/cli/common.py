"""What every command module shares: the --db option, the store it names, progress on stderr.

Command modules import from here and never from each other or from ``cli.main``, so this module
imports no other ``analysis.cli`` module. It stays light (the store is opened lazily) because
building the parser imports it, and ``--help`` should not wait for DuckDB.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analysis.core.store import Store

DB_HELP = "DuckDB store (default: $EMBEDLENS_DB or data/embedlens.duckdb)"


def common_parser() -> argparse.ArgumentParser:
    """The parent of every subcommand: --db is accepted after the command name too.

    Its default is suppressed so that a --db given before the command is not overwritten.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=DB_HELP)
    return common


def open_args_store(args: argparse.Namespace) -> Store:
    """The store named by --db, or the default one."""
    from analysis.core.store import open_store

    return open_store(getattr(args, "db", None))


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
