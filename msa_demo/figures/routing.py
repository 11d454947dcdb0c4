"""The model's own routing weights (gates, expert shares, attention). Routing, not attribution."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import compact, empty


def routing_figure(result: dict) -> go.Figure:
    routing, axes = result.get("routing", {}), result.get("routing_axes", {})
    if not routing:
        return empty(f"{result.get('model', 'this model')} has no routing weights (plain fusion)")
    names = list(routing)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[_title(n) for n in names],
                        horizontal_spacing=0.12)
    for i, name in enumerate(names, start=1):
        values, labels = routing[name], axes.get(name, {}).get("axes", [])
        if values and isinstance(values[0], list):  # 2-D: heatmap
            fig.add_trace(go.Heatmap(z=values, x=labels[1] if len(labels) > 1 else None,
                                     y=labels[0] if labels else None, colorscale="Blues", zmin=0,
                                     showscale=False, texttemplate="%{z:.2f}"), 1, i)
            fig.update_yaxes(autorange="reversed", row=1, col=i)
        else:
            fig.add_trace(go.Bar(x=labels[0] if labels else None, y=values, marker_color="#6F7FB3",
                                 text=[f"{v:.2f}" for v in values], textposition="outside",
                                 cliponaxis=False), 1, i)
            fig.update_yaxes(range=[0, max(1.0, max(values) * 1.15)], row=1, col=i)
    fig.update_annotations(font_size=12)
    return compact(fig, f"Routing weights of {result.get('model', '')}", height=320)


def _title(name: str) -> str:
    return name.replace("_", " ")
