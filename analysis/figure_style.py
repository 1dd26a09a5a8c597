"""One look for every figure, on screen and exported: fonts, sizes, a colour-blind-safe palette,
and a provenance caption under the plot so a pasted chart still says how it was made."""

from __future__ import annotations

import html

import plotly.graph_objects as go

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
FONT = "DejaVu Sans, Arial, sans-serif"


def style_figure(fig: go.Figure, title: str, caption: str) -> go.Figure:
    """Apply the house style and put the provenance caption below the plot area."""
    fig.update_layout(
        template="simple_white",
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 16}},
        font={"family": FONT, "size": 12},
        colorway=list(PALETTE),
        margin={"l": 60, "r": 20, "t": 50, "b": 90},
        meta={"caption": caption},
    )
    fig.add_annotation(
        text=caption,
        xref="paper",
        yref="paper",
        x=0.0,
        y=-0.18,
        xanchor="left",
        yanchor="top",
        showarrow=False,
        align="left",
        font={"size": 10, "color": "#555555"},
    )
    return fig


def escape(text: object) -> str:
    """User text as plotly label text: plotly renders a subset of HTML tags, so escape it."""
    return html.escape(str(text), quote=False)
