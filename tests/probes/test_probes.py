"""Layer-wise probes on synthetic layers with a planted signal, the control task, shared folds,
metrics, and the guards that refuse labels no probe could learn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.corpus.corpora import get_corpus
from analysis.models.encoders import ModelInfo
from analysis.probes import dimension_curves
from analysis.probes import inputs as probe_inputs
from analysis.probes import probe as probes
from analysis.probes.control_task import control_labels, surface_keys
from analysis.probes.dimension_curves import pair_heatmap
from analysis.probes.figures import (
    accuracy_figure,
    dimension_figure,
    probe_heatmap_figure,
    selectivity_figure,
)
from analysis.probes.inputs import SmallClassesError, make_folds, probe_data
from analysis.probes.metrics import chance_level, fold_scores, summarise
from analysis.probes.probe import Probe
from analysis.probes.requests import ProbeRequest
from analysis.probes.summary import depth_table, display_table, layers_table, probe_reading
from analysis.vectors.layers import LayerVectors
from tests.probe_corpus import NAME, copy_of, ingest_frame, template

N_PER_CLASS = 50
CLASSES = ("alpha", "beta", "gamma")
SIGNAL_LAYER = 3
FAKE = ModelInfo("fake:planted", "planted", "test", "synthetic", "0", 32, 4, "mean", 128)
WORDS = [f"{c}{v}{c}" for c in "bcdfghjk" for v in "aeiou"]  # 40 letter-only words


def synthetic_frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = np.repeat(CLASSES, N_PER_CLASS)
    texts = [f"{' '.join(rng.choice(WORDS, 3))} item {i}" for i in range(labels.size)]
    return pd.DataFrame({"text": texts, "label": labels, "noise": rng.permutation(labels)})


def planted_tensor(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Noise at every layer; the class is written into layer 3 only (4 dims per class)."""
    rng = np.random.default_rng(seed)
    tensor = rng.standard_normal((FAKE.n_layers + 1, labels.size, FAKE.dim)).astype(np.float32)
    for code in range(len(CLASSES)):
        tensor[SIGNAL_LAYER, labels == code, code * 4 : code * 4 + 4] += 2.5
    return tensor


@pytest.fixture
def synthetic(tmp_path: Path, monkeypatch) -> tuple[Store, object]:
    """A stored corpus whose 'layers' are synthetic: no model is loaded or run."""
    store = Store(tmp_path / "synthetic.duckdb")
    frame = synthetic_frame()
    corpus = ingest_frame(store, frame, name="synthetic", labels=("label", "noise"))
    codes = pd.Categorical(frame["label"], categories=CLASSES).codes
    tensor = planted_tensor(np.asarray(codes))

    def fake_vectors(store, corpus, rows, texts, model, pooling, max_length, progress=None):
        if progress is not None:
            progress(len(rows), len(rows))
        return LayerVectors(tensor[:, rows], FAKE, pooling, max_length, encoded=len(rows))

    monkeypatch.setattr(probes, "corpus_rows_layer_vectors", fake_vectors)
    monkeypatch.setattr(probes, "_layer_info", lambda model: FAKE)
    yield store, corpus
    store.close()


def test_probe_finds_the_layer_with_the_planted_signal(synthetic) -> None:
    store, corpus = synthetic
    steps = []
    request = ProbeRequest("label", dims=(4, 8, 16))
    stored = Probe(store, corpus, request).run(lambda done, total: steps.append((done, total)))
    result = stored.result
    accuracy = [layer["accuracy"]["mean"] for layer in result["layers"]]
    assert result["peak_layer"] == SIGNAL_LAYER
    assert accuracy[SIGNAL_LAYER] > 0.95
    assert max(accuracy[:SIGNAL_LAYER] + accuracy[SIGNAL_LAYER + 1 :]) < 0.6
    assert result["chance"] == pytest.approx(1 / 3)
    assert result["k"] == 3 and result["n"] == 150 and result["folds"] == 5
    peak = result["layers"][SIGNAL_LAYER]
    assert peak["accuracy"]["ci"][0] <= peak["accuracy"]["mean"] <= peak["accuracy"]["ci"][1]
    assert len(peak["accuracy"]["folds"]) == 5
    assert peak["selectivity"]["mean"] > 0.4  # the control cannot be read from layer 3's signal
    assert result["baselines"]["majority"]["accuracy"]["mean"] <= 1 / 3 + 1e-9
    assert result["dimension_curves"]["layers"] == [SIGNAL_LAYER, FAKE.n_layers]
    assert result["dimension_curves"]["dims"] == [4, 8, 16, 32]
    curve = {
        (c["method"], c["d"]): c["accuracy"]["mean"]
        for c in result["dimension_curves"]["curves"]
        if c["layer"] == SIGNAL_LAYER
    }
    assert curve[("prefix", 16)] > 0.95  # the signal lives in the first 12 dimensions
    assert curve[("pca", 4)] > curve[("random", 4)]
    assert steps[-1][0] == steps[-1][1]  # progress reaches its end
    assert Probe(store, corpus, request).find().result_id == stored.result_id
    again = Probe(store, corpus, request).run()
    assert again.reused
    assert "well above chance" in probe_reading(result)
    assert list(layers_table(result)["layer"]) == [0, 1, 2, 3, 4]
    for figure in (accuracy_figure, selectivity_figure, dimension_figure):
        caption = figure(result, "synthetic").layout.meta["caption"]
        assert "n = 150" in caption and "K = 3" in caption and "seed 0" in caption
    assert "Hewitt & Liang" in accuracy_figure(result, "synthetic").layout.meta["caption"]
    assert "Kusupati" in dimension_figure(result, "synthetic").layout.meta["caption"]


def test_random_labels_stay_near_chance_and_so_does_the_control(synthetic) -> None:
    store, corpus = synthetic
    result = Probe(store, corpus, ProbeRequest("noise", dims=(8,), tfidf=False)).run().result
    for layer in result["layers"]:
        assert abs(layer["accuracy"]["mean"] - 1 / 3) < 0.15
        assert abs(layer["control_accuracy"]["mean"] - result["control"]["chance"]) < 0.2
    assert "tfidf" not in result["baselines"]


def test_every_layer_dimension_and_probe_uses_the_same_folds(synthetic, monkeypatch) -> None:
    store, corpus = synthetic
    seen = []
    real = probes.cross_validate

    def spy(features, y, folds, *args, **kwargs):
        seen.append([(train.tolist(), test.tolist()) for train, test in folds])
        return real(features, y, folds, *args, **kwargs)

    monkeypatch.setattr(probes, "cross_validate", spy)
    monkeypatch.setattr(dimension_curves, "cross_validate", spy)
    result = Probe(store, corpus, ProbeRequest("label", dims=(8,), seed=4)).run().result
    expected = make_folds(probe_data(store, corpus, "label", seed=4), 5, 4)
    assert len(seen) >= 2 * 5 + 1 + 1 + 5  # layers x (probe, control), majority, tfidf, dims
    reference = [(train.tolist(), test.tolist()) for train, test in expected]
    assert all(folds == reference for folds in seen)
    fold_of = np.asarray(result["fold_of"])
    for index, (_, test) in enumerate(expected):
        assert set(np.flatnonzero(fold_of == index)) == set(test.tolist())


def test_folds_depend_on_the_seed_and_respect_groups(tmp_path: Path) -> None:
    store = Store(tmp_path / "groups.duckdb")
    frame = synthetic_frame()
    frame["author"] = [f"g{i // 3}" for i in range(len(frame))]  # 50 groups of three rows
    corpus = ingest_frame(store, frame, name="grouped", labels=("label",))
    data = probe_data(store, corpus, "label", group_column="author")
    folds = make_folds(data, 5, 0)
    for train, test in folds:
        assert not set(data.groups[train]) & set(data.groups[test])
    plain = probe_data(store, corpus, "label")
    first = [t.tolist() for _, t in make_folds(plain, 5, 0)]
    assert first == [t.tolist() for _, t in make_folds(plain, 5, 0)]
    assert first != [t.tolist() for _, t in make_folds(plain, 5, 1)]
    store.close()


def test_metrics_summary_and_chance() -> None:
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.2, 0.8]])
    scores = fold_scores(y, proba, 2)
    assert scores["accuracy"] == 0.75 and scores["roc_auc"] == 1.0
    assert scores["balanced_accuracy"] == 0.75
    summary = summarise([0.8, 0.9, 1.0])
    assert summary["mean"] == pytest.approx(0.9) and summary["std"] == pytest.approx(0.1)
    half = 4.302653 * 0.1 / np.sqrt(3)  # t(0.975, 2 df)
    assert summary["ci"] == pytest.approx([0.9 - half, 0.9 + half], abs=1e-5)
    assert chance_level(np.array([0, 0, 0, 1]), 2) == {"chance": 0.75, "majority_rate": 0.75}
    assert chance_level(np.array([0, 1, 2, 3]), 4)["chance"] == 0.25


def test_control_keys_and_labels() -> None:
    texts = [
        "Return the socket. The socket closes.",
        "Return the value of the flag.",
        "The the and of",
        "Return a parser for dates.",
    ]
    keys = surface_keys(texts)
    assert keys[0] == "socket"  # the most frequent content word
    assert keys[1] == "flag"  # a tie goes to the rarer word ('return' is in three texts)
    assert keys[2] == ""  # no content word at all
    labels = np.array([0, 1, 0, 1])
    drawn = control_labels(["a", "b", "a", "c"], labels, 2, seed=5)
    assert drawn[0] == drawn[2]  # one label per key
    assert np.array_equal(drawn, control_labels(["a", "b", "a", "c"], labels, 2, seed=5))


def test_one_class_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    store = Store(tmp_path / "one.duckdb")
    frame = synthetic_frame()
    frame["label"] = "same"
    corpus = ingest_frame(store, frame, name="one", labels=("label",))
    with pytest.raises(UserError, match=r"only one class \('same'\).*at least 2 classes"):
        Probe(store, corpus, ProbeRequest("label")).run()
    store.close()


def test_classes_too_small_for_the_folds_are_refused(tmp_path: Path, tmp_path_factory) -> None:
    store = Store(copy_of(template(tmp_path_factory, embed=False), tmp_path / "small.duckdb"))
    corpus = get_corpus(store, NAME)
    with pytest.raises(SmallClassesError) as caught:
        Probe(store, corpus, ProbeRequest("kind")).run()
    message = caught.value.message
    assert "too few for 5 folds" in message and "at least 5 of each class" in message
    # every class under 5 x 5 is named with its count, rarest first, and the way out is said
    assert "3 classes of 'kind' have fewer than 25 examples" in message
    assert "'module' (8), 'class' (14), 'function' (24)." in message
    assert "'method'" not in message
    assert "Set a minimum class size of 25 to drop them or merge them into 'other'" in message
    assert caught.value.classes == {"module": 8, "class": 14, "function": 24}
    assert caught.value.minimum == 25
    with pytest.raises(UserError, match="no column 'missing'"):
        probe_data(store, corpus, "missing")
    store.close()


def test_small_classes_are_dropped_or_merged_and_every_one_is_named(
    tmp_path: Path, tmp_path_factory
) -> None:
    store = Store(copy_of(template(tmp_path_factory, embed=False), tmp_path / "tail.duckdb"))
    corpus = get_corpus(store, NAME)
    merged = probe_data(store, corpus, "kind", min_class_size=25, small_classes="merge")
    assert merged.class_counts() == {"method": 44, "other": 46}
    assert merged.small_classes == {
        "min_class_size": 25,
        "rule": "merge",
        "classes": {"function": 24, "class": 14, "module": 8},
        "merged_into": "other",
    }
    assert (
        "Merged 3 class(es) of 'kind' with fewer than 25 examples into 'other' (46 row(s)): "
        "'module' (8), 'class' (14), 'function' (24)." in merged.notices
    )
    make_folds(merged, 5, 0)  # 44 and 46: enough for 5 folds
    dropped = probe_data(store, corpus, "kind", min_class_size=10)
    assert dropped.class_counts() == {"class": 14, "function": 24, "method": 44}
    assert dropped.n == 82 and dropped.small_classes["classes"] == {"module": 8}
    assert (
        "Dropped 1 class(es) of 'kind' with fewer than 10 examples (8 row(s)): 'module' (8)."
        in (dropped.notices)
    )
    assert not any("without a 'kind' label" in notice for notice in dropped.notices)
    make_folds(dropped, 2, 0)
    with pytest.raises(SmallClassesError, match=r"'class' \(14\), 'function' \(24\)\."):
        make_folds(dropped, 5, 0)  # a minimum below the folds' need: refused again, named
    with pytest.raises(UserError, match=r"only one class \('method'\) once the classes below 25"):
        probe_data(store, corpus, "kind", min_class_size=25)
    untouched = probe_data(store, corpus, "topic", min_class_size=25, small_classes="merge")
    assert untouched.small_classes is None and untouched.k == 3
    with pytest.raises(UserError, match="dropped or merged, not 'keep'"):
        ProbeRequest("kind", min_class_size=5, small_classes="keep")
    with pytest.raises(UserError, match="cannot be negative"):
        ProbeRequest("kind", min_class_size=-1)
    store.close()


def test_the_small_class_choice_is_part_of_the_key_and_the_provenance(synthetic) -> None:
    store, _ = synthetic  # its planted layers stand in for the model on any 150-row corpus
    frame = synthetic_frame()
    frame["tail"] = frame["label"].where(frame.index < 100, [f"rare{i % 3}" for i in range(150)])
    corpus = ingest_frame(store, frame, name="tail", labels=("label", "tail"))
    keep_all = Probe(store, corpus, ProbeRequest("label"))
    assert "min_class_size" not in keep_all.params  # keys of results stored before the option
    assert "small_classes" not in keep_all.params
    drop = Probe(store, corpus, ProbeRequest("tail", min_class_size=25))
    merge = Probe(store, corpus, ProbeRequest("tail", min_class_size=25, small_classes="merge"))
    assert drop.params["min_class_size"] == merge.params["min_class_size"] == 25
    assert (drop.params["small_classes"], merge.params["small_classes"]) == ("drop", "merge")
    assert drop.key != merge.key
    assert "small_classes = merge" in merge.provenance()
    with pytest.raises(
        SmallClassesError, match=r"'rare0' \(16\), 'rare1' \(17\), 'rare2' \(17\)\."
    ):
        Probe(store, corpus, ProbeRequest("tail", dims=(8,))).estimate()  # refused before a run
    merged = merge.run().result
    assert merged["classes"] == ["alpha", "beta", "other"] and merged["n"] == 150
    assert merged["small_classes"]["classes"] == {"rare0": 16, "rare1": 17, "rare2": 17}
    assert any("'rare0' (16), 'rare1' (17), 'rare2' (17)" in n for n in merged["notices"])
    caption = accuracy_figure(merged, "tail").layout.meta["caption"]
    assert "K = 3 classes (3 classes under 25 examples merged into 'other')" in caption
    assert drop.find() is None  # stored apart from the merged result
    dropped = drop.run().result
    assert dropped["classes"] == ["alpha", "beta"] and dropped["n"] == 100
    assert "under 25 examples dropped" in selectivity_figure(dropped, "tail").layout.meta["caption"]
    assert merge.find().result == merged


def test_notices_for_duplicates_small_classes_and_subsamples(tmp_path: Path, monkeypatch) -> None:
    store = Store(tmp_path / "notices.duckdb")
    frame = synthetic_frame()
    frame.loc[1, "text"] = frame.loc[60, "text"]  # the same text as alpha and as beta
    corpus = ingest_frame(store, frame, name="dups", labels=("label",))
    data = probe_data(store, corpus, "label")
    assert any("different labels" in notice for notice in data.notices)
    assert any("fewer than 50 examples" in notice for notice in data.notices) is False
    monkeypatch.setattr(probe_inputs, "SUBSAMPLE_ABOVE", 100)
    monkeypatch.setattr(probe_inputs, "SUBSAMPLE_SIZE", 90)
    sampled = probe_data(store, corpus, "label", seed=1)
    assert sampled.n == 90 and sampled.n_corpus == 150
    assert sorted(sampled.class_counts().values()) == [30, 30, 30]  # stratified
    assert any("subsample of 90 of 150" in notice for notice in sampled.notices)
    assert any("fewer than 50 examples" in notice for notice in sampled.notices)
    everything = probe_data(store, corpus, "label", subsample=0)
    assert everything.n == 150
    store.close()


@pytest.mark.slow
def test_a_real_corpus_probe_reads_every_layer(tmp_path: Path, tmp_path_factory) -> None:
    """The bundled model on 90 docstrings: 7 readouts, topic well above the majority class."""
    store = Store(copy_of(template(tmp_path_factory), tmp_path / "real.duckdb"))
    corpus = get_corpus(store, NAME)
    result = Probe(store, corpus, ProbeRequest("topic", dims=(16, 64))).run().result
    assert result["n_layers"] == 6 and len(result["layers"]) == 7
    assert result["timing"]["encoded_texts"] == 0  # every layer came from the cache
    last = result["layers"][-1]["accuracy"]["mean"]
    assert last > result["baselines"]["majority"]["accuracy"]["mean"] + 0.3
    assert result["dimension_curves"]["dims"] == [16, 64, 384]
    store.close()


@pytest.mark.slow
def test_heavy_options_random_encoder_heatmap_mlp_and_permutations(synthetic) -> None:
    store, corpus = synthetic
    request = ProbeRequest(
        "label", dims=(4, 16), heatmap=True, mlp=True, permutations=10, random_encoder=True
    )
    result = Probe(store, corpus, request).run().result
    random_layers = result["baselines"]["random_encoder"]["layers"]
    assert len(random_layers) == FAKE.n_layers + 1  # (the fake encoder returns the same layers)
    names = [trace.name for trace in accuracy_figure(result, "synthetic").data]
    assert "random-weight encoder" in names and "MLP probe" in names
    heatmap = result["heatmap"]
    assert heatmap["dims"] == [4, 16, 32] and len(heatmap["cells"]) == FAKE.n_layers + 1
    assert heatmap["cells"][SIGNAL_LAYER][-1] == pytest.approx(
        result["layers"][SIGNAL_LAYER]["accuracy"]["mean"]
    )
    assert heatmap["percent_of_full"][-1][-1] == 100.0
    mlp = result["mlp"]["layers"]
    assert mlp[SIGNAL_LAYER]["accuracy"]["mean"] > 0.8 and len(mlp) == FAKE.n_layers + 1
    tests = {entry["layer"]: entry for entry in result["permutation"]}
    assert set(tests) == {SIGNAL_LAYER, FAKE.n_layers}
    assert tests[SIGNAL_LAYER]["p_value"] == pytest.approx(1 / 11)  # the smallest possible
    assert tests[FAKE.n_layers]["permutations"] == 10
    caption = probe_heatmap_figure(result, "synthetic").layout.meta["caption"]
    assert "2D Matryoshka" in caption and "n = 150" in caption
    assert "MLP" in list(layers_table(result).columns)


def test_display_tables_show_a_dash_for_a_missing_value_not_none() -> None:
    values = {"peak": 3, "converging": None, "jump": None, "half_rise": 2}
    family = {
        **{f"{name}_layer": layer for name, layer in values.items()},
        **{f"{n}_depth_pct": None if v is None else 50.0 * v for n, v in values.items()},
        "comprehension_layer": None,
        "comprehension_depth_pct": None,
    }
    stored = depth_table({"concept_depth": {"robust": family, "paper": family}})
    shown = display_table(stored)
    assert shown["layer"].tolist()[:4] == ["3", "–", "–", "2"]
    assert shown["depth %"].tolist()[:4] == ["150", "–", "–", "100"]
    assert "None" not in shown.astype(str).to_numpy() and "nan" not in shown.astype(str).to_numpy()
    assert shown["marker"].tolist() == stored["marker"].tolist()  # columns without gaps stay
    assert stored["layer"].isna().sum() == 5  # the data behind downloads keeps its nulls


def test_pair_heatmap_maths() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 40, 16))
    b = a + 0.05 * rng.standard_normal((3, 40, 16))
    b[0] = rng.standard_normal((40, 16))  # layer 0 of b: unrelated to a
    scores = np.sum(a[2] * b[2], axis=1) / (
        np.linalg.norm(a[2], axis=1) * np.linalg.norm(b[2], axis=1)
    )
    heatmap = pair_heatmap(a, b, scores, (4, 8))
    assert heatmap["dims"] == [4, 8, 16]
    assert heatmap["cells"][2][-1] == pytest.approx(100.0)  # the score is layer 2's cosine
    assert abs(heatmap["cells"][0][-1]) < 50
