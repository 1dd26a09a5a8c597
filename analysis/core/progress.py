"""The progress callback every long computation accepts: ``progress(done, total)``.

It lives in the core, not with the encoders, because corpus ingest, projections, table properties
and jobs report progress too and have nothing to do with models.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[int, int], None]
