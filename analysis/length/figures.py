"""The figures of the Length page, built from a LengthReport, each with its data table.

One function per diagnostic of length_collapse.md; every figure carries the provenance caption
(model, design, lengths, texts per bucket, temperatures, seed, the paper) through style_figure, so
an exported chart still says how it was made. ``FIGURES`` lists them in page order with a
one-line "what it measures" for the page to show above each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.length.attention import NOTE as ATTENTION_NOTE
from analysis.length.attention import TEXTS_PER_LENGTH
from analysis.length.collapse import LengthReport
from analysis.length.stats import BOOTSTRAP
from analysis.output.style import PALETTE, escape, style_figure

GREY = "#777777"


def _tau_name(tau: float) -> str:
    return f"τ = {tau:g}"


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _caption(report: LengthReport, taus: list[float] | None, detail: str) -> str:
    return f"{report.caption(taus)} {detail}".strip()


def _mean_tokens(report: LengthReport) -> list[float]:
    return [row["mean_tokens"] for row in report.reference["buckets"]]


def log_ticks(values: list[float]) -> list[int]:
    """Powers of two from below the shortest to above the longest length.

    Ticks at the buckets themselves, labelled with their names, made the log axis read like a
    list of categories (doubling lengths sit evenly apart); numbers on a doubling grid show
    both the scale and where each bucket falls on it.
    """
    low = int(np.floor(np.log2(max(min(values), 1))))
    high = int(np.ceil(np.log2(max(max(values), 2))))
    return [2**e for e in range(low, high + 1)]


def _length_axis(fig: go.Figure, report: LengthReport, **where: int) -> None:
    """A real log axis of mean tokens per bucket; the bucket names are in the hover text."""
    ticks = log_ticks(_mean_tokens(report))
    fig.update_xaxes(
        type="log",
        tickvals=ticks,
        ticktext=[f"{tick:,}" for tick in ticks],
        title_text="mean tokens per text (log scale)",
        **where,
    )


def collapse_figure(report: LengthReport) -> go.Figure:
    """Diagnostics 1, 6 and 12: MPC by length per tau, with the pooling-only null model (layer 0)
    and the post-hoc baselines (mean-centring, whitening) on the same axes."""
    x, names = _mean_tokens(report), report.bucket_names
    fig = go.Figure()
    for index, (tau, result) in enumerate(report.taus.items()):
        rows = result["buckets"]
        mpcs = [row["mpc"] for row in rows]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=mpcs,
                name=f"{_tau_name(tau)} (gap {result['gap']:+.3f})",
                mode="lines+markers",
                line={"color": _colour(index)},
                text=names,
                error_y={
                    "type": "data",
                    "array": [row["ci"][1] - m for row, m in zip(rows, mpcs, strict=True)],
                    "arrayminus": [m - row["ci"][0] for row, m in zip(rows, mpcs, strict=True)],
                },
                hovertemplate="%{text}: MPC %{y:.3f}<extra>%{fullData.name}</extra>",
            )
        )
    ref = report.reference["buckets"]
    overlays = (
        ("layer 0, pooling only (τ = 1)", lambda row: row["pooled_mpc"][0], "dot", GREY),
        ("mean-centred (τ = 1)", lambda row: row["centered_mpc"], "dash", _colour(8)),
        ("whitened (τ = 1)", lambda row: row["whitened_mpc"], "dashdot", _colour(9)),
    )
    for name, value, dash, colour in overlays:
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[value(row) for row in ref],
                name=name,
                mode="lines+markers",
                line={"dash": dash, "color": colour},
                text=names,
                hovertemplate="%{text}: %{y:.3f}<extra>%{fullData.name}</extra>",
            )
        )
    _length_axis(fig, report)
    fig.update_yaxes(title_text="mean pairwise cosine")
    n_texts, dim = report.reference["sample"]["n_texts"], report.reference["dim"]
    degenerate = (
        f" With {n_texts} texts for {dim} dimensions whitening is degenerate (every pair "
        "ends near the same cosine)."
        if n_texts <= dim
        else ""
    )
    return style_figure(
        fig,
        "Length collapse: mean pairwise cosine by length",
        _caption(
            report,
            None,
            f"Error bars: seeded bootstrap 95% intervals ({BOOTSTRAP} resamples). Layer 0 = "
            "mean of the input embeddings, the averaging null model; centring and whitening "
            f"are fitted on the sample.{degenerate}",
        ),
        height=520,
    )


def _heatmap(
    z: np.ndarray, x: list[str], y: list[str], colorbar_x: float | None = None
) -> go.Heatmap:
    return go.Heatmap(
        z=z,
        x=x,
        y=y,
        colorscale="Viridis",
        text=np.round(z, 3),
        texttemplate="%{text}",
        hovertemplate="%{y} × %{x}: %{z:.3f}<extra></extra>",
        colorbar={"x": colorbar_x} if colorbar_x is not None else None,
    )


def cross_length_figure(report: LengthReport, tau: float) -> go.Figure:
    """Diagnostic 2: mean cosine between texts of two lengths, and between bucket centroids."""
    names = report.bucket_names
    cross = report.taus[tau]["cross"]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("mean cos(e_i, e_j), i in row, j in column", "centroid cosine"),
        horizontal_spacing=0.24,  # room for the first colour bar and the second's row labels
    )
    fig.add_trace(_heatmap(np.array(cross["pairwise"]), names, names, 0.39), row=1, col=1)
    fig.add_trace(_heatmap(np.array(cross["centroid"]), names, names), row=1, col=2)
    fig.update_yaxes(autorange="reversed")
    return style_figure(
        fig,
        f"Cross-length similarity ({_tau_name(tau)})",
        _caption(report, [tau], "Diagonal: pairs of different texts of the same length."),
    )


def length_map_figure(report: LengthReport, tau: float) -> go.Figure:
    """Diagnostic 3: 2-D PCA of the sample's embeddings, coloured by length."""
    data = report.taus[tau]["map"]
    x, y, bucket = np.array(data["x"]), np.array(data["y"]), np.array(data["bucket"])
    fig = go.Figure()
    for index, name in enumerate(report.bucket_names):
        keep = bucket == index
        fig.add_trace(
            go.Scatter(
                x=x[keep],
                y=y[keep],
                mode="markers",
                name=escape(name),
                marker={"size": 5, "opacity": 0.7, "color": _colour(index)},
            )
        )
    first, second = data["explained"]
    fig.update_xaxes(title_text=f"PC 1 ({first:.0%} of variance)")
    fig.update_yaxes(title_text=f"PC 2 ({second:.0%} of variance)")
    return style_figure(
        fig,
        f"Embeddings by length, PCA ({_tau_name(tau)})",
        _caption(report, [tau], "PCA fitted on this temperature's embeddings."),
    )


def spread_rank_figure(report: LengthReport) -> go.Figure:
    """Diagnostic 4: distance to the bucket centroid, effective rank, PC1 share; per tau."""
    panels = (
        ("distance to centroid", "spread"),
        ("effective rank", "effective_rank"),
        ("PC1 share of variance", "pc1_share"),
    )
    fig = make_subplots(rows=1, cols=3, subplot_titles=[title for title, _ in panels])
    x = _mean_tokens(report)
    for index, (tau, result) in enumerate(report.taus.items()):
        for col, (_, key) in enumerate(panels, start=1):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[row[key] for row in result["buckets"]],
                    name=_tau_name(tau),
                    legendgroup=str(tau),
                    showlegend=col == 1,
                    mode="lines+markers",
                    line={"color": _colour(index)},
                    text=[escape(name) for name in report.bucket_names],
                    hovertemplate="%{text}: %{y:.3f}<extra>%{fullData.name}</extra>",
                ),
                row=1,
                col=col,
            )
    for col in (1, 2, 3):
        _length_axis(fig, report, row=1, col=col)
    return style_figure(
        fig,
        "Spread and rank per length bucket",
        _caption(
            report,
            None,
            "Effective rank = exp(entropy of the normalised singular values) of the centred "
            "bucket matrix; equal N per bucket, so ranks are comparable.",
        ),
    )


def layer_heatmap_figure(report: LengthReport, tau: float) -> go.Figure:
    """Diagnostic 5: MPC of every mean-pooled layer by length; row 0 has seen no attention."""
    rows = report.taus[tau]["buckets"]
    z = np.array([row["pooled_mpc"] for row in rows]).T
    labels = ["0 (embeddings)"] + [str(layer) for layer in range(1, z.shape[0])]
    fig = go.Figure(_heatmap(z, report.bucket_names, labels))
    fig.update_yaxes(title_text="layer", autorange="reversed", type="category")
    fig.update_xaxes(title_text="length")
    return style_figure(
        fig,
        f"Pooled MPC by layer and length ({_tau_name(tau)})",
        _caption(
            report,
            [tau],
            "Each cell: mean pairwise cosine of mean-pooled layer states (layer 0 = input "
            "embeddings, the averaging baseline).",
        ),
    )


def _per_layer_lines(
    fig: go.Figure, report: LengthReport, series: list[list[float]], col: int
) -> None:
    for index, (name, values) in enumerate(zip(report.bucket_names, series, strict=True)):
        fig.add_trace(
            go.Scatter(
                x=list(range(len(values))),
                y=values,
                name=escape(name),
                legendgroup=name,
                showlegend=col == 1,
                mode="lines+markers",
                line={"color": _colour(index)},
            ),
            row=1,
            col=col,
        )
    fig.update_xaxes(title_text="layer", dtick=1, row=1, col=col)


def smoothing_figure(report: LengthReport, tau: float) -> go.Figure:
    """Diagnostic 7: token over-smoothing per layer, one line per length."""
    rows = report.taus[tau]["buckets"]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("HC/DC energy ratio ||(I−J)X|| / ||JX||", "mean cosine among own tokens"),
    )
    _per_layer_lines(fig, report, [row["hc_dc"] for row in rows], 1)
    _per_layer_lines(fig, report, [row["token_mpc"] for row in rows], 2)
    return style_figure(
        fig,
        f"Token over-smoothing by layer ({_tau_name(tau)})",
        _caption(
            report,
            [tau],
            "Averaged over every text of each length; lower HC/DC and higher own-token cosine "
            "mean smoother (more uniform) token states.",
        ),
    )


def attention_figure(report: LengthReport, tau: float) -> go.Figure:
    """Diagnostic 8: attention as a filter per layer and length, on the subsample."""
    data = report.attention[tau]
    fig = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=("σ_a of (I−J)A", "HC retention ρ", "entropy / log n"),
    )
    for col, key in enumerate(("sigma", "retention", "entropy"), start=1):
        values = np.array(data[key])
        for index, name in enumerate(data["buckets"]):
            fig.add_trace(
                go.Scatter(
                    x=data["layers"],
                    y=values[:, index],
                    name=escape(name),
                    legendgroup=name,
                    showlegend=col == 1,
                    mode="lines+markers",
                    line={"color": _colour(report.bucket_names.index(name))},
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="layer", dtick=1, row=1, col=col)
    return style_figure(
        fig,
        f"Attention as a filter ({_tau_name(tau)})",
        _caption(
            report,
            [tau],
            f"Eager attention on {TEXTS_PER_LENGTH} texts per length, averaged over heads; σ_a "
            f"by 30-step power iteration. {ATTENTION_NOTE}",
        ),
        height=520,
    )


def probe_figure(report: LengthReport) -> go.Figure:
    """Diagnostic 9: how well a linear probe recovers the length bucket, per bucket and tau."""
    fig = go.Figure()
    x = report.bucket_names
    for index, (tau, result) in enumerate(report.taus.items()):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[row["probe_accuracy"] for row in result["buckets"]],
                name=f"{_tau_name(tau)} (overall {result['probe']['accuracy']:.0%})",
                mode="lines+markers",
                line={"color": _colour(index)},
            )
        )
    chance = report.reference["probe"]["chance"]
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[chance] * len(x),
            name="chance",
            mode="lines",
            line={"dash": "dot", "color": GREY},
        )
    )
    fig.update_yaxes(title_text="probe accuracy on the bucket's texts", range=[0, 1.02])
    fig.update_xaxes(title_text="length", type="category")
    return style_figure(
        fig,
        "Length probe: can the embedding tell its length?",
        _caption(
            report,
            None,
            f"Logistic regression on standardised embeddings, 5-fold cross-validation with "
            f"every copy of a text in one fold; chance 1/{len(x)} = {chance:.0%}.",
        ),
    )


def task_figure(report: LengthReport) -> go.Figure:
    """Diagnostic 10: label accuracy within each length bucket, per tau."""
    label = report.reference["task"]["label_column"]
    fig = go.Figure()
    x = report.bucket_names
    for index, (tau, result) in enumerate(report.taus.items()):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[row["task_accuracy"] for row in result["buckets"]],
                name=_tau_name(tau),
                mode="lines+markers",
                line={"color": _colour(index)},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[row["majority_share"] for row in report.reference["buckets"]],
            name="majority class",
            mode="lines",
            line={"dash": "dot", "color": GREY},
        )
    )
    fig.update_yaxes(title_text=f"accuracy predicting '{escape(label)}'", range=[0, 1.02])
    fig.update_xaxes(title_text="length", type="category")
    return style_figure(
        fig,
        f"Task accuracy by length ({escape(label)})",
        _caption(
            report,
            None,
            "Logistic regression within each bucket, 5-fold cross-validation (classes with "
            "fewer than 2 texts in a bucket left out).",
        ),
    )


def sweep_figure(report: LengthReport) -> go.Figure:
    """Diagnostic 11: gap, probe accuracy (and task accuracy) against tau; MPC change per
    bucket against tau = 1."""
    taus = sorted(report.taus)
    with_task = "task" in report.reference
    titles = ["MPC gap", "length probe"]
    titles += ["task accuracy"] if with_task else []
    titles += ["ΔMPC vs τ = 1"]
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles)
    summaries = [
        [report.taus[t]["gap"] for t in taus],
        [report.taus[t]["probe"]["accuracy"] for t in taus],
    ]
    if with_task:
        summaries.append([report.taus[t]["task"]["mean_accuracy"] for t in taus])
    for col, values in enumerate(summaries, start=1):
        fig.add_trace(
            go.Scatter(
                x=taus, y=values, mode="lines+markers", showlegend=False, line={"color": GREY}
            ),
            row=1,
            col=col,
        )
    last = len(titles)
    ref = report.reference["buckets"]
    for index, name in enumerate(report.bucket_names):
        fig.add_trace(
            go.Scatter(
                x=taus,
                y=[report.taus[t]["buckets"][index]["mpc"] - ref[index]["mpc"] for t in taus],
                name=escape(name),
                mode="lines+markers",
                line={"color": _colour(index)},
            ),
            row=1,
            col=last,
        )
    fig.update_xaxes(title_text="τ", autorange="reversed")
    return style_figure(
        fig,
        "TempScale sweep",
        _caption(
            report,
            None,
            "TempScale: attention logits divided by τ in every layer. Gap = MPC of the longest "
            "minus the shortest length; probe and task accuracy by 5-fold cross-validation.",
        ),
    )


@dataclass(frozen=True)
class LengthFigure:
    """One chart of the page: what it measures, how to build it, and its data for download.

    Both callables take the temperature chosen for the per-τ charts; charts that show every
    temperature at once ignore it.
    """

    key: str
    what: str
    build: Callable[[LengthReport, float], go.Figure]
    data: Callable[[LengthReport, float], pd.DataFrame]


def bucket_table(report: LengthReport) -> pd.DataFrame:
    """Every per-bucket number, one row per (tau, bucket)."""
    rows = []
    for tau, result in report.taus.items():
        for row in result["buckets"]:
            flat = {
                key: value
                for key, value in row.items()
                if key not in ("ci", "pooled_mpc", "hc_dc", "token_mpc")
            }
            rows.append({"tau": tau, **flat, "ci_low": row["ci"][0], "ci_high": row["ci"][1]})
    return pd.DataFrame(rows)


def layer_table(report: LengthReport, tau: float) -> pd.DataFrame:
    """Per (layer, bucket): pooled MPC, HC/DC ratio, own-token cosine."""
    rows = [
        {
            "tau": tau,
            "bucket": row["name"],
            "layer": layer,
            "pooled_mpc": row["pooled_mpc"][layer],
            "hc_dc": row["hc_dc"][layer],
            "token_mpc": row["token_mpc"][layer],
        }
        for row in report.taus[tau]["buckets"]
        for layer in range(len(row["pooled_mpc"]))
    ]
    return pd.DataFrame(rows)


def cross_table(report: LengthReport, tau: float) -> pd.DataFrame:
    cross, names = report.taus[tau]["cross"], report.bucket_names
    return pd.DataFrame(
        [
            {
                "tau": tau,
                "bucket_a": a,
                "bucket_b": b,
                "mean_cosine": cross["pairwise"][i][j],
                "centroid_cosine": cross["centroid"][i][j],
            }
            for i, a in enumerate(names)
            for j, b in enumerate(names)
        ]
    )


def map_table(report: LengthReport, tau: float) -> pd.DataFrame:
    data = report.taus[tau]["map"]
    names = report.bucket_names
    return pd.DataFrame(
        {"tau": tau, "x": data["x"], "y": data["y"], "bucket": [names[b] for b in data["bucket"]]}
    )


def attention_table(report: LengthReport, tau: float) -> pd.DataFrame:
    data = report.attention[tau]
    return pd.DataFrame(
        [
            {
                "tau": tau,
                "bucket": name,
                "layer": layer,
                "sigma_a": data["sigma"][i][j],
                "retention": data["retention"][i][j],
                "entropy_norm": data["entropy"][i][j],
            }
            for i, layer in enumerate(data["layers"])
            for j, name in enumerate(data["buckets"])
        ]
    )


def _all_taus(builder: Callable[[LengthReport], go.Figure]) -> Callable[..., go.Figure]:
    return lambda report, _tau: builder(report)


def _buckets(report: LengthReport, _tau: float) -> pd.DataFrame:
    return bucket_table(report)


FIGURES: tuple[LengthFigure, ...] = (
    LengthFigure(
        "collapse",
        "Mean pairwise cosine of the embeddings at each length (higher = more crowded), per "
        "temperature, against what averaging alone gives (layer 0) and post-hoc fixes.",
        _all_taus(collapse_figure),
        _buckets,
    ),
    LengthFigure(
        "layers",
        "Where the crowding comes from: pooled MPC after every layer; row 0 has seen no "
        "attention, only averaging.",
        layer_heatmap_figure,
        layer_table,
    ),
    LengthFigure(
        "cross",
        "Whether texts of different lengths live in different regions: mean cosine between "
        "lengths and between bucket centroids.",
        cross_length_figure,
        cross_table,
    ),
    LengthFigure(
        "map",
        "The sample on a 2-D PCA map, coloured by length.",
        length_map_figure,
        map_table,
    ),
    LengthFigure(
        "spread",
        "How widely each length spreads around its centroid and in how many directions.",
        _all_taus(spread_rank_figure),
        _buckets,
    ),
    LengthFigure(
        "smoothing",
        "Token over-smoothing: how much of the token states is the shared mean (DC) after each "
        "layer, per length.",
        smoothing_figure,
        layer_table,
    ),
    LengthFigure(
        "probe",
        "How much length leaks into the vectors: a linear probe predicting the length bucket.",
        _all_taus(probe_figure),
        _buckets,
    ),
)
TASK_FIGURE = LengthFigure(
    "task",
    "Whether the task gets harder with length: label accuracy within each length bucket.",
    _all_taus(task_figure),
    _buckets,
)
SWEEP_FIGURE = LengthFigure(
    "sweep",
    "What TempScale changes: gap, probe (and task) accuracy against τ, and each length's MPC "
    "change from τ = 1.",
    _all_taus(sweep_figure),
    _buckets,
)
ATTENTION_FIGURE = LengthFigure(
    "attention",
    "Attention as a low-pass filter: largest singular value of (I−J)A, how much of the "
    "high-frequency part survives, and how spread the attention is.",
    attention_figure,
    attention_table,
)


def figures_for(report: LengthReport) -> list[LengthFigure]:
    """The charts this report can show, in page order."""
    chosen = list(FIGURES)
    if "task" in report.reference:
        chosen.append(TASK_FIGURE)
    if len(report.taus) > 1:
        chosen.append(SWEEP_FIGURE)
    if report.attention:
        chosen.append(ATTENTION_FIGURE)
    return chosen
