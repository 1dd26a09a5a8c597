"""The progress callback every long computation accepts: ``progress(done, total)``.

It lives in the core, not with the encoders, because corpus ingest, projections, table properties
and jobs report progress too and have nothing to do with models.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[int, int], None]


class JobCancelled(BaseException):
    """Raised by a background job's progress callback once the user has asked to cancel it.

    Work stops at its next progress report, before its single closing write transaction, so a
    cancelled job leaves nothing half-written. A BaseException (like KeyboardInterrupt) so that
    ``except Exception`` around a step cannot swallow the cancel and carry on.
    """
