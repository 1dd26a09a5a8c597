"""The one contract every analysis implements, from a page, the command line or a report alike.

An analysis is a frozen, validated request bound to a store and a scope (a corpus, or a set of
tables). Binding resolves the request once, against the store, into canonical parameters: model
names become weight-hashed keys, defaults are filled in, samples are drawn. Everything that
identifies the work derives from those parameters here, in one place: the stored-result key, the
background-job key and the provenance line. So a result the page made is the one the CLI finds,
and two spellings of the same request ('default' and the model's name) are one job.

The rest of the contract is what a page needs to show the analysis without knowing which one it
is: ``find`` (the stored result, or None), ``run(progress)`` (compute, store, return), an
``estimate`` said before running, the ``reading`` (one line) and the ``figures`` with their data.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from analysis.core.progress import ProgressFn
from analysis.core.results import StoredResult, cached_result, find_result, params_key
from analysis.core.store import Store

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

ResultT = TypeVar("ResultT")

#: How far an estimate may be off either way on a shared 2-core machine; said as a range.
ESTIMATE_SPREAD = 0.5


@dataclass(frozen=True)
class Scope:
    """What an analysis runs on: a stored corpus (its id) or tables (no corpus id)."""

    scope_id: int | None
    name: str


@dataclass(frozen=True)
class Estimate:
    """Seconds a run should take on this machine, and what that figure rests on."""

    seconds: float
    basis: str = ""

    @property
    def low(self) -> float:
        return self.seconds * (1 - ESTIMATE_SPREAD)

    @property
    def high(self) -> float:
        return self.seconds * (1 + ESTIMATE_SPREAD)

    def describe(self) -> str:
        """'about 20-60 s (basis)': an estimate should not look more precise than it is."""
        text = f"Estimated time: {seconds_range(self.low, self.high)}"
        return f"{text} ({self.basis})." if self.basis else f"{text}."


def format_seconds(seconds: float) -> str:
    """'about 40 s' / 'about 3 min', rounded so it does not look more precise than it is."""
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5):.0f} s"
    return f"about {round(seconds / 60):.0f} min"


def seconds_range(low: float, high: float) -> str:
    """'a few seconds', '10-30 s' or '2-5 min': the unit chosen by the upper end."""
    if high < 5:
        return "a few seconds"
    if high < 90:
        return f"{max(1, round(low)):.0f}-{max(2, round(high)):.0f} s"
    return f"{max(1, round(low / 60)):.0f}-{max(2, round(high / 60)):.0f} min"


@dataclass(frozen=True)
class ChartSpec:
    """One figure of a result, with what a page needs to show, export and pin it."""

    key: str  # unique on its page; also the stem of exported files
    figure: go.Figure
    analysis: str  # the export / report name, e.g. 'probe-accuracy'
    model: str
    data: pd.DataFrame | None = None
    what: str = ""  # one sentence on what the figure measures, shown above it


def provenance(params: Mapping[str, Any]) -> str:
    """Canonical parameters as one line, in a stable order: how a number was computed."""
    parts = []
    for name in sorted(params):
        value = params[name]
        if value is None or value == [] or value == {}:
            continue
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        parts.append(f"{name} = {shown}")
    return " · ".join(parts)


class Analysis(ABC, Generic[ResultT]):
    """A request bound to a store and a scope, with its canonical parameters resolved once.

    Subclasses keep their frozen request as ``self.request``, set it before calling
    ``super().__init__``, and implement ``canonical_params`` (called exactly once, here).
    """

    kind: ClassVar[str]  # stored-result kind and job-key prefix
    title: ClassVar[str]  # what the analysis is called in job lists and messages

    def __init__(self, store: Store, scope: Scope) -> None:
        self.store = store
        self.scope = scope
        self.params: Mapping[str, Any] = MappingProxyType(self.canonical_params())

    @abstractmethod
    def canonical_params(self) -> dict[str, Any]:
        """Every parameter that changes the result, resolved against the store; JSON-able."""

    @property
    def key(self) -> str:
        """The stored-result key: canonical JSON of the parameters."""
        return params_key(dict(self.params))

    @property
    def job_key(self) -> str:
        """One background job per kind, scope and canonical parameters."""
        return f"{self.kind}:{self.scope.scope_id}:{self.key}"

    @property
    def label(self) -> str:
        """The job's name in the job list: what runs on what."""
        return f"{self.title} of {self.scope.name}"

    def provenance(self) -> str:
        return f"{self.title} of {self.scope.name}: {provenance(self.params)}"

    @abstractmethod
    def find(self) -> ResultT | None:
        """The stored result for exactly these parameters, or None; never computes."""

    @abstractmethod
    def run(self, progress: ProgressFn | None = None) -> ResultT:
        """The stored result, or compute it (reporting progress), store it and return it."""

    @abstractmethod
    def estimate(self) -> Estimate:
        """How long ``run`` will take on this machine, said before it starts."""

    @abstractmethod
    def reading(self, result: ResultT) -> str:
        """The one line that says what the result means, with the numbers behind it."""

    @abstractmethod
    def figures(self, result: ResultT, view: Mapping[str, Any] | None = None) -> list[ChartSpec]:
        """The result's figures; ``view`` holds display choices that change no number."""

    def notices(self, result: ResultT) -> list[str]:
        """Warnings that qualify the result (skipped items, small samples ...)."""
        return []

    def stored_note(self, result: ResultT) -> str:
        """When and how fast the shown result was computed."""
        return ""


class StoredAnalysis(Analysis[StoredResult]):
    """An analysis whose result is one row of ``analysis_results``: find and run come free."""

    def find(self) -> StoredResult | None:
        return find_result(self.store, self.kind, dict(self.params), self.scope.scope_id)

    def run(self, progress: ProgressFn | None = None) -> StoredResult:
        return cached_result(
            self.store,
            self.kind,
            dict(self.params),
            lambda: self.compute(progress),
            self.scope.scope_id,
        )

    @abstractmethod
    def compute(self, progress: ProgressFn | None) -> dict[str, Any]:
        """The result as JSON-able data; only called when nothing is stored."""

    def notices(self, result: StoredResult) -> list[str]:
        return list(result.result.get("notices", []))

    def stored_note(self, result: StoredResult) -> str:
        return f"Stored result from {result.created_at[:19]} (computed in {result.seconds:.1f} s)"
