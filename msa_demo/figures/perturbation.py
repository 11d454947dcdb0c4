"""The score and the three contributions against a perturbation's severity (one model), and every
model's score on the same perturbation (the Compare tab). The axis runs from the mildest to the worst
setting whichever way the unit counts (SNR: 30 dB on the left, 0 dB on the right)."""

from __future__ import annotations

import plotly.graph_objects as go

from .style import MODALITY_COLOURS, SCORE_RANGE, compact, empty

SCORE_COLOUR = "#222"
MODEL_COLOURS = ["#4C78A8", "#F58518", "#54A24B", "#B279A2", "#E45756", "#72B7B2", "#9D755D"]


def perturbation_figure(result: dict | None) -> go.Figure:
    """`result`: the `/perturb` JSON (perturb/sweep.py: sweep_result)."""
    if not result or not result.get("points"):
        return empty("choose a perturbation and press Run perturbation")
    points = result["points"]
    x = [p["severity"] for p in points]
    fig = go.Figure()
    for m, colour in MODALITY_COLOURS.items():
        fig.add_trace(go.Scatter(x=x, y=[p["contributions"][m] for p in points], mode="lines+markers",
                                 name=f"{m} contribution",
                                 line={"color": colour, "width": 1.6, "dash": "dot"}))
    fig.add_trace(go.Scatter(x=x, y=[p["score"] for p in points], mode="lines+markers", name="score",
                             line={"color": SCORE_COLOUR, "width": 2.6},
                             hovertext=[_hover(p) for p in points], hoverinfo="text+x+y"))
    _clean_line(fig, result.get("clean"))
    _axes(fig, result)
    return _finish(fig, f"Score under {result.get('label', result['kind'])} · {result.get('model', '')}")


def compare_perturbation_figure(results: dict[str, dict]) -> go.Figure:
    """{model: `/perturb` JSON} on the same perturbed inputs: one score line per model."""
    results = {k: r for k, r in results.items() if r and r.get("points")}
    if not results:
        return empty("run a perturbation in the Live tab first, then compare the models on it")
    fig = go.Figure()
    for colour, (model, result) in zip(MODEL_COLOURS * 2, results.items()):
        points = result["points"]
        fig.add_trace(go.Scatter(x=[p["severity"] for p in points], y=[p["score"] for p in points],
                                 mode="lines+markers", name=model, line={"color": colour, "width": 2}))
    first = next(iter(results.values()))
    _axes(fig, first)
    return _finish(fig, f"Every model under {first.get('label', first['kind'])}")


def _hover(point: dict) -> str:
    words = point.get("transcript")
    return f"score {point['score']:+.2f}" + (f"<br>“{words}”" if words else "")


def _clean_line(fig: go.Figure, clean: dict | None) -> None:
    if clean:
        fig.add_hline(y=clean["score"], line={"color": "#999", "dash": "dash", "width": 1},
                      annotation_text=f"clean input {clean['score']:+.2f}", annotation_position="top left",
                      annotation_font={"size": 11, "color": "#777"})


def _axes(fig: go.Figure, result: dict) -> None:
    worse_is_lower = result.get("worse") == "lower"
    fig.update_xaxes(title=f"{result.get('unit', 'severity')} → worse",
                     autorange="reversed" if worse_is_lower else True)
    fig.update_yaxes(title="score / contribution",
                     range=[min(SCORE_RANGE[0], _low(fig)), max(SCORE_RANGE[1], _high(fig))])


def _low(fig: go.Figure) -> float:
    return min((min(t.y) for t in fig.data if t.y), default=SCORE_RANGE[0])


def _high(fig: go.Figure) -> float:
    return max((max(t.y) for t in fig.data if t.y), default=SCORE_RANGE[1])


def _finish(fig: go.Figure, title: str) -> go.Figure:
    fig = compact(fig, title, height=360)
    fig.update_layout(showlegend=True, legend={"orientation": "h", "y": -0.25, "font": {"size": 11}},
                      margin={"l": 10, "r": 10, "t": 48, "b": 10})
    return fig
