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


def map_examples() -> dict[str, Example]:
    from analysis.map.cluster_analysis import ClusteringAnalysis
    from analysis.map.cluster_runs import ClusterRequest
    from analysis.map.projection import ProjectionParams
    from analysis.map.projection_analysis import ProjectionAnalysis
    from analysis.vectors.catalogue import resolve_corpus_model

    def model(w: World):
        return resolve_corpus_model(w.store, w.corpus, "default")

    # a PCA map (seconds; coloured by the markup-laden topic) and a k-means clustering
    return {
        "ProjectionAnalysis": lambda w: ProjectionAnalysis(
            w.store, w.corpus, model(w), ProjectionParams("pca")
        ),
        "ClusteringAnalysis": lambda w: ClusteringAnalysis(
            w.store, w.corpus, model(w), ClusterRequest("kmeans", k=3)
        ),
    }


def length_examples() -> dict[str, Example]:
    from analysis.length.length_analysis import LengthAnalysis
    from analysis.length.sample import LengthRequest

    # two temperatures and attention: both stored kinds, the sweep and the attention figure
    request = LengthRequest(
        lengths=(8, 16), per_bucket=10, taus=(1.0, 0.9), label_column="topic", attention=True
    )
    return {"LengthAnalysis": lambda w: LengthAnalysis(w.store, w.corpus, request)}


def tables_examples() -> dict[str, Example]:
    from analysis.tables.context import TablesRequest
    from analysis.tables.data import Table, demo_tables
    from analysis.tables.property_run import TablePropertyRun

    # a small demo table whose name, one header and one cell carry markup
    countries = next(t for t in demo_tables() if t.name == "countries")
    frame = countries.frame.iloc[:, :4].copy()
    frame.columns = [f"{MARKUP}country</b>", *frame.columns[1:]]
    frame.iloc[0, 0] = f"{MARKUP}Algeria</b>"
    table = Table(f"{MARKUP}countries</b>", frame, countries.source)
    request = TablesRequest(property="row-order", permutations=2)
    return {"TablePropertyRun": lambda w: TablePropertyRun(w.store, [table], request)}


def probes_examples() -> dict[str, Example]:
    from analysis.corpus.corpora import list_corpora
    from analysis.probes.pair_scores import PairHeatmap
    from analysis.probes.paper_mode import PaperProbe
    from analysis.probes.probe import Probe
    from analysis.probes.requests import PairRequest, PaperRequest, ProbeRequest

    def pairs(w: World) -> Corpus:
        """12 pairs of docstrings, one with markup; ingested once per world, since an example
        is built several times (column names are sanitised at ingest, so only texts carry it)."""
        name = "contract pairs"
        if name not in {c.name for c in list_corpora(w.store)}:
            texts = _world_frame()["text"]
            second = texts[12:24].to_numpy()
            frame = pd.DataFrame({"text": texts[:12], "text_b": second, "score": range(12)})
            w.ingest(name, frame, [])
        return get_corpus(w.store, name)

    # the probe with its opt-in heatmap (every figure it can draw), paper mode, pairs
    probe = ProbeRequest("topic", dims=(16,), folds=3, heatmap=True)
    return {
        "Probe": lambda w: Probe(w.store, w.corpus, probe),
        "PaperProbe": lambda w: PaperProbe(w.store, w.corpus, PaperRequest("topic")),
        "PairHeatmap": lambda w: PairHeatmap(
            w.store, pairs(w), PairRequest("text_b", "score", dims=(16,))
        ),
    }


EXAMPLES: dict[str, Example] = {
    **compare_examples(),
    **length_examples(),
    **tables_examples(),
    **map_examples(),
    **probes_examples(),
}


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
            engine = sub.__module__.startswith("analysis.")  # not test doubles
            if engine and not getattr(sub, "__abstractmethods__", None):
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
