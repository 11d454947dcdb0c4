"""The score with each of the 7 non-empty modality subsets switched on: a property of the input.

Bars are about the input as it is. A subset that needs a modality the input does not have is grey
and says which one is missing (it scores as the part of it that is there: text+audio = text when
there is no audio). The robustness panel's setting (modalities switched off, steps dropped) does not
change the bars: it is drawn as one extra line, and its subset's bar is outlined when no steps are
dropped, so "not in the input" and "switched off" are never the same mark.
"""

from __future__ import annotations

import plotly.graph_objects as go

from .style import MUTED, NEUTRAL, compact, sign_colour, signed

CONDITION_COLOUR = "#7B4FBF"
VALUE_COLUMN_PX = 52  # the right margin that holds the score column


def _missing(subset: str, available: dict) -> list[str]:
    return [m for m in subset.split("+") if not available.get(m, True)]


def _label(subset: str, missing: list[str]) -> str:
    if not missing:
        return subset
    if len(missing) == len(subset.split("+")):
        return f"{subset} (not in input)"
    return f"{subset} (no {'/'.join(missing)})"


def subsets_figure(result: dict, condition: dict | None = None) -> go.Figure:
    """result: the analysis of the full input. condition: the robustness re-score (`rescore`), drawn
    as a line when it differs from the full input (modalities switched off or steps dropped)."""
    available = result.get("available", {})
    names = list(result["subsets"])
    scores = [result["subsets"][n] for n in names]
    missing = [_missing(n, available) for n in names]
    colours = [sign_colour(s) if not lack else MUTED for s, lack in zip(scores, missing)]
    labels = [_label(n, lack) for n, lack in zip(names, missing)]
    outline = ["rgba(0,0,0,0)"] * len(names)
    values = scores + [result["baseline"]]

    cond = condition.get("condition") if condition else None
    switched = cond is not None and (sorted(cond["present"]) != sorted(available) or cond["rate"] > 0)
    if switched:
        on = "+".join(m for m in names[-1].split("+") if m in cond["present"])
        if cond["rate"] == 0 and on in names:
            outline[names.index(on)] = CONDITION_COLOUR
        values.append(condition["score"])

    fig = go.Figure(go.Bar(x=scores, y=labels, orientation="h", marker_color=colours,
                           marker_line_color=outline, marker_line_width=2.5, textposition="none",
                           hovertemplate="%{y}: %{x:+.3f}<extra></extra>"))
    _value_column(fig, labels, scores, missing)
    fig.add_vline(x=result["baseline"], line_dash="dot", line_color="#666")
    span = max(1.0, *(abs(v) for v in values)) + 0.5
    notes = ["dotted: baseline (nothing on)"]
    if any(missing):
        lacking = sorted({m for lack in missing for m in lack}, key=names[-1].split("+").index)
        notes.append(f"grey: needs {' / '.join(lacking)}, which the input lacks")
    if switched:
        fig.add_vline(x=condition["score"], line_dash="dash", line_color=CONDITION_COLOUR, line_width=2)
        fig.add_annotation(x=condition["score"], y=1.0, yref="paper", yanchor="bottom", showarrow=False,
                           text=f"robustness setting {condition['score']:+.2f}",
                           font={"size": 11, "color": CONDITION_COLOUR})
        notes.append("purple: your robustness setting (bars ignore it)")
    title = ("score with only these modalities on<br><span style='font-size:10px;color:#888'>"
             + "<br>".join(notes) + "</span>")
    fig.update_xaxes(range=[-span, span], title=title)
    fig.update_yaxes(autorange="reversed")
    fig = compact(fig, "Score for each subset of modalities (of this input)", height=310 + 14 * len(notes))
    fig.update_layout(margin={"t": 64, "r": VALUE_COLUMN_PX})
    return fig


def _value_column(fig: go.Figure, labels: list[str], scores: list[float], missing: list[list[str]]) -> None:
    """Each score in a column right of the plot, on its bar's row: at the bar's end, labels of
    near-zero bars sat on the zero and baseline lines and on each other."""
    for label, score, lack in zip(labels, scores, missing):
        fig.add_annotation(x=1.0, xref="paper", xanchor="left", xshift=6, y=label, yref="y", showarrow=False,
                           text=signed(score), font={"size": 12, "color": NEUTRAL if lack else "#222"})
