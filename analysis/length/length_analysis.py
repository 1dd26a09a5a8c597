"""The length analysis on the common contract: one request bound to a store and a corpus.

Its result is composed: one stored row per attention temperature (plus one attention row per
temperature when asked for), each keyed by that temperature's parameters, so a sweep that adds a
temperature reuses the ones already computed and a finished analysis reopens instantly after a
restart. The canonical parameters name the whole request (every temperature, attention or not):
that is the one background job a page, the CLI or a report starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from analysis.core.analysis import Analysis, ChartSpec, Estimate
from analysis.core.progress import ProgressFn
from analysis.core.results import StoredResult, cached_result, find_result
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus
from analysis.length.attention import attention_diagnostics, subsample_size
from analysis.length.collapse import LengthReport, analyse_tau, prepare
from analysis.length.figures import figures_for
from analysis.length.sample import LengthRequest

KIND = "length_collapse"
ATTENTION_KIND = "length_attention"
REFERENCE_TAU = 1.0  # always part of a request; the per-τ charts show it unless told otherwise


class LengthAnalysis(Analysis[LengthReport]):
    """Length collapse and the TempScale what-if on one corpus, every temperature of a request.

    Binding loads the model and draws the sample (``prepare``): the expensive step, so a page
    keeps the bound analysis across reruns.
    """

    kind = KIND
    title = "Length analysis"

    def __init__(self, store: Store, corpus: Corpus, request: LengthRequest) -> None:
        self.corpus, self.request = corpus, request
        self.prepared = prepare(store, corpus, request)
        super().__init__(store, corpus.scope)

    def canonical_params(self) -> dict[str, Any]:
        """Every temperature and the attention flag: one job for the whole request.

        Each stored row keeps its own per-temperature parameters (``Prepared.params``).
        """
        return {
            **self.prepared.params(REFERENCE_TAU),
            "tau": list(self.request.taus),
            "attention": self.request.attention,
        }

    def _kinds(self) -> tuple[str, ...]:
        return (KIND, ATTENTION_KIND) if self.request.attention else (KIND,)

    def find(self) -> LengthReport | None:
        """The stored report for exactly this request, or None if any part is missing."""
        rows = {}
        for tau in self.request.taus:
            for kind in self._kinds():
                stored = find_result(
                    self.store, kind, self.prepared.params(tau), self.scope.scope_id
                )
                if stored is None:
                    return None
                rows[kind, tau] = stored
        return self._report(rows)

    def run(self, progress: ProgressFn | None = None) -> LengthReport:
        """Every temperature of the request, from the store where possible, computed otherwise."""
        prepared, request = self.prepared, self.request
        sample = prepared.sample
        attention_texts = subsample_size(sample) if request.attention else 0
        step = sample.n_texts + attention_texts
        total = step * len(request.taus)
        rows = {}
        for index, tau in enumerate(request.taus):
            before = index * step
            rows[KIND, tau] = self._cached(
                KIND, tau, partial(analyse_tau, prepared, tau, _offset(progress, before, total))
            )
            if request.attention:
                rows[ATTENTION_KIND, tau] = self._cached(
                    ATTENTION_KIND,
                    tau,
                    partial(
                        attention_diagnostics,
                        prepared.encoder,
                        sample,
                        tau,
                        request.seed,
                        _offset(progress, before + sample.n_texts, total),
                    ),
                )
            if progress is not None:
                progress(before + step, total)
        return self._report(rows)

    def _cached(self, kind: str, tau: float, compute: Callable[[], dict[str, Any]]) -> StoredResult:
        """One temperature's stored row of ``kind``, computed only when missing."""
        return cached_result(
            self.store, kind, self.prepared.params(tau), compute, self.scope.scope_id
        )

    def _report(self, rows: dict[tuple[str, float], StoredResult]) -> LengthReport:
        taus = self.request.taus
        found = {tau: rows[KIND, tau] for tau in taus}
        return LengthReport(
            corpus=self.corpus.name,
            model=self.prepared.encoder.info.name,
            request=self.request,
            taus={tau: stored.result for tau, stored in found.items()},
            attention={
                tau: rows[ATTENTION_KIND, tau].result
                for tau in taus
                if (ATTENTION_KIND, tau) in rows
            },
            seconds={tau: stored.seconds for tau, stored in found.items()},
            reused=all(stored.reused for stored in found.values()),
        )

    def estimate(self) -> Estimate:
        """Only the temperatures (and attention rows) not stored yet: a sweep that adds one
        temperature costs one temperature."""
        missing = {
            kind: sum(
                find_result(self.store, kind, self.prepared.params(tau), self.scope.scope_id)
                is None
                for tau in self.request.taus
            )
            for kind in self._kinds()
        }
        return self.prepared.estimate(missing[KIND], missing.get(ATTENTION_KIND, 0))

    def reading(self, result: LengthReport) -> str:
        return result.summary()

    def stored_note(self, result: LengthReport) -> str:
        timing = ", ".join(
            f"τ = {tau:g}: {seconds:.1f} s" for tau, seconds in result.seconds.items()
        )
        return f"Stored result, computed in {timing}"

    def figures(
        self, result: LengthReport, view: Mapping[str, Any] | None = None
    ) -> list[ChartSpec]:
        """Every chart the report has; ``view['tau']`` picks the temperature of the per-τ ones."""
        tau = float((view or {}).get("tau", REFERENCE_TAU))
        return [
            ChartSpec(
                f"len_{figure.key}",
                figure.build(result, tau),
                f"length-{figure.key}",
                result.model,
                figure.data(result, tau),
                figure.what,
            )
            for figure in figures_for(result)
        ]


def _offset(progress: ProgressFn | None, before: int, total: int) -> ProgressFn | None:
    """Map one step's progress onto the whole run's."""
    if progress is None:
        return None
    return lambda done, _: progress(before + done, total)
