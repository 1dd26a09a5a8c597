"""The progress callback every long computation accepts: ``progress(done, total)``.

It lives in the core, not with the encoders, because corpus ingest, projections, table properties
and jobs report progress too and have nothing to do with models.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

ProgressFn = Callable[[int, int], None]


class JobCancelled(BaseException):
    """Raised by a background job's progress callback once the user has asked to cancel it.

    Work stops at its next progress report, before its single closing write transaction, so a
    cancelled job leaves nothing half-written. A BaseException (like KeyboardInterrupt) so that
    ``except Exception`` around a step cannot swallow the cancel and carry on.
    """


def report_stage(progress: ProgressFn, done: int, total: int, stage: str) -> None:
    """Progress within a named stage of a multi-stage computation ('layout epochs').

    A callback that shows stages (a background job's ``report``, which takes ``stage``) gets the
    name, so the page can say which stage the fraction and time left belong to; any other
    ``progress(done, total)`` gets the numbers only.
    """
    if "stage" in inspect.signature(progress).parameters:
        progress(done, total, stage=stage)  # type: ignore[call-arg]
    else:
        progress(done, total)
