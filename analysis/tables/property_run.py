"""One table property run on chosen tables and models, as an analysis: found again by its
parameters, computed once, shown by its reading, notices and figures.

The property decides the stored-result kind ('tables:<property>', as results were always
stored) and the title, so both are set per instance, before the base class resolves the
parameters, instead of per class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from analysis.core.analysis import ChartSpec, Estimate, Scope, StoredAnalysis
from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.results import StoredResult
from analysis.core.store import Store
from analysis.tables.context import PropertyContext, TablesRequest
from analysis.tables.data import Table, unique_names
from analysis.tables.encoding import load_table_encoders, lsa_fit_texts
from analysis.tables.estimate import estimate_run
from analysis.tables.figure_sets import figures_for
from analysis.tables.figures import groups_of
from analysis.tables.properties import CITATION, PROPERTIES
from analysis.tables.readings import unscored_notices, window_text
from analysis.tables.runs import KIND_PREFIX, request_of, run_params, stored_params


class TablePropertyRun(StoredAnalysis):
    """One Observatory property of the embeddings of some tables, for one or more models."""

    def __init__(
        self,
        store: Store,
        tables: Sequence[Table],
        request: TablesRequest,
        *,
        stored: Mapping[str, Any] | None = None,
    ) -> None:
        """``stored``: the parameters of a stored run reopened without its tables or models
        (see ``reopen``), taken as they are."""
        unique_names(tables)
        self.tables, self.request, self.stored = tuple(tables), request, stored
        prop = PROPERTIES[request.property]
        self.kind = KIND_PREFIX + prop.id  # per instance (the base declares a ClassVar)
        self.title = prop.title
        names = [t[0] for t in stored["tables"]] if stored else [t.name for t in self.tables]
        super().__init__(store, Scope(None, ", ".join(names)))

    @classmethod
    def reopen(cls, store: Store, result_id: int) -> TablePropertyRun:
        """Stored run #result_id, bound by the parameters it was stored with: its tables may
        have been deleted and its models changed since, and ``find`` still returns it."""
        params = stored_params(store, result_id)
        return cls(store, (), request_of(params), stored=params)

    def canonical_params(self) -> dict[str, Any]:
        if self.stored is not None:
            return dict(self.stored)
        return run_params(self.tables, self.request)

    def compute(self, progress: ProgressFn | None) -> dict[str, Any]:
        if not self.tables:
            raise UserError("Choose at least one table.")
        tables, request = self.tables, self.request
        prop = PROPERTIES[request.property]
        encoders = load_table_encoders(
            self.store,
            request.models,
            lsa_fit_texts([t.texts for t in tables]) if "lsa" in request.models else [],
            request.max_length,
        )
        output = prop.run(PropertyContext(tables, encoders, request, progress))
        return {
            "property": prop.id,
            "title": prop.title,
            "question": prop.question,
            "citation": CITATION,
            "params": request.params(),
            "models": [e.describe() for e in encoders],
            "tables": [
                {
                    "name": t.name,
                    "sha": t.sha,
                    "source": t.source,
                    "rows": t.n_rows,
                    "columns": t.columns,
                }
                for t in tables
            ],
            "groups": [g.to_json() for g in output.groups],
            "extra": output.extra,
            "reading": prop.reading(output.groups, output.extra),
        }

    def estimate(self) -> Estimate:
        return estimate_run(self.tables, self.request)

    def reading(self, result: StoredResult) -> str:
        """How much of each table the model saw, then the property's reading; both derived
        from the stored groups, so runs stored before either was said have them too."""
        data = result.result
        groups = groups_of(data)
        prop = PROPERTIES[data["property"]]
        return window_text(groups, data["tables"]) + prop.reading(groups, data["extra"])

    def notices(self, result: StoredResult) -> list[str]:
        """Derived from the groups, so runs stored before notices existed have them too."""
        return unscored_notices(groups_of(result.result))

    def figures(
        self, result: StoredResult, view: Mapping[str, Any] | None = None
    ) -> list[ChartSpec]:
        """The property's figures; keyed apart when a reopened run is shown next to itself."""
        data = result.result
        prop = data["property"]
        prefix = f"tab_{prop}" if self.stored is None else f"tab_old_{result.result_id}"
        models = ", ".join(m["name"] for m in data["models"])
        return [
            ChartSpec(
                f"{prefix}_{figure.key}",
                figure.build(data),
                f"tables-{prop}-{figure.key}",
                models,
                figure.data(data),
                figure.what,
            )
            for figure in figures_for(data)
        ]
