"""The score with each of the 7 non-empty modality subsets switched on (the robustness view)."""

from __future__ import annotations

import plotly.graph_objects as go

from .style import MUTED, compact, sign_colour


def subsets_figure(result: dict) -> go.Figure:
    available = result.get("available", {})
    names = list(result["subsets"])
    scores = [result["subsets"][n] for n in names]
    usable = [all(available.get(m, True) for m in n.split("+")) for n in names]
    colours = [sign_colour(s) if ok else MUTED for s, ok in zip(scores, usable)]
    labels = [n if ok else f"{n} (absent)" for n, ok in zip(names, usable)]
    fig = go.Figure(go.Bar(x=scores, y=labels, orientation="h", marker_color=colours,
                           text=[f"{s:+.2f}" for s in scores], textposition="outside", cliponaxis=False))
    fig.add_vline(x=result["baseline"], line_dash="dot", line_color="#666")
    span = max(1.0, *(abs(s) for s in scores + [result["baseline"]])) + 0.5
    title = "score with only these modalities on (dotted: baseline)"
    if not all(usable):
        title += ("<br><span style='font-size:10px;color:#888'>grey: a modality of this subset is absent "
                  "or switched off</span>")
    fig.update_xaxes(range=[-span, span], title=title)
    fig.update_yaxes(autorange="reversed")
    return compact(fig, "Score for each subset of modalities", height=320 if all(usable) else 340)
