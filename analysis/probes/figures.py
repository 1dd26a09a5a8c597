"""Figures of a probe result: accuracy per layer, selectivity, dimension curves, layer x dimension.

Every figure carries its provenance (corpus, label, model, pooling, folds, seed, n, K) and the
papers its method follows, so a chart pasted into a report still says how it was made.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from analysis.output.style import PALETTE, escape, style_figure
from analysis.probes.concept_depth import ROBUST_NOTE
from analysis.probes.metrics import INTERVAL

JIN = "Jin et al. (COLING 2025)"
HEWITT = "Hewitt & Liang (2019)"
MRL = "Kusupati et al. (2022, Matryoshka Representation Learning)"
TWO_D = "Li et al. (2024, 2D Matryoshka Sentence Embeddings)"
METHOD_NAMES = {
    "prefix": "prefix (first d, re-normalised)",
    "pca": "PCA top-d (fitted per training fold)",
    "random": "random projection (3 seeds)",
}
METHOD_COLOURS = {"prefix": PALETTE[0], "pca": PALETTE[2], "random": PALETTE[1]}
LAYER_DASHES = ("solid", "dash", "dot", "dashdot")


def provenance(result: dict[str, Any], corpus: str) -> str:
    """Who, what and how: the part of every probe caption that makes it reproducible."""
    sampled = (
        f" (stratified subsample of {result['n_corpus']:,})"
        if result["n"] < result["n_corpus"]
        else ""
    )
    return (
        f"Corpus {escape(corpus)}, label '{escape(result['label_column'])}': n = {result['n']:,}"
        f"{sampled}, K = {result['k']} classes{_small_classes(result)}. Model "
        f"{escape(result['model'])}, {result['pooling']} pooling per layer. "
        f"{escape(result['cv'])}, seed {result['seed']}."
    )


def _small_classes(result: dict[str, Any]) -> str:
    """What a minimum class size did to the label, if anything (the notice names the classes)."""
    done = result.get("small_classes")
    if not done:
        return ""
    count = len(done["classes"])
    what = f"merged into '{escape(done['merged_into'])}'" if done["rule"] == "merge" else "dropped"
    return (
        f" ({count} class{'es' if count > 1 else ''} under {done['min_class_size']:,} "
        f"examples {what})"
    )


def _layer_axis(fig: go.Figure, result: dict[str, Any]) -> None:
    layers = [entry["layer"] for entry in result["layers"]]
    fig.update_xaxes(
        title_text="layer (% depth); 0 = embedding layer",
        tickvals=layers,
        ticktext=[f"{e['layer']} ({e['depth_pct']:g}%)" for e in result["layers"]],
    )


def _band(fig: go.Figure, x: list, low: list, high: list, colour: str, name: str) -> None:
    """A filled interval between two curves, kept out of the legend's way."""
    fig.add_trace(go.Scatter(x=x, y=high, mode="lines", line={"width": 0}, showlegend=False))
    fig.add_trace(
        go.Scatter(
            x=x,
            y=low,
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=_transparent(colour),
            name=name,
            hoverinfo="skip",
        )
    )


def _transparent(colour: str, alpha: float = 0.18) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def accuracy_figure(result: dict[str, Any], corpus: str) -> go.Figure:
    """Probe accuracy per layer with fold dots and interval, control, chance and baselines."""
    layers = result["layers"]
    x = [e["layer"] for e in layers]
    fig = go.Figure()
    _band(
        fig,
        x,
        [e["accuracy"]["ci"][0] for e in layers],
        [e["accuracy"]["ci"][1] for e in layers],
        PALETTE[0],
        "probe 95% interval (approx.)",
    )
    fig.add_trace(
        go.Scatter(
            x=[e["layer"] for e in layers for _ in e["accuracy"]["folds"]],
            y=[v for e in layers for v in e["accuracy"]["folds"]],
            mode="markers",
            marker={"size": 5, "color": PALETTE[0], "opacity": 0.45},
            name="probe, each fold",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[e["accuracy"]["mean"] for e in layers],
            mode="lines+markers",
            line={"color": PALETTE[0], "width": 2.5},
            name="linear probe (mean over folds)",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[e["control_accuracy"]["mean"] for e in layers],
            error_y={"type": "data", "array": [e["control_accuracy"]["std"] for e in layers]},
            mode="lines+markers",
            line={"color": PALETTE[5], "dash": "dash"},
            name=f"control task (its chance {result['control']['chance']:.3f})",
        )
    )
    baselines = result["baselines"]
    random_encoder = baselines.get("random_encoder")
    if random_encoder:
        fig.add_trace(
            go.Scatter(
                x=[e["layer"] for e in random_encoder["layers"]],
                y=[e["accuracy"]["mean"] for e in random_encoder["layers"]],
                mode="lines+markers",
                line={"color": PALETTE[7], "dash": "dot"},
                name="random-weight encoder",
            )
        )
    if result.get("mlp"):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[e["accuracy"]["mean"] for e in result["mlp"]["layers"]],
                mode="lines+markers",
                line={"color": PALETTE[3]},
                name="MLP probe",
            )
        )
    fig.add_hline(
        y=result["chance"],
        line={"color": "#777777", "dash": "dash", "width": 1},
        annotation_text=f"chance {result['chance']:.3f}",
        annotation_position="bottom right",
    )
    if "tfidf" in baselines:
        tfidf = baselines["tfidf"]["accuracy"]["mean"]
        fig.add_hline(
            y=tfidf,
            line={"color": PALETTE[2], "dash": "dot", "width": 1.5},
            annotation_text=f"TF-IDF + LR {tfidf:.3f}",
            annotation_position="top left",
        )
    peak, converging = result["peak_layer"], result["converging_layer"]
    fig.add_vline(x=peak, line={"color": PALETTE[0], "width": 1, "dash": "dot"})
    if converging is not None and converging != peak:
        fig.add_vline(x=converging, line={"color": "#999999", "width": 1, "dash": "dot"})
    _layer_axis(fig, result)
    fig.update_yaxes(title_text="accuracy (held-out folds)", range=[0, 1.02])
    # Beside the plot: above it the legend ran into the title.
    fig.update_layout(legend={"x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"})
    depth = result["concept_depth"]["robust"]
    jump = "none" if depth["jump_layer"] is None else f"layer {depth['jump_layer']}"
    conv = "none" if converging is None else f"layer {converging}"
    caption = (
        f"{provenance(result, corpus)} Probe: {result['probe']}. Band: {INTERVAL}; dots: folds. "
        f"Control task after {HEWITT}: {result['control']['definition']}, one random label per "
        f"key from the label distribution (seed {result['control']['seed']}). Chance = "
        f"max(majority, 1/K). Dotted lines: peak layer {peak}, converging {conv}; jump {jump} "
        f"({ROBUST_NOTE})."
    )
    title = f"Where is '{escape(result['label_column'])}' decodable? Probe accuracy per layer"
    return style_figure(fig, title, caption, height=560)


def selectivity_figure(result: dict[str, Any], corpus: str) -> go.Figure:
    """Accuracy minus control accuracy per layer, paired by fold, with its fold spread."""
    layers = result["layers"]
    fig = go.Figure(
        go.Bar(
            x=[e["layer"] for e in layers],
            y=[e["selectivity"]["mean"] for e in layers],
            error_y={"type": "data", "array": [e["selectivity"]["std"] for e in layers]},
            marker_color=PALETTE[4],
            name="linear probe",
        )
    )
    if result.get("mlp"):
        fig.add_trace(
            go.Bar(
                x=[e["layer"] for e in result["mlp"]["layers"]],
                y=[e["selectivity"]["mean"] for e in result["mlp"]["layers"]],
                error_y={
                    "type": "data",
                    "array": [e["selectivity"]["std"] for e in result["mlp"]["layers"]],
                },
                marker_color=PALETTE[3],
                name="MLP probe",
            )
        )
        fig.update_layout(barmode="group")
    _layer_axis(fig, result)
    fig.update_yaxes(title_text="selectivity")
    caption = (
        f"{provenance(result, corpus)} Selectivity after {HEWITT}: probe accuracy minus the same "
        f"probe's accuracy on the control task, per fold; bars = mean, whiskers = std over folds. "
        f"High selectivity = the accuracy is not just memorised surface keys."
    )
    return style_figure(fig, "Selectivity per layer", caption)


def dimension_figure(result: dict[str, Any], corpus: str) -> go.Figure:
    """Accuracy against the number of dimensions kept, per reduction and chosen layer."""
    section = result["dimension_curves"]
    fig = go.Figure()
    for index, layer in enumerate(section["layers"]):
        for method, label in METHOD_NAMES.items():
            points = [c for c in section["curves"] if c["layer"] == layer and c["method"] == method]
            fig.add_trace(
                go.Scatter(
                    x=[c["d"] for c in points],
                    y=[c["accuracy"]["mean"] for c in points],
                    error_y={"type": "data", "array": [c["accuracy"]["std"] for c in points]},
                    mode="lines+markers",
                    line={
                        "color": METHOD_COLOURS[method],
                        "dash": LAYER_DASHES[index % len(LAYER_DASHES)],
                    },
                    name=f"layer {layer}: {label}",
                )
            )
    fig.add_hline(y=result["chance"], line={"color": "#777777", "dash": "dash", "width": 1})
    fig.update_xaxes(
        type="log",
        title_text="dimensions kept (d; log scale)",
        tickvals=section["dims"],
        ticktext=[str(d) for d in section["dims"]],
    )
    fig.update_yaxes(title_text="accuracy (held-out folds)", range=[0, 1.02])
    caption = (
        f"{provenance(result, corpus)} Same probe and folds at every d; whiskers = std over "
        f"folds; dashed line = chance. Reductions after {MRL} and {TWO_D}: prefix truncation "
        f"then re-normalisation (MRL convention), PCA fitted on each training fold, Gaussian "
        f"random projection. A model not trained as a Matryoshka shows prefix ≈ random."
    )
    return style_figure(fig, "Accuracy by number of dimensions", caption, height=520)


def probe_heatmap_figure(result: dict[str, Any], corpus: str, relative: bool = False) -> go.Figure:
    """The 5-fold layer x dimension accuracy heatmap of a probe run."""
    head = f"{provenance(result, corpus)} Mean accuracy over the same folds."
    return _heatmap_figure(result["heatmap"], head, relative)


def pair_heatmap_figure(result: dict[str, Any], corpus: str, relative: bool = False) -> go.Figure:
    """Layer x dimension Spearman heatmap of a sentence-pair corpus."""
    head = (
        f"Corpus {escape(corpus)}: n = {result['n']:,} pairs (text, "
        f"'{escape(result['pair_column'])}'), gold score '{escape(result['score_column'])}'. "
        f"Model {escape(result['model'])}, {result['pooling']} pooling per layer; no fitting."
    )
    return _heatmap_figure(result["heatmap"], head, relative)


def _heatmap_figure(heatmap: dict[str, Any], caption_head: str, relative: bool) -> go.Figure:
    """Layers x dimensions; cells as values or as % of the full model (last layer, full d)."""
    cells = heatmap["percent_of_full"] if relative else heatmap["cells"]
    fmt = ".0f" if relative or heatmap["value"] == "spearman_x100" else ".2f"
    fig = go.Figure(
        go.Heatmap(
            z=cells,
            x=[str(d) for d in heatmap["dims"]],
            y=[str(layer) for layer in heatmap["layers"]],
            colorscale="Viridis",
            texttemplate=f"%{{z:{fmt}}}",
            colorbar={"title": {"text": "% of full" if relative else heatmap["value"]}},
            hovertemplate="layer %{y}, d = %{x}: %{z:.3f}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="dimensions kept (prefix)", type="category")
    fig.update_yaxes(title_text="layer", type="category")
    what = "% of the last layer at full d" if relative else heatmap["label"]
    caption = (
        f"{caption_head} Cell = {what}. Truncation in layers and dimensions after {TWO_D}; "
        f"prefix truncation as in {MRL}."
    )
    title = "Layer × dimension" + (" (% of full model)" if relative else "")
    return style_figure(fig, title, caption, height=520)


def paper_figure(result: dict[str, Any], corpus: str) -> go.Figure:
    """The Concept-Depth replication: accuracy, F1 and AUC per layer on one 60/40 split."""
    layers = result["layers"]
    x = [e["layer"] for e in layers]
    fig = go.Figure()
    for metric, colour in (
        ("accuracy", PALETTE[0]),
        ("macro_f1", PALETTE[1]),
        ("roc_auc", PALETTE[2]),
    ):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[e[metric] for e in layers],
                mode="lines+markers",
                line={"color": colour},
                name=metric.replace("_", "-"),
            )
        )
    paper = result["concept_depth"]["paper"]
    for key, label in (("jump_layer", "jump"), ("converging_layer", "converging")):
        if paper[key] is not None:
            fig.add_vline(
                x=paper[key],
                line={"color": "#777777", "dash": "dot", "width": 1},
                annotation_text=label,
            )
    fig.add_hline(y=0.7, line={"color": "#BBBBBB", "dash": "dash", "width": 1})
    _layer_axis(fig, result)
    fig.update_yaxes(title_text="score on the 40% test split", range=[0, 1.02])
    caption = (
        f"Corpus {escape(corpus)}, label '{escape(result['label_column'])}': n = {result['n']:,}, "
        f"K = {result['k']}. Model {escape(result['model'])}, last-token pooling. Replication "
        f"of {JIN}: one 60/40 split (random_state 42), no scaling, scikit-learn "
        f"LogisticRegression defaults. Paper definitions: jump = first layer with A[i]/A[i-1] "
        f">= 1.1; converging = start of the final stretch with |A[i]/A[i-1] - 1| < 0.03; "
        f"dashed = 0.7 comprehension level. A single split: no interval."
    )
    return style_figure(fig, "Concept Depth (paper mode)", caption)
