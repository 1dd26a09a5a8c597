"""The contract every analysis must keep (``analysis.core.analysis``), checked for each of them.

In the spirit of scikit-learn's ``check_estimator``: every concrete ``Analysis`` subclass in the
engine must have an example here, and each example must have stable, JSON-able canonical
parameters from which its keys derive; ``find`` before ``run`` gives nothing, ``find`` after
``run`` gives the same result; the estimate is positive; the reading is a sentence; and every
figure builds from the stored result with user text (labels, texts) escaped, never markup.

The world the examples run in is real: a DuckDB file with a labelled corpus whose labels and
texts carry markup, embedded with the bundled model and LSA.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest

import analysis
from analysis.core.analysis import Analysis, StoredAnalysis
from analysis.core.config import Limits
from analysis.core.results import StoredResult
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, IngestOptions, get_corpus
from analysis.corpus.readers import read_bytes
from analysis.vectors.embedding import embed_corpus
from analysis.vectors.ingest import ingest

pytestmark = pytest.mark.slow  # the real bundled model runs for every example

DEMO_SMALL = Path(__file__).resolve().parents[2] / "data" / "demo" / "stdlib_docs_small.csv"
MARKUP = "<b>ZZ"  # a user's label that must never reach a figure as markup
TOPICS = {
    "concurrency": f"{MARKUP}concurrency</b>",
    "data formats": "=data & formats",
    "math & numbers": "math <i>numbers</i>",
}
PER_TOPIC = 30
NAME = "contract docs"


@dataclass
class World:
    """What the examples run in: a real store and a labelled, embedded corpus."""

    store: Store
    corpus: Corpus

    def ingest(
        self, name: str, frame: pd.DataFrame, labels: list[str], embed: tuple[str, ...] = ()
    ) -> Corpus:
        """Another corpus in the same store (e.g. sentence pairs), embedded with ``embed``."""
        table = read_bytes(frame.to_csv(index=False).encode("utf-8"), f"{name}.csv", Limits())
        options = IngestOptions(name=name, text_column="text", label_columns=labels)
        ingest(self.store, [table], options)
        for spec in embed:
            embed_corpus(self.store, name, spec)
        return get_corpus(self.store, name)


def _world_frame() -> pd.DataFrame:
    frame = pd.read_csv(DEMO_SMALL)
    parts = [frame[frame["topic"] == topic].head(PER_TOPIC) for topic in TOPICS]
    frame = pd.concat(parts, ignore_index=True)[["text", "topic"]]
    frame["topic"] = frame["topic"].map(TOPICS)
    frame.loc[0, "text"] = f"{MARKUP} <script>alert(1)</script> {frame.loc[0, 'text']}"
    return frame


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("contract") / "template.duckdb"
    store = Store(path)
    try:
        World(store, None).ingest(NAME, _world_frame(), ["topic"], embed=("default", "lsa"))
    finally:
        store.close()
    return path


@pytest.fixture
def world(template: Path, tmp_path: Path) -> Iterator[World]:
    path = tmp_path / "world.duckdb"
    shutil.copyfile(template, path)
    store = Store(path)
    yield World(store, get_corpus(store, NAME))
    store.close()


Example = Callable[[World], Analysis[Any]]


# One example per concrete Analysis subclass, by class name; each package keeps its function.
def compare_examples() -> dict[str, Example]:
    from analysis.compare.comparison import CompareRequest, Comparison, LayerCka, LayerRequest

    return {
        "Comparison": lambda w: Comparison(
            w.store, w.corpus, CompareRequest("default", "lsa", k=5)
        ),
        "LayerCka": lambda w: LayerCka(w.store, w.corpus, LayerRequest("default")),
    }


EXAMPLES: dict[str, Example] = {**compare_examples()}


def _concrete_analyses() -> set[type]:
    """Every concrete Analysis subclass the engine defines (all its modules imported)."""
    for module in pkgutil.walk_packages(analysis.__path__, "analysis."):
        if not module.name.endswith("__main__"):  # that one runs the CLI
            importlib.import_module(module.name)
    found, todo = set(), [Analysis]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if not getattr(sub, "__abstractmethods__", None):
                found.add(sub)
    return found


def test_every_analysis_has_an_example() -> None:
    missing = sorted({cls.__name__ for cls in _concrete_analyses()} - EXAMPLES.keys())
    assert not missing, f"add an example for {missing} to EXAMPLES"


def test_stored_analyses_are_the_common_case() -> None:
    """Sanity of the collector itself: it finds the analyses that store one result."""
    assert {cls.__name__ for cls in _concrete_analyses() if issubclass(cls, StoredAnalysis)}


def _payload(result: Any) -> Any:
    return result.result if isinstance(result, StoredResult) else result


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_analysis_keeps_the_contract(world: World, name: str) -> None:
    analysis_ = EXAMPLES[name](world)
    params = dict(analysis_.params)
    assert json.loads(json.dumps(params)) == params, "canonical parameters must be JSON"
    again = EXAMPLES[name](world)
    assert again.key == analysis_.key and again.job_key == analysis_.job_key
    assert analysis_.job_key.startswith(f"{analysis_.kind}:")
    assert analysis_.provenance().startswith(analysis_.title)

    assert analysis_.estimate().seconds > 0
    assert analysis_.find() is None
    seen: list[tuple[int, int]] = []
    ran = analysis_.run(lambda done, total: seen.append((done, total)))
    found = EXAMPLES[name](world).find()
    assert found is not None and _payload(found) == _payload(ran)

    reading = analysis_.reading(found)
    assert isinstance(reading, str) and len(reading) > 10
    charts = analysis_.figures(found, {})
    assert charts, "an analysis shows at least one figure"
    assert len({chart.key for chart in charts}) == len(charts)
    for chart in charts:
        assert isinstance(chart.figure, go.Figure)
        leaked = [s for s in _strings(json.loads(chart.figure.to_json())) if MARKUP in s]
        assert not leaked, f"{chart.key}: user text reached the figure as markup: {leaked[:2]}"
