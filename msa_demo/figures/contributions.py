"""The waterfall from the empty-input baseline, through each modality's Shapley value, to the score."""

from __future__ import annotations

import plotly.graph_objects as go

from .style import NEGATIVE, POSITIVE, compact


def contributions_figure(result: dict, title: str | None = None) -> go.Figure:
    available = result.get("available", {})
    labels, values = ["baseline<br>(no input)"], [result["baseline"]]
    for m, phi in result["contributions"].items():
        labels.append(m if available.get(m, True) else f"{m}<br>(not in input)")
        values.append(phi)
    labels.append("score")
    values.append(result["score"])
    fig = go.Figure(go.Waterfall(
        x=labels, y=values, measure=["absolute"] + ["relative"] * (len(values) - 2) + ["total"],
        text=[f"{v:+.2f}" for v in values], textposition="outside",
        increasing={"marker": {"color": POSITIVE}}, decreasing={"marker": {"color": NEGATIVE}},
        totals={"marker": {"color": "#4C4C4C"}}, connector={"line": {"color": "#BBBBBB"}},
        cliponaxis=False,
    ))
    low = min(0.0, *_running(values)) - 0.4
    high = max(0.0, *_running(values)) + 0.4
    fig.update_yaxes(title="sentiment (−3…+3)", range=[low, high], zeroline=True, zerolinecolor="#888")
    return compact(fig, title or "Contributions: baseline + text + audio + visual = score")


def _running(values: list[float]) -> list[float]:
    total, out = values[0], [values[0]]
    for v in values[1:-1]:
        total += v
        out.append(total)
    return out + [values[-1]]
