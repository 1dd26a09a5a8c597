"""Probe results in words and tables: the one-line reading a page shows, and the data behind charts.

A chart needs a sentence next to it that says what it means, with the numbers that support it;
writing it here (not in the page) keeps it testable and identical on every surface.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def probe_reading(result: dict[str, Any]) -> str:
    """E.g. "'topic' is decodable well above chance (0.106) from layer 0 (0.649) ..."."""
    layers = result["layers"]
    peak = layers[result["peak_layer"]]
    first, last = layers[0], layers[-1]
    chance = result["chance"]
    accuracy = peak["accuracy"]["mean"]
    strength = (
        "well above"
        if accuracy >= chance + 0.2
        else "above"
        if peak["accuracy"]["ci"][0] > chance
        else "not clearly above"
    )
    control = [e["control_accuracy"]["mean"] for e in layers]
    parts = [
        f"'{result['label_column']}' is decodable {strength} chance ({chance:.3f}): "
        f"{first['accuracy']['mean']:.3f} at layer 0, peak {accuracy:.3f} ± "
        f"{peak['accuracy']['std']:.3f} at layer {result['peak_layer']} of {result['n_layers']}, "
        f"{last['accuracy']['mean']:.3f} at the last layer",
        f"the control task stays at {min(control):.3f}–{max(control):.3f} (its chance "
        f"{result['control']['chance']:.3f}), so selectivity at the peak is "
        f"{peak['selectivity']['mean']:.3f}",
    ]
    tfidf = result["baselines"].get("tfidf")
    if tfidf:
        parts.append(f"TF-IDF + LR on the words reaches {tfidf['accuracy']['mean']:.3f}")
    return "; ".join(parts) + "."


def layers_table(result: dict[str, Any]) -> pd.DataFrame:
    """One row per layer: every metric's mean, the interval, control and selectivity."""
    rows = []
    random_layers = (result["baselines"].get("random_encoder") or {}).get("layers")
    mlp_layers = (result.get("mlp") or {}).get("layers")
    for entry in result["layers"]:
        row = {
            "layer": entry["layer"],
            "depth %": entry["depth_pct"],
            "accuracy": entry["accuracy"]["mean"],
            "accuracy std": entry["accuracy"]["std"],
            "95% CI low": entry["accuracy"]["ci"][0],
            "95% CI high": entry["accuracy"]["ci"][1],
            "balanced accuracy": entry["balanced_accuracy"]["mean"],
            "macro-F1": entry["macro_f1"]["mean"],
            "ROC-AUC": entry["roc_auc"]["mean"],
            "control accuracy": entry["control_accuracy"]["mean"],
            "selectivity": entry["selectivity"]["mean"],
        }
        if random_layers:
            row["random encoder"] = random_layers[entry["layer"]]["accuracy"]["mean"]
        if mlp_layers:
            row["MLP"] = mlp_layers[entry["layer"]]["accuracy"]["mean"]
            row["MLP selectivity"] = mlp_layers[entry["layer"]]["selectivity"]["mean"]
        rows.append(row)
    return pd.DataFrame(rows)


def baselines_table(result: dict[str, Any]) -> pd.DataFrame:
    names = {
        "majority": "majority class",
        "tfidf": "TF-IDF + LR (words)",
        "layer0": "layer 0 (embeddings)",
    }
    rows = [
        {
            "baseline": label,
            "accuracy": result["baselines"][key]["accuracy"]["mean"],
            "std": result["baselines"][key]["accuracy"]["std"],
        }
        for key, label in names.items()
        if key in result["baselines"]
    ]
    rows.append({"baseline": "chance = max(majority, 1/K)", "accuracy": result["chance"], "std": 0})
    return pd.DataFrame(rows)


def depth_table(result: dict[str, Any]) -> pd.DataFrame:
    """Concept-depth markers under both sets of definitions, in layers and % depth."""
    depth = result["concept_depth"]
    rows = []
    for family, names in (
        ("robust (shown)", ("peak", "converging", "jump", "half_rise")),
        ("paper (Jin et al.)", ("jump", "converging", "comprehension")),
    ):
        values = depth["robust" if family.startswith("robust") else "paper"]
        for name in names:
            rows.append(
                {
                    "definitions": family,
                    "marker": name.replace("_", "-"),
                    "layer": values[f"{name}_layer"],
                    "depth %": values[f"{name}_depth_pct"],
                }
            )
    return pd.DataFrame(rows)


MISSING = "–"


def display_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for the screen: a value that is not there (a marker never reached, an AUC left
    undefined) shows as "–", not as the word None. Columns with a gap become text; the frames
    behind charts and downloads keep their numbers and nulls.
    """
    shown = frame.copy()
    for column in shown.columns:
        if shown[column].isna().any():
            # convert_dtypes: a layer column with a gap is read as floats; show 3, not 3.0.
            shown[column] = [
                MISSING if pd.isna(v) else f"{v:g}" if isinstance(v, float) else str(v)
                for v in shown[column].convert_dtypes()
            ]
    return shown


def dimension_table(result: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "layer": c["layer"],
                "method": c["method"],
                "d": c["d"],
                "accuracy": c["accuracy"]["mean"],
                "std": c["accuracy"]["std"],
            }
            for c in result["dimension_curves"]["curves"]
        ]
    )


def heatmap_table(heatmap: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"layer": layer, "d": d, heatmap["value"]: value, "% of full": percent}
            for layer, row, percents in zip(
                heatmap["layers"], heatmap["cells"], heatmap["percent_of_full"], strict=True
            )
            for d, value, percent in zip(heatmap["dims"], row, percents, strict=True)
        ]
    )


def _marker(layer: int | None, percent: float | None) -> str:
    return "none" if layer is None else f"layer {layer} ({percent:g}% depth)"


def paper_reading(result: dict[str, Any]) -> str:
    paper = result["concept_depth"]["paper"]
    accuracy = [e["accuracy"] for e in result["layers"]]
    jump = _marker(paper["jump_layer"], paper["jump_depth_pct"])
    converging = _marker(paper["converging_layer"], paper["converging_depth_pct"])
    return (
        f"Paper mode ({result['split']}): accuracy {accuracy[0]:.3f} at layer 0 to "
        f"{accuracy[-1]:.3f} at the last layer; jumping point {jump}, converging point "
        f"{converging} (paper definitions; one split, so no interval)."
    )


def paper_table(result: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(result["layers"])


def pair_reading(result: dict[str, Any]) -> str:
    heatmap = result["heatmap"]
    cells = [
        (value, layer, d)
        for layer, row in zip(heatmap["layers"], heatmap["cells"], strict=True)
        for d, value in zip(heatmap["dims"], row, strict=True)
        if value is not None
    ]
    if not cells:
        return "No cell has a defined rank correlation (every cosine or score is constant)."
    best = max(cells)
    full = heatmap["cells"][-1][-1]
    at_full = "undefined" if full is None else f"{full:.1f}"
    return (
        f"Spearman ρ × 100 between pair cosine and '{result['score_column']}' over "
        f"{result['n']:,} pairs: {at_full} at the last layer with all {heatmap['dims'][-1]} "
        f"dimensions; best {best[0]:.1f} at layer {best[1]}, d = {best[2]}."
    )
