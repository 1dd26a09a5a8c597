"""Layer-wise probes: at which layer, and in how many dimensions, is a label linearly decodable?

One run = one corpus, label column, model and pooling: an L2 logistic-regression probe per layer
on the same cross-validation folds, the control task (Hewitt & Liang 2019) and its selectivity,
baselines (majority, TF-IDF + LR, layer 0, optionally the random-weight encoder), the concept-depth
summary (after Jin et al., COLING 2025) and dimension curves (after Kusupati et al. 2022 and Li et
al. 2024). Opt-in extras: MLP probe, permutation p-values, the layer x dimension heatmap.

Encoding (torch, every core) and fitting (one BLAS thread, see probe_fit) are separate phases.
The result is stored with every parameter and reopened instead of recomputed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from analysis.core.analysis import ChartSpec, Estimate
from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.results import StoredResult
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus
from analysis.models.encoders import ModelInfo, load_encoder
from analysis.probes.concept_depth import concept_depth, depth_percent
from analysis.probes.control_task import KEY_DEFINITION, control_labels, surface_keys
from analysis.probes.corpus_probe import CorpusProbe
from analysis.probes.dimension_curves import (
    accuracy_heatmap,
    dimension_curves,
    dimension_fits,
    usable_dims,
)
from analysis.probes.estimate import estimate_probe
from analysis.probes.figures import (
    accuracy_figure,
    dimension_figure,
    probe_heatmap_figure,
    selectivity_figure,
)
from analysis.probes.fit import (
    MAX_ITER,
    Steps,
    accuracy_only,
    cross_validate,
    logistic_probe,
    mlp_probe,
    permutation_p_value,
    rows_of,
    single_thread,
    tfidf_probe,
)
from analysis.probes.inputs import Folds, ProbeData, make_folds
from analysis.probes.metrics import chance_level, fold_scores, summarise
from analysis.probes.requests import ProbeRequest
from analysis.probes.summary import dimension_table, heatmap_table, layers_table, probe_reading
from analysis.vectors.text_layers import corpus_rows_layer_vectors

KIND = "probe"
C = 1.0
PROBE_DESCRIPTION = (
    f"L2 logistic regression (C={C:g}, lbfgs, max_iter {MAX_ITER}; multinomial for K > 2), "
    "features standardised inside each training fold"
)


@dataclass
class _Run:
    """What the fitting phase works on."""

    request: ProbeRequest
    data: ProbeData
    folds: Folds
    tensor: np.ndarray
    info: ModelInfo
    steps: Steps
    random_tensor: np.ndarray | None = None


class Probe(CorpusProbe[ProbeRequest]):
    """Layer-wise probes of one label: accuracy, control task, baselines, depth and dimensions."""

    kind = KIND
    title = "Layer-wise probe"
    method: ClassVar[dict[str, str]] = {"probe": PROBE_DESCRIPTION}

    def compute(self, progress: ProgressFn | None) -> dict[str, Any]:
        return _compute(self.store, self.corpus, self.request, progress)

    def estimate(self) -> Estimate:
        return estimate_probe(self.store, self.corpus, self.request)

    def reading(self, result: StoredResult) -> str:
        return probe_reading(result.result)

    def figures(
        self, result: StoredResult, view: Mapping[str, Any] | None = None
    ) -> list[ChartSpec]:
        """Accuracy, selectivity, dimension curves, and the heatmap when it was computed
        (``view['relative']``: its cells as % of the full model)."""
        data, name = result.result, self.corpus.name
        model, per_layer = data["model"], layers_table(data)
        charts = [
            ChartSpec(
                "probe_accuracy", accuracy_figure(data, name), "probe-accuracy", model, per_layer
            ),
            ChartSpec(
                "probe_selectivity",
                selectivity_figure(data, name),
                "probe-selectivity",
                model,
                per_layer,
            ),
            ChartSpec(
                "probe_dimensions",
                dimension_figure(data, name),
                "probe-dimensions",
                model,
                dimension_table(data),
            ),
        ]
        if data.get("heatmap"):
            relative = bool((view or {}).get("relative"))
            charts.append(
                ChartSpec(
                    "probe_heatmap",
                    probe_heatmap_figure(data, name, relative),
                    "probe-heatmap",
                    model,
                    heatmap_table(data["heatmap"]),
                )
            )
        return charts


def _layer_info(model: str) -> ModelInfo:
    info = load_encoder(model).info
    if info.n_layers is None:
        raise UserError(f"{info.name} has no layers to probe; choose a transformer model.")
    return info


def planned_fits(
    request: ProbeRequest, n_layers: int, dim: int, dim_layers: int = 2, end_layers: int = 2
) -> int:
    """How many models a run fits (its progress steps after encoding).

    ``dim_layers`` / ``end_layers``: how many layers get dimension curves / permutation tests,
    known only once the peak layer is (2 until then: the peak and the last).
    """
    layers = n_layers + 1
    per_fold = 2 * layers + 1  # probe + control per layer, majority baseline
    per_fold += int(request.tfidf) + layers * int(request.random_encoder)
    per_fold += dim_layers * dimension_fits(len(usable_dims(request.dims, dim)))
    per_fold += 2 * layers * int(request.mlp)
    per_fold += end_layers * (request.permutations + 1) if request.permutations else 0
    per_fold += layers * len(usable_dims(request.dims, dim)) * int(request.heatmap)
    return per_fold * request.folds


def _compute(
    store: Store, corpus: Corpus, request: ProbeRequest, progress: ProgressFn | None
) -> dict[str, Any]:
    data = request.data(store, corpus)
    folds = make_folds(data, request.folds, request.seed)
    info = _layer_info(request.model)
    encoders = 1 + int(request.random_encoder)
    steps = Steps(data.n * encoders + planned_fits(request, info.n_layers, info.dim), progress)

    start = time.perf_counter()
    layers = corpus_rows_layer_vectors(
        store,
        corpus,
        data.rows,
        data.texts,
        request.model,
        request.pooling,
        request.max_length,
        steps.encoding(data.n),
    )
    run = _Run(request, data, folds, layers.tensor, layers.model, steps)
    if request.random_encoder:
        run.random_tensor = corpus_rows_layer_vectors(
            store,
            corpus,
            data.rows,
            data.texts,
            "random",
            request.pooling,
            request.max_length,
            steps.encoding(data.n),
        ).tensor
    encoding_seconds = time.perf_counter() - start

    start = time.perf_counter()
    with single_thread():
        result = _fit(run)
    result["timing"] = {
        "encoding_s": round(encoding_seconds, 3),
        "fitting_s": round(time.perf_counter() - start, 3),
        "encoded_texts": layers.encoded,
    }
    return result


def _probe_layers(run: _Run, tensor: np.ndarray, labels: np.ndarray, control: bool) -> list:
    """Fold scores of the linear probe at every layer (accuracy only for control labels)."""
    scorer = accuracy_only if control else fold_scores
    return [
        cross_validate(
            rows_of(layer),
            labels,
            run.folds,
            lambda: logistic_probe(run.request.seed, C),
            run.data.k,
            run.steps,
            scorer,
        )
        for layer in tensor
    ]


def _fit(run: _Run) -> dict[str, Any]:
    request, data, steps = run.request, run.data, run.steps
    n_layers = run.tensor.shape[0] - 1
    keys = surface_keys(data.texts)
    control = control_labels(keys, data.labels, data.k, request.seed)
    main = _probe_layers(run, run.tensor, data.labels, control=False)
    controls = _probe_layers(run, run.tensor, control, control=True)
    accuracy = [float(np.mean(scores["accuracy"])) for scores in main]
    depth = concept_depth(accuracy)
    layers = []
    for index, (scores, ctrl) in enumerate(zip(main, controls, strict=True)):
        selectivity = np.asarray(scores["accuracy"]) - np.asarray(ctrl["accuracy"])
        layers.append(
            {
                "layer": index,
                "depth_pct": depth_percent(index, n_layers),
                **{name: summarise(values) for name, values in scores.items()},
                "control_accuracy": summarise(ctrl["accuracy"]),
                "selectivity": summarise(selectivity),
            }
        )
    peak = depth["robust"]["peak_layer"]
    dim_layers = _dimension_layers(request, peak, n_layers)
    end_layers = sorted({peak, n_layers})
    encoders = 1 + int(request.random_encoder)
    steps.total = data.n * encoders + planned_fits(
        request, n_layers, run.tensor.shape[2], len(dim_layers), len(end_layers)
    )
    result = {
        "kind": KIND,
        "label_column": request.label_column,
        "group_column": request.group_column,
        "model": run.info.name,
        "model_key": run.info.model_key,
        "pooling": request.pooling,
        "max_length": request.max_length,
        "n_layers": n_layers,
        "dim": int(run.tensor.shape[2]),
        "n": data.n,
        "n_corpus": data.n_corpus,
        "k": data.k,
        "classes": data.classes,
        "class_counts": data.class_counts(),
        "small_classes": data.small_classes,
        "folds": len(run.folds),
        "seed": request.seed,
        "cv": _cv_description(request),
        "probe": PROBE_DESCRIPTION,
        **chance_level(data.labels, data.k),
        "control": {
            "definition": KEY_DEFINITION,
            "n_keys": len(set(keys)),
            "chance": chance_level(control, data.k)["chance"],
            "seed": request.seed,
        },
        "layers": layers,
        "baselines": _baselines(run, main[0]),
        "concept_depth": depth,
        "peak_layer": depth["robust"]["peak_layer"],
        "converging_layer": depth["robust"]["converging_layer"],
        "jump_layer": depth["robust"]["jump_layer"],
        "dimension_curves": _dimension_section(run, main, dim_layers),
        "heatmap": (
            accuracy_heatmap(
                run.tensor,
                data.labels,
                run.folds,
                request.dims,
                data.k,
                request.seed,
                [scores["accuracy"] for scores in main],
                steps,
            )
            if request.heatmap
            else None
        ),
        "mlp": _mlp(run, control) if request.mlp else None,
        "permutation": _permutations(run, end_layers) if request.permutations else None,
        "doc_ids": data.rows.tolist(),
        "fold_of": _fold_of(run.folds, data.n),
    }
    notices = list(data.notices)
    if steps.unconverged:
        notices.append(
            f"{steps.unconverged} fit(s) stopped at the iteration limit before converging."
        )
    result["notices"] = notices
    return result


def _cv_description(request: ProbeRequest) -> str:
    if request.group_column:
        return (
            f"StratifiedGroupKFold({request.folds}, shuffle, seed {request.seed}) on groups "
            f"'{request.group_column}'"
        )
    return f"StratifiedKFold({request.folds}, shuffle, seed {request.seed})"


def _fold_of(folds: Folds, n: int) -> list[int]:
    """Test fold of every probed row: the split itself, so a result can be reproduced."""
    fold_of = np.empty(n, dtype=np.int64)
    for index, (_, test) in enumerate(folds):
        fold_of[test] = index
    return fold_of.tolist()


def _dimension_layers(request: ProbeRequest, peak: int, n_layers: int) -> list[int]:
    chosen = request.dim_layers or (peak, n_layers)
    wrong = [x for x in chosen if not 0 <= x <= n_layers]
    if wrong:
        raise UserError(f"Layer {wrong[0]} does not exist; this model has layers 0..{n_layers}.")
    return sorted(set(chosen))


def _baselines(run: _Run, layer0: dict[str, list[float]]) -> dict[str, Any]:
    """Majority class, TF-IDF + LR on the words, layer 0, and the random-weight encoder."""
    from sklearn.dummy import DummyClassifier

    data, folds, steps, seed = run.data, run.folds, run.steps, run.request.seed
    majority = cross_validate(
        rows_of(np.zeros((data.n, 1))),
        data.labels,
        folds,
        lambda: DummyClassifier(strategy="prior"),
        data.k,
        steps,
    )
    baselines: dict[str, Any] = {
        "majority": {name: summarise(v) for name, v in majority.items()},
        "layer0": {name: summarise(v) for name, v in layer0.items()},
    }
    if run.request.tfidf:
        tfidf = cross_validate(
            rows_of(np.asarray(data.texts, dtype=object)),
            data.labels,
            folds,
            lambda: tfidf_probe(seed, C),
            data.k,
            steps,
        )
        baselines["tfidf"] = {name: summarise(v) for name, v in tfidf.items()}
    if run.random_tensor is not None:
        random_layers = _probe_layers(run, run.random_tensor, data.labels, control=False)
        baselines["random_encoder"] = {
            "model": "random-weight all-MiniLM-L6-v2 architecture (seed 0)",
            "layers": [
                {"layer": i, **{name: summarise(v) for name, v in scores.items()}}
                for i, scores in enumerate(random_layers)
            ],
        }
    return baselines


def _dimension_section(run: _Run, main: list, layers: list[int]) -> dict[str, Any]:
    curves = []
    for layer in layers:
        for entry in dimension_curves(
            run.tensor[layer],
            run.data.labels,
            run.folds,
            run.request.dims,
            run.data.k,
            run.request.seed,
            main[layer]["accuracy"],
            run.steps,
        ):
            curves.append({"layer": layer, **entry})
    dim = int(run.tensor.shape[2])
    return {
        "layers": layers,
        "dims": [*usable_dims(run.request.dims, dim), dim],
        "curves": curves,
    }


def _mlp(run: _Run, control: np.ndarray) -> dict[str, Any]:
    """MLP probe and its own control task at every layer (same folds)."""
    layers = []
    for index, layer in enumerate(run.tensor):
        scores = [
            cross_validate(
                rows_of(layer),
                labels,
                run.folds,
                lambda: mlp_probe(run.request.seed),
                run.data.k,
                run.steps,
                accuracy_only,
            )["accuracy"]
            for labels in (run.data.labels, control)
        ]
        layers.append(
            {
                "layer": index,
                "accuracy": summarise(scores[0]),
                "control_accuracy": summarise(scores[1]),
                "selectivity": summarise(np.asarray(scores[0]) - np.asarray(scores[1])),
            }
        )
    return {"probe": "MLP, one hidden layer of 256, early stopping, standardised", "layers": layers}


def _permutations(run: _Run, layers: list[int]) -> list[dict[str, Any]]:
    """Permutation p-values of the linear probe at the peak and last layers."""
    return [
        {
            "layer": layer,
            **permutation_p_value(
                run.tensor[layer],
                run.data.labels,
                run.folds,
                run.data.groups,
                run.request.permutations,
                run.request.seed,
                run.steps,
            ),
        }
        for layer in layers
    ]
