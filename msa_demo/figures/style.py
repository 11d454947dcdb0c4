"""One look for every chart: modality colours, sign colours, a compact layout."""

from __future__ import annotations

import plotly.graph_objects as go

MODALITY_COLOURS = {"text": "#4C78A8", "audio": "#F58518", "visual": "#54A24B"}
POSITIVE, NEGATIVE, NEUTRAL, MUTED = "#2E9E5B", "#D1495B", "#8C8C8C", "#C8C8C8"
SCORE_RANGE = (-3.0, 3.0)
ABSENT = "—"  # a modality the input lacks: nothing was measured, so never "0.000"


def sign_colour(value: float, band: float = 0.0) -> str:
    return POSITIVE if value > band else NEGATIVE if value < -band else NEUTRAL


def signed(value: float, digits: int = 2) -> str:
    """+0.12 / -0.12, and a plain 0.00 for what rounds to zero (not "-0.00")."""
    text = f"{value:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def compact(fig: go.Figure, title: str, height: int = 320) -> go.Figure:
    fig.update_layout(title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}},
                      height=height, margin={"l": 10, "r": 10, "t": 48, "b": 10},
                      template="plotly_white", showlegend=False)
    return fig


def empty(message: str, height: int = 240) -> go.Figure:
    """A blank chart that says why it is blank (better than an empty box)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 14, "color": NEUTRAL})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return compact(fig, "", height)
