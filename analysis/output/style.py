"""One look for every figure, on screen and exported: fonts, sizes, a colour-blind-safe palette,
and a provenance caption under the plot so a pasted chart still says how it was made."""

from __future__ import annotations

import html
import re
import textwrap

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
    # Beyond eight series: four more from Paul Tol's "muted" scheme, still distinguishable.
    "#882255",
    "#44AA99",
    "#999933",
    "#AA4499",
)
FONT = "DejaVu Sans, Arial, sans-serif"
CAPTION_WIDTH = 80  # characters per caption line


def style_figure(fig: go.Figure, title: str, caption: str, height: int = 480) -> go.Figure:
    """Apply the house style and put the provenance caption at the bottom of the figure.

    Annotations can only be placed relative to the plot area, so the figure gets a fixed height
    and the caption sits in a bottom margin reserved for it (below the x-axis title); it is wrapped
    because plotly does not wrap annotation text itself.
    """
    wrapped = "<br>".join(textwrap.wrap(caption, CAPTION_WIDTH)) or caption
    lines = wrapped.count("<br>") + 1
    bottom = 64 + 14 * lines
    top = 50
    fig.update_layout(
        height=height,
        template="simple_white",
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 16}},
        font={"family": FONT, "size": 12},
        colorway=list(PALETTE),
        margin={"l": 60, "r": 20, "t": top, "b": bottom},
        meta={"caption": caption},
    )
    # simple_white fades every shape to opacity 0.3: reference lines (chance, limits) must show.
    fig.update_shapes(selector=lambda shape: shape.opacity is None, opacity=1)
    fig.add_annotation(
        text=wrapped,
        xref="paper",
        yref="paper",
        x=0.0,
        y=-(bottom - 6) / (height - top - bottom),
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        align="left",
        font={"size": 10, "color": "#555555"},
    )
    return fig


def escape(text: object) -> str:
    """User text as plotly label text: plotly renders a subset of HTML tags, so escape it."""
    return html.escape(str(text), quote=False)


# Markdown (and Streamlit's extensions: :colour[...], $math$, ~~strike~~, <html>) punctuation.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+!|~<>$])")
# '-' and '.' only make markup where a line starts a list ("- x", "1. x"); escaped only there, so
# names like "UMAP 2-D" or "evil.example" stay readable in the report's index.md.
_LIST_START = re.compile(r"^(\s*)(-|\d+\.)(?=\s|$)", re.MULTILINE)


def literal(text: object) -> str:
    """User text (a file, column or corpus name, a message quoting one) for a Markdown renderer.

    Every markup character is backslash-escaped, so the text shows exactly as typed, never as a
    link, emphasis or tag; nothing is removed, so an all-markup name never shows as empty.
    """
    escaped = _MARKDOWN_PUNCTUATION.sub(r"\\\1", str(text))
    return _LIST_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], escaped)
