"""Compile numba code once per server process, in the background, before anyone asks for a map."""

from __future__ import annotations

import os
import sys
import threading
import traceback

_STARTED = threading.Event()


def _run() -> None:
    try:
        from analysis.map.projection import warm_up

        warm_up()
    except Exception:  # a failed warm-up only costs the first map some seconds; say why
        traceback.print_exc(file=sys.stderr)


def start_warm_up() -> bool:
    """Start the warm-up thread unless it ran already or EMBEDLENS_NO_WARMUP is set."""
    if _STARTED.is_set() or os.environ.get("EMBEDLENS_NO_WARMUP"):
        return False
    _STARTED.set()
    threading.Thread(target=_run, name="embedlens-warm-up", daemon=True).start()
    return True
