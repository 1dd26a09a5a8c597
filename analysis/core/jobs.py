"""Long work (embedding, projections, analyses) in background threads that outlive a page rerun.

Streamlit reruns the page script whenever the user touches a widget, which would abort work done
inline. Jobs run here instead; pages keep only a job id and poll its progress. One worker thread:
on a 2-core machine two models encoding at once are slower than one after the other.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn

Work = Callable[[ProgressFn], Any]


@dataclass
class Job:
    """One piece of background work and what the page needs to show about it."""

    job_id: str
    label: str
    key: str
    status: str = "queued"  # queued | running | done | failed
    done: int = 0
    total: int = 0
    error: str | None = None
    result: Any = None
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def report(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


class JobRunner:
    """Runs jobs one at a time; a job with the key of an active job is not started twice."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedlens-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(self, label: str, work: Work, key: str | None = None) -> Job:
        with self._lock:
            if key is not None:
                for job in self._jobs.values():
                    if job.key == key and job.active:
                        return job
            job = Job(job_id=uuid.uuid4().hex, label=label, key=key or uuid.uuid4().hex)
            self._jobs[job.job_id] = job
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str | None) -> Job | None:
        return self._jobs.get(job_id) if job_id else None

    def active(self) -> list[Job]:
        return [job for job in self._jobs.values() if job.active]

    def wait(self, job_id: str, timeout: float = 600.0) -> Job:
        """Block until a job ends (for tests and the CLI)."""
        deadline = time.time() + timeout
        job = self._jobs[job_id]
        while job.active and time.time() < deadline:
            time.sleep(0.05)
        return job

    @staticmethod
    def _run(job: Job, work: Work) -> None:
        job.status = "running"
        try:
            job.result = work(job.report)
            job.status = "done"
        except UserError as exc:
            job.error, job.status = exc.message, "failed"
        except Exception as exc:  # a bug: keep the app alive, show one line, log the traceback
            traceback.print_exc(file=sys.stderr)
            job.error = f"Internal error: {type(exc).__name__}: {exc}"
            job.status = "failed"
        finally:
            job.finished = time.time()


_RUNNER: JobRunner | None = None
_RUNNER_LOCK = threading.Lock()


def job_runner() -> JobRunner:
    """The process-wide runner shared by every browser session."""
    global _RUNNER
    with _RUNNER_LOCK:
        if _RUNNER is None:
            _RUNNER = JobRunner()
        return _RUNNER
