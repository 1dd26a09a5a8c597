"""What the three probe analyses share: a request on one corpus, stored under the same parameters
as before the analyses had a common contract.

Their stored parameters are the request as given, with the model pinned by the key its weights
are expected to hash to (not resolved against the store: results stored that way must still be
found), plus the fixed parts of the method, so a stored result says how it was made. A minimum
class size of 0 (keep every class) is left out for the same reason: results stored before the
option existed keep every class, and are found again.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar, Generic, TypeVar

from analysis.core.analysis import StoredAnalysis
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus
from analysis.models.encoders import expected_key
from analysis.probes.requests import PairRequest, PaperRequest, ProbeRequest

RequestT = TypeVar("RequestT", ProbeRequest, PaperRequest, PairRequest)


class CorpusProbe(StoredAnalysis, Generic[RequestT]):
    """A probe request bound to a corpus; subclasses add ``compute`` and how to show it."""

    method: ClassVar[dict[str, str]] = {}  # fixed parts of the method, stored with the request

    def __init__(self, store: Store, corpus: Corpus, request: RequestT) -> None:
        self.corpus, self.request = corpus, request
        super().__init__(store, corpus.scope)

    def canonical_params(self) -> dict[str, Any]:
        """The request (tuples as the lists they are stored as), model key and method."""
        request = {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in asdict(self.request).items()
        }
        if not request.get("min_class_size"):  # every class kept: the key results always had
            request.pop("min_class_size", None)
            request.pop("small_classes", None)
        model_key = expected_key(self.request.model) or self.request.model
        return {**request, "model_key": model_key, **self.method}
