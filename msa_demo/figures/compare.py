"""All six models on one input: their scores and contributions side by side, and their routing."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import ABSENT, MODALITY_COLOURS, MUTED, compact, signed

PRIMARY_ROUTING = ("modality_weights", "expert_gates", "expert_importance", "poe_precision_share",
                   "fusion_attention")


def is_absent(result: dict, modality: str) -> bool:
    """The input lacks this modality: its contribution is 0 by construction, not a measured zero."""
    return not result.get("available", {}).get(modality, True)


def contribution_cell(result: dict, modality: str) -> str:
    """A table cell: the contribution, or "—" when the input lacks the modality."""
    return ABSENT if is_absent(result, modality) else f"{result['contributions'][modality]:+.3f}"


def compare_contributions_figure(results: dict[str, dict]) -> go.Figure:
    """Shapley contributions per model side by side (deltas from that model's baseline), the score as a
    diamond in its own slot. Absent modalities get no bar; score values sit in a row above the plot,
    where no bar can reach them."""
    models = list(results)
    fig = go.Figure()
    lacking = [m for m in MODALITY_COLOURS if all(is_absent(results[k], m) for k in models)]
    for m, colour in MODALITY_COLOURS.items():
        fig.add_trace(go.Bar(x=models, y=[None if is_absent(results[k], m) else results[k]["contributions"][m]
                                          for k in models],
                             name=f"{m} {ABSENT} not in input" if m in lacking else m, offsetgroup=m,
                             marker_color=MUTED if m in lacking else colour))
    fig.add_trace(go.Scatter(x=models, y=[results[k]["score"] for k in models], mode="markers", name="score",
                             offsetgroup="score", marker={"symbol": "diamond", "size": 12, "color": "#222"},
                             hovertemplate="%{x}: score %{y:+.3f}<extra></extra>"))
    for k in models:
        fig.add_annotation(x=k, xref="x", y=1.0, yref="paper", yanchor="bottom", showarrow=False,
                           text=f"◆ {signed(results[k]['score'])}", font={"size": 12, "color": "#222"})
    fig.update_layout(barmode="group", scattermode="group")
    fig.update_yaxes(title="contribution / score", zeroline=True, zerolinecolor="#888")
    fig = compact(fig, _compare_title(lacking), height=380)
    fig.update_layout(showlegend=True, legend={"orientation": "h", "y": -0.12}, margin={"t": 84})
    return fig


def _compare_title(lacking: list[str]) -> str:
    title = "Shapley contributions per model (bars) and its score (◆, value on top)"
    if not lacking:
        return title
    return (f"{title}<br><span style='font-size:11px;color:#888'>{ABSENT} {' / '.join(lacking)}: "
            "not in this input, so no bar (not a measured zero)</span>")


def compare_routing_figure(results: dict[str, dict]) -> go.Figure:
    """Each model's main routing vector (routing, not attribution)."""
    models = list(results)
    fig = make_subplots(rows=1, cols=len(models), subplot_titles=models, horizontal_spacing=0.04)
    for i, k in enumerate(models, start=1):
        routing, axes = results[k].get("routing", {}), results[k].get("routing_axes", {})
        name = next((n for n in PRIMARY_ROUTING if n in routing), None)
        if name is None:
            domain = fig.layout[f"xaxis{i if i > 1 else ''}"].domain
            fig.add_annotation(text="no routing<br>(plain fusion)", showarrow=False, x=sum(domain) / 2, y=0.5,
                               xref="paper", yref="paper", font={"color": "#999"})
            fig.update_xaxes(visible=False, row=1, col=i)
            fig.update_yaxes(visible=False, row=1, col=i)
            continue
        labels = [str(label).replace("expert ", "e") for label in axes[name]["axes"][0]]  # fit 1/6 width
        fig.add_trace(go.Bar(x=labels, y=routing[name], marker_color="#6F7FB3",
                             hovertext=axes[name]["meaning"]), 1, i)
        fig.update_yaxes(range=[0, 1], row=1, col=i, showticklabels=i == 1)
        fig.update_xaxes(tickangle=0, tickfont={"size": 10}, row=1, col=i)
    fig.update_annotations(font_size=12)
    return compact(fig, "Main routing weights per model (e1, e2, …: experts)", height=300)
