"""Comparison results in words and tables, for the Compare page and its downloads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def compare_reading(result: dict[str, Any]) -> str:
    overlap, spearman = result["knn_overlap"], result["distance_spearman"]
    k = overlap["k"]
    rho = "undefined" if spearman["rho"] is None else f"{spearman['rho']:.3f}"
    return (
        f"Linear CKA {result['cka']:.3f}; on average {overlap['mean'] * k:.1f} of each text's "
        f"{k} nearest neighbours are the same in both (median {overlap['quantiles']['0.5'] * k:.0f}"
        f", chance {overlap['chance'] * k:.2f}); pairwise cosine distances correlate at "
        f"Spearman ρ = {rho}."
    )


def overlap_frame(result: dict[str, Any], texts: list[str]) -> pd.DataFrame:
    """Per-document overlap and change, for the change map's data download."""
    overlap = result["knn_overlap"]["per_point"]
    return pd.DataFrame(
        {
            "doc_id": range(len(overlap)),
            "text": texts,
            "overlap": overlap,
            "change": [round(1.0 - v, 4) for v in overlap],
        }
    )


def overlap_counts_frame(result: dict[str, Any]) -> pd.DataFrame:
    """How many texts share 0..k of their k neighbours: the overlap histogram's bars and the
    data download under it."""
    overlap = result["knn_overlap"]
    k = overlap["k"]
    shared = np.rint(np.asarray(overlap["per_point"], dtype=float) * k).astype(int)
    return pd.DataFrame(
        {
            "shared_neighbours": range(k + 1),
            "k": k,
            "texts": np.bincount(shared, minlength=k + 1),
        }
    )


def top_changed_frame(result: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(result["top_changed"])


def top_changed_note(result: dict[str, Any]) -> str:
    """How the list of most-changed texts is ranked, and how many texts it leaves out (ties
    beyond it, unchanged texts), counted from the per-text overlap."""
    overlap = np.asarray(result["knn_overlap"]["per_point"], dtype=float)
    k = result["knn_overlap"]["k"]
    unchanged = int((overlap >= 1.0).sum())
    changed = overlap.size - unchanged
    hidden = f"{unchanged:,} unchanged texts (all {k} neighbours shared) are not listed."
    if not changed:
        return f"No text's neighbourhood changed: {hidden}"
    shown = len(result["top_changed"])
    top = float(overlap.min())
    tied = int((overlap == top).sum())
    ties = (
        f" {tied:,} texts tie at the largest change, {1.0 - top:.2f}; drift decides which "
        "of them are listed."
        if tied > 1
        else ""
    )
    return (
        f"Ranked by change (1 − overlap@{k}: the share of a text's {k} nearest neighbours "
        "that A and B do not share), largest first; ties by drift (how much farther, in mean "
        "cosine distance, each side's neighbours lie in the other space than its own). "
        f"{shown:,} of {changed:,} changed texts listed.{ties} {hidden}"
    )


def layer_cka_frame(result: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"layer": row_layer, "against_layer": col_layer, "cka": value}
            for row_layer, row in zip(result["layers"], result["matrix"], strict=True)
            for col_layer, value in zip(result["against_layers"], row, strict=True)
        ]
    )


def layer_cka_reading(result: dict[str, Any]) -> str:
    matrix = result["matrix"]
    if result["model"] != result["against"]:
        best = max((value, i, j) for i, row in enumerate(matrix) for j, value in enumerate(row))
        return (
            f"The most similar pair is layer {best[1]} of {result['model']} and layer {best[2]} "
            f"of {result['against']} (CKA {best[0]:.3f})."
        )
    neighbours = [matrix[i][i + 1] for i in range(len(matrix) - 1)]
    return (
        f"Adjacent layers have CKA {min(neighbours):.3f}–{max(neighbours):.3f}; the embedding "
        f"layer and the last layer have CKA {matrix[0][-1]:.3f}."
    )
