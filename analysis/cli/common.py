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
    """Progress lines on stderr with rate and time left, the same text a job shows in the app.

    At most one line per percent or per ``EVERY_SECONDS``, whichever comes first, so logs stay
    short on small runs and a long run (a percent of a million texts is minutes) still says it
    is alive.
    """

    EVERY_SECONDS = 10.0

    def __init__(self, label: str, unit: str = "") -> None:
        from analysis.core.jobs import Job

        self._job = Job(job_id="cli", label=label, key="cli", unit=unit, status="running")
        self._last_percent = -1
        self._last_line = 0.0

    def __call__(self, done: int, total: int, stage: str | None = None) -> None:
        from time import monotonic

        self._job.report(done, total, stage)
        percent = 100 * done // max(total, 1)
        now = monotonic()
        if percent != self._last_percent or now - self._last_line >= self.EVERY_SECONDS:
            self._last_percent, self._last_line = percent, now
            print(f"{self._job.progress_text(now)} ({percent}%)", file=sys.stderr, flush=True)
