"""The job runner: cancel (running and queued), nothing stored after a cancel, the queue's order
and what a queued job says, finding a job again by its key, and the progress text."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pandas as pd
import pytest

from analysis.core import jobs as jobs_module
from analysis.core.analysis import ChartSpec, Estimate, Scope, StoredAnalysis
from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.core.jobs import Job, JobRunner, ordinal
from analysis.core.progress import ProgressFn
from analysis.core.store import Store
from analysis.corpus.corpora import IngestOptions, get_corpus, load_documents
from analysis.corpus.readers import read_bytes
from analysis.vectors.cache import Representation, cached_hashes
from analysis.vectors.catalogue import corpus_models
from analysis.vectors.embedding import embed_corpus
from analysis.vectors.ingest import ingest
from tests.shared import ANIMAL_TEXTS, DEMO_DOCS, FINANCE_TEXTS, topics_csv

CANCEL_WITHIN = 2.0


@pytest.fixture
def runner() -> Iterator[JobRunner]:
    """A runner of its own (not the process-wide one the pages share); its jobs are cancelled
    at the end so no worker thread outlives the test."""
    own = JobRunner()
    yield own
    for job in own.active():
        own.cancel(job.job_id)


class Gate:
    """Holds a job inside its work until the test lets it go, so the test knows its state."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()

    def hold(self) -> None:
        self.reached.set()
        assert self.release.wait(30), "the test never released the job"


def endless(progress: ProgressFn) -> None:
    """Work that only stops when cancelled: one progress report every 50 ms."""
    done = 0
    while True:
        progress(done, 1_000_000)
        done += 1
        time.sleep(0.05)


def blocked(gate: Gate) -> Callable[[ProgressFn], str]:
    def work(progress: ProgressFn) -> str:
        progress(0, 2)
        gate.hold()
        progress(1, 2)
        progress(2, 2)
        return "finished"

    return work


def test_the_last_report_does_not_cancel_work_that_has_finished(runner: JobRunner) -> None:
    """A map reports its last step after its write: cancelled there, it is done, not cancelled."""
    gate = Gate()

    def stored_then_reported(progress: ProgressFn) -> str:
        progress(0, 1)
        gate.hold()  # here the map writes
        progress(1, 1)
        return "finished"

    job = runner.submit("Map", stored_then_reported)
    assert gate.reached.wait(10)
    runner.cancel(job.job_id)
    gate.release.set()
    assert runner.wait(job.job_id).status == "done"
    assert job.result == "finished"


def test_a_running_job_is_cancelled_within_two_seconds(runner: JobRunner) -> None:
    job = runner.submit("Endless", endless, key="endless")
    deadline = time.monotonic() + 10
    while job.done < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.status == "running"
    asked = time.monotonic()
    runner.cancel(job.job_id)
    assert "cancelling" in runner.describe(job)
    runner.wait(job.job_id, timeout=CANCEL_WITHIN)
    assert job.status == "cancelled"
    assert time.monotonic() - asked < CANCEL_WITHIN
    assert job.error is None and job.result is None
    assert runner.find("endless") is None


def test_a_cancelled_queued_job_never_starts(runner: JobRunner) -> None:
    gate = Gate()
    first = runner.submit("First", blocked(gate), key="first")
    assert gate.reached.wait(10)
    started = threading.Event()
    second = runner.submit("Second", lambda progress: started.set(), key="second")
    assert second.status == "queued"
    runner.cancel(second.job_id)
    assert second.status == "cancelled"  # at once, not when the worker reaches it
    assert not second.active
    gate.release.set()
    assert runner.wait(first.job_id).status == "done"
    assert first.result == "finished"
    time.sleep(0.2)  # the worker has passed the cancelled job by now
    assert not started.is_set()
    assert second.status == "cancelled"


def test_cancel_is_not_swallowed_by_a_broad_except(runner: JobRunner) -> None:
    def careless(progress: ProgressFn) -> str:
        for step in range(1_000):
            # Work that hides its own errors must not hide a cancel.
            with contextlib.suppress(Exception):
                progress(step, 1_000)
            time.sleep(0.02)
        return "ran to the end"

    job = runner.submit("Careless", careless)
    while job.done < 2:
        time.sleep(0.02)
    runner.cancel(job.job_id)
    assert runner.wait(job.job_id, timeout=CANCEL_WITHIN).status == "cancelled"
    assert job.result is None


class SlowCount(StoredAnalysis):
    """A stored analysis whose compute reports progress and waits at a gate between steps."""

    kind = "test:slow-count"
    title = "Slow count"

    def __init__(self, store: Store, gate: Gate) -> None:
        self.gate = gate
        super().__init__(store, Scope(None, "nothing"))

    def canonical_params(self) -> dict[str, Any]:
        return {"steps": 3}

    def compute(self, progress: ProgressFn | None) -> dict[str, Any]:
        assert progress is not None
        for step in range(3):
            progress(step, 3)
            if step == 1:
                self.gate.hold()
        progress(3, 3)
        return {"count": 3}

    def estimate(self) -> Estimate:
        return Estimate(1.0, "a test")

    def reading(self, result: Any) -> str:
        return "counted"

    def figures(self, result: Any, view: Mapping[str, Any] | None = None) -> list[ChartSpec]:
        return []


def test_a_cancelled_stored_analysis_stores_nothing(runner: JobRunner, store: Store) -> None:
    gate = Gate()
    analysis = SlowCount(store, gate)
    job = runner.submit(analysis.label, analysis.run, key=analysis.job_key)
    assert gate.reached.wait(10)
    runner.cancel(job.job_id)
    gate.release.set()
    assert runner.wait(job.job_id, timeout=CANCEL_WITHIN).status == "cancelled"
    assert analysis.find() is None
    assert store.fetch_all("SELECT count(*) FROM analysis_results") == [(0,)]


def test_a_cancelled_embedding_records_nothing(
    runner: JobRunner, store: Store, default_encoder
) -> None:
    """78 texts are three batches: cancelled after the first, neither the corpus record nor any
    vector of the first batch is written."""
    texts = [*ANIMAL_TEXTS, *FINANCE_TEXTS]
    rows = [(t, "short") for t in texts] + [(f"Once more: {t}", "long") for t in texts]
    table = read_bytes(topics_csv(rows), "topics.csv", Limits())
    ingest(store, [table], IngestOptions(name="topics", label_columns=["topic"]))
    gate = Gate()

    def work(progress: ProgressFn) -> object:
        def held(done: int, total: int) -> None:
            progress(done, total)
            if 0 < done < total:
                gate.hold()

        return embed_corpus(store, "topics", "default", held)

    job = runner.submit("Embedding topics", work, key="embed-topics", unit="texts")
    assert gate.reached.wait(120)
    assert job.done == 32 and job.total == len(rows)
    runner.cancel(job.job_id)
    gate.release.set()
    assert runner.wait(job.job_id, timeout=CANCEL_WITHIN).status == "cancelled"
    corpus = get_corpus(store, "topics")
    assert corpus_models(store, corpus) == []
    hashes = load_documents(store, corpus, with_metadata=False)["text_sha256"].tolist()
    info = default_encoder.info
    assert cached_hashes(store, info.model_key, info.dim, Representation(), hashes) == set()


def test_embedding_the_longest_texts_is_cancelled_within_two_seconds(
    runner: JobRunner, store: Store, default_encoder
) -> None:
    """Texts that fill the model window are the slowest batches; a cancel still lands in 2 s."""
    longest = pd.read_csv(DEMO_DOCS)["text"].sort_values(key=lambda t: -t.str.len()).head(200)
    table = read_bytes(
        pd.DataFrame({"text": longest}).to_csv(index=False).encode(), "long.csv", Limits()
    )
    ingest(store, [table], IngestOptions(name="long"))
    job = runner.submit(
        "Embedding long",
        lambda progress: embed_corpus(store, "long", "default", progress),
        key="embed-long",
    )
    deadline = time.monotonic() + 120
    while job.done == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert 0 < job.done < job.total
    asked = time.monotonic()
    runner.cancel(job.job_id)
    runner.wait(job.job_id, timeout=10)
    assert job.status == "cancelled"
    assert time.monotonic() - asked < CANCEL_WITHIN


def test_queued_jobs_say_their_place_and_what_they_wait_for(runner: JobRunner) -> None:
    gate = Gate()
    first = runner.submit("Probing of docs", blocked(gate), key="a")
    assert gate.reached.wait(10)
    second = runner.submit("Embedding docs with default", lambda p: "b", key="b")
    third = runner.submit("Map of docs", lambda p: "c", key="c")
    assert runner.active() == [first, second, third]
    assert runner.position(second) == (2, first)
    assert runner.position(third) == (3, second)
    assert runner.describe(second) == (
        "Embedding docs with default: queued: 2nd in line, after 'Probing of docs'"
    )
    assert runner.describe(third) == (
        "Map of docs: queued: 3rd in line, after 'Embedding docs with default'"
    )
    runner.cancel(second.job_id)
    assert runner.position(third) == (2, first)
    gate.release.set()
    assert runner.wait(third.job_id).result == "c"
    assert runner.position(third) == (0, None)


def test_a_job_is_found_by_its_key_while_active_and_not_started_twice(
    runner: JobRunner,
) -> None:
    gate = Gate()
    job = runner.submit("Probing of docs", blocked(gate), key="probe:1:{}")
    assert runner.find("probe:1:{}") is job
    assert runner.find("probe:2:{}") is None
    assert runner.submit("Probing again", blocked(gate), key="probe:1:{}") is job
    assert gate.reached.wait(10)
    runner.cancel(job.job_id)
    again = runner.submit("Probing again", lambda p: "again", key="probe:1:{}")
    assert again is not job, "a job being cancelled is not handed out for a new run"
    assert runner.find("probe:1:{}") is again
    gate.release.set()
    assert runner.wait(again.job_id).result == "again"
    assert job.status == "cancelled"
    assert runner.find("probe:1:{}") is None


def test_failures_are_reported_not_raised(runner: JobRunner) -> None:
    def refused(progress: ProgressFn) -> None:
        raise UserError("Pick a label column first.")

    def broken(progress: ProgressFn) -> None:
        raise RuntimeError("boom")

    assert runner.wait(runner.submit("A", refused).job_id).error == "Pick a label column first."
    failed = runner.wait(runner.submit("B", broken).job_id)
    assert failed.status == "failed"
    assert failed.error == "Internal error: RuntimeError: boom"


def test_progress_text_says_rate_and_time_left(monkeypatch) -> None:
    clock = iter([100.0, 107.0, 113.0])
    monkeypatch.setattr(jobs_module, "monotonic", lambda: next(clock))
    job = Job(job_id="j", label="Embedding docs", key="k", unit="texts", status="running")
    job.started = 96.0
    assert job.progress_text(now=99.6) == "Embedding docs: running for 4 s…"  # loading a model
    job.report(0, 600)
    assert job.progress_text(now=100.0) == "Embedding docs: 0/600 texts"
    job.report(320, 600)  # 320 texts in 7 s: 46/s, 280 left: about 6 s
    assert job.progress_text(now=107.0) == "Embedding docs: 320/600 texts · 46/s · ~6 s left"
    assert job.progress_text(now=110.0) == "Embedding docs: 320/600 texts · 46/s · ~3 s left"
    assert job.seconds_left(now=120.0) == 0.0
    assert job.fraction == pytest.approx(320 / 600)
    job.report(600, 600)  # done: the rate stays, no time left is claimed
    assert job.progress_text(now=113.0) == "Embedding docs: 600/600 texts · 46/s"


def test_a_next_phase_starts_a_new_rate() -> None:
    job = Job(job_id="j", label="Probing", key="k", status="running")
    job.report(0, 600)
    job.first_report, job.last_report = (0.0, 0), 10.0
    job.report(600, 600)
    job.report(1, 12)  # layers now, not texts: the texts' rate says nothing about them
    assert job.rate is None
    assert job.progress_text() == "Probing: 1/12"


def test_slow_work_says_minutes_and_decimals() -> None:
    job = Job(job_id="j", label="Probing", key="k", status="running")
    job.first_report, job.last_report = (0.0, 0), 10.0
    job.done, job.total = 20, 500  # 2/s, 480 left: 4 min
    assert job.progress_text(now=10.0) == "Probing: 20/500 · 2.0/s · ~4 min left"


def test_ordinals() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
        "111th",
    ]
