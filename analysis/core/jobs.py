"""Long work (embedding, projections, analyses) in background threads that outlive a page rerun.

Streamlit reruns the page script whenever the user touches a widget, which would abort work done
inline. Jobs run here instead; pages keep only a job id (or find the job again by its key after a
reload) and poll its progress. A job can be cancelled: a queued one never starts, a running one
stops at its next progress report, before it writes anything.

One worker thread, so jobs run one at a time: torch already spreads one forward pass over both
cores of this machine. Measured on it, two 300-text encodes (two models) took 5.6-5.9 s at once
against 6.4 s one after the other: no real gain in all, and the first result came twice as late.
Threads, not a worker process, because DuckDB lets one process at a time open the store file.
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
from time import monotonic
from typing import Any

from analysis.core.errors import UserError
from analysis.core.progress import JobCancelled, ProgressFn

Work = Callable[[ProgressFn], Any]

WORKERS = 1
CONCURRENCY_NOTE = (
    "Jobs run one at a time: on 2 cores two at once take as long in all, and the first ends later."
)


@dataclass
class Job:
    """One piece of background work and what the page needs to show about it."""

    job_id: str
    label: str
    key: str
    unit: str = ""  # what ``done`` counts ('texts'), shown after the numbers
    stage: str = ""  # the named stage of a multi-stage job ('layout epochs'), if it reports one
    status: str = "queued"  # queued | running | done | failed | cancelled
    done: int = 0
    total: int = 0
    error: str | None = None
    result: Any = None
    cancel_requested: bool = False
    submitted: float = field(default_factory=monotonic)
    started: float | None = None
    finished: float | None = None
    first_report: tuple[float, int] | None = None  # (time, done): where the rate is measured from
    last_report: float | None = None

    def report(self, done: int, total: int, stage: str | None = None) -> None:
        """The work's progress callback; raises JobCancelled once a cancel was asked.

        Not on the last step (done == total): work may report it after its closing write (a map
        does), and stopping there would call a stored result cancelled. ``stage`` names the
        stage the numbers count within (``core.progress.report_stage``); a new stage starts a
        new rate.
        """
        if self.cancel_requested and done < total:
            raise JobCancelled
        now = monotonic()
        new_stage = stage is not None and stage != self.stage
        if new_stage:
            self.stage = stage or ""
        if self.first_report is None or total != self.total or done < self.done or new_stage:
            self.first_report = (now, done)  # a new stretch of work (a next phase): a new rate
        self.last_report = now
        self.done, self.total = done, total

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def rate(self) -> float | None:
        """Units per second since the first report; None until there is a measurable stretch."""
        if self.first_report is None or self.last_report is None:
            return None
        since, done_then = self.first_report
        elapsed = self.last_report - since
        if elapsed <= 0 or self.done <= done_then:
            return None
        return (self.done - done_then) / elapsed

    def seconds_left(self, now: float | None = None) -> float | None:
        """Time to the end at the rate so far, less the time since the latest report."""
        rate = self.rate
        if rate is None or self.last_report is None:
            return None
        since_report = (now if now is not None else monotonic()) - self.last_report
        return max(0.0, (self.total - self.done) / rate - since_report)

    def progress_text(self, now: float | None = None) -> str:
        """'Embedding X: 320/600 texts · 45/s · ~6 s left' (as much of it as is known yet)."""
        now = now if now is not None else monotonic()
        if self.cancel_requested and self.active:
            return f"{self.label}: cancelling…"
        if not self.total:  # no report yet (loading a model), or work that reports none
            since = f" for {_duration(now - self.started)}" if self.started is not None else ""
            return f"{self.label}: running{since}…"
        unit = f" {self.unit}" if self.unit else ""
        stage = f" ({self.stage})" if self.stage else ""
        parts = [f"{self.label}{stage}: {self.done:,}/{self.total:,}{unit}"]
        rate = self.rate
        left = self.seconds_left(now)
        if rate is not None and left is not None:
            parts.append(f"{rate:,.0f}/s" if rate >= 10 else f"{rate:.1f}/s")
            if self.done < self.total:
                parts.append(f"~{_duration(left)} left")
        return " · ".join(parts)


def _duration(seconds: float) -> str:
    """'6 s' or '3 min': time left, to the second while it is short."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th ... 11th, 12th, 13th ... 21st."""
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class JobRunner:
    """Runs jobs in submission order; a job with the key of an active job is not started twice."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="embedlens-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(self, label: str, work: Work, key: str | None = None, unit: str = "") -> Job:
        """Queue ``work``; the active job with this key instead, unless it is being cancelled."""
        with self._lock:
            existing = self._find(key) if key is not None else None
            if existing is not None and not existing.cancel_requested:
                return existing
            job = Job(job_id=uuid.uuid4().hex, label=label, key=key or uuid.uuid4().hex, unit=unit)
            self._jobs[job.job_id] = job
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str | None) -> Job | None:
        return self._jobs.get(job_id) if job_id else None

    def find(self, key: str) -> Job | None:
        """The newest queued or running job with this key: how a reloaded page finds its job."""
        with self._lock:
            return self._find(key)

    def _find(self, key: str | None) -> Job | None:
        matches = [job for job in self._jobs.values() if job.key == key and job.active]
        return matches[-1] if matches else None

    def active(self) -> list[Job]:
        """Queued and running jobs in the order they run."""
        return [job for job in list(self._jobs.values()) if job.active]

    def cancel(self, job_id: str) -> Job | None:
        """A queued job ends at once and never starts; a running one stops at its next report."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or not job.active:
                return job
            job.cancel_requested = True
            if job.status == "queued":
                job.status, job.finished = "cancelled", monotonic()
            return job

    def position(self, job: Job) -> tuple[int, Job | None]:
        """A queued job's place in line (the running job is 1st) and the job right ahead of it."""
        line = self.active()
        if job not in line:
            return 0, None
        index = line.index(job)
        return index + 1, line[index - 1] if index else None

    def describe(self, job: Job) -> str:
        """One line for the progress bar: the progress, or for a queued job what it waits for."""
        if job.status != "queued":
            return job.progress_text()
        place, ahead = self.position(job)
        if ahead is None:
            return f"{job.label}: starting…"
        return f"{job.label}: queued: {ordinal(place)} in line, after '{ahead.label}'"

    def wait(self, job_id: str, timeout: float = 600.0) -> Job:
        """Block until a job ends or the timeout passes (tests, the CLI, a Cancel click)."""
        deadline = monotonic() + timeout
        job = self._jobs[job_id]
        while job.active and monotonic() < deadline:
            time.sleep(0.05)
        return job

    def _run(self, job: Job, work: Work) -> None:
        with self._lock:
            if job.status != "queued":  # cancelled while it waited
                return
            job.status, job.started = "running", monotonic()
        try:
            job.result = work(job.report)
            job.status = "done"
        except JobCancelled:
            job.status = "cancelled"
        except UserError as exc:
            job.error, job.status = exc.message, "failed"
        except Exception as exc:  # a bug: keep the app alive, show one line, log the traceback
            traceback.print_exc(file=sys.stderr)
            job.error = f"Internal error: {type(exc).__name__}: {exc}"
            job.status = "failed"
        finally:
            job.finished = monotonic()


_RUNNER: JobRunner | None = None
_RUNNER_LOCK = threading.Lock()


def job_runner() -> JobRunner:
    """The process-wide runner shared by every browser session."""
    global _RUNNER
    with _RUNNER_LOCK:
        if _RUNNER is None:
            _RUNNER = JobRunner()
        return _RUNNER
