"""Sentiment over time: each window's score and the three contributions at the window's middle, under
the words at their times (the same x axis as the timeline above it)."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import MODALITY_COLOURS, compact, empty
from .timeline import add_words


def over_time_figure(rows: Sequence[dict], words: Sequence = ()) -> go.Figure:
    """`rows`: the analysis JSON's "over_time" (start, end, score, contributions per window)."""
    if not rows:
        return empty("no duration (typed text alone): nothing to show over time")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.18, 0.82],
                        subplot_titles=["words", f"score and contributions per {_span(rows)} window"])
    fig.update_annotations(font_size=12, x=0.0, xanchor="left")
    add_words(fig, words)
    fig.update_yaxes(visible=False, row=1, col=1)
    middles = [(r["start"] + r["end"]) / 2 for r in rows]
    spans = [f"{r['start']:.1f}–{r['end']:.1f} s" for r in rows]
    for m, colour in MODALITY_COLOURS.items():
        fig.add_trace(go.Scatter(x=middles, y=[r["contributions"][m] for r in rows], mode="lines+markers",
                                 name=m, line={"color": colour, "width": 1.5, "dash": "dot"},
                                 customdata=spans,
                                 hovertemplate=f"{m} %{{y:+.2f}} (%{{customdata}})<extra></extra>"), 2, 1)
    fig.add_trace(go.Scatter(x=middles, y=[r["score"] for r in rows], mode="lines+markers", name="score",
                             line={"color": "#222", "width": 2.6}, customdata=spans,
                             hovertemplate="score %{y:+.2f} (%{customdata})<extra></extra>"), 2, 1)
    fig.add_hline(y=0, line={"color": "#bbb", "width": 1}, row=2, col=1)
    fig.update_xaxes(title="seconds (window middle)", row=2, col=1)
    fig = compact(fig, "Sentiment over time", height=380)
    fig.update_layout(showlegend=True, legend={"orientation": "v", "x": 1.01, "y": 0.6, "font": {"size": 11}})
    return fig


def _span(rows: Sequence[dict]) -> str:
    width = max(r["end"] - r["start"] for r in rows)
    return f"{width:g} s"
