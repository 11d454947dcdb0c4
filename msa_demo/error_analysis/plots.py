"""The error tab's two charts, from an error-analysis table (split.build_table).

- predicted vs label: one point per item, coloured by absolute error, id on hover. Class-labelled
  corpora put every label at -1.5 / 0 / +1.5, so their points are spread sideways a little
  (deterministic jitter, said on the axis) or thousands would sit on three vertical lines.
- polarity confusion matrix: 3x3 counts, each cell also as a share of its row (its true class), so
  a corpus dominated by one class still shows where each class goes.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..corpora.labels import NEUTRAL_BAND, POLARITY3
from .evaluation import REGRESSION_CORPORA

JITTER = 0.25
SCALE = 3.2  # axis range: the valence scale -3..3 and a margin


def _jitter(table: pd.DataFrame) -> np.ndarray:
    """Sideways spread for class-labelled rows only, fixed per item id (a point stays put when
    the filters change)."""
    unit = np.array([zlib.crc32(str(i).encode()) for i in table["id"]], dtype=np.float64) / 2**32
    return np.where(table["corpus"].isin(REGRESSION_CORPORA), 0.0, (2 * unit - 1) * JITTER)


def scatter_pred_vs_label(table: pd.DataFrame, title: str = "") -> go.Figure:
    jittered = not table["corpus"].isin(REGRESSION_CORPORA).all()
    x = table["label"].to_numpy() + _jitter(table)
    custom = np.stack([table["id"], table["corpus"], table["label_class"].fillna(""), table["label"],
                       table["abs_error"]], 1) if len(table) else None
    fig = go.Figure(go.Scatter(
        x=x, y=table["prediction"], mode="markers", customdata=custom,
        hovertemplate="%{customdata[0]}<br>%{customdata[1]} · %{customdata[2]}<br>label %{customdata[3]:+.2f},"
                      " predicted %{y:+.2f}<br>abs error %{customdata[4]:.2f}<extra></extra>",
        marker=dict(color=table["abs_error"], colorscale="Viridis", size=6, opacity=0.75,
                    colorbar=dict(title="abs error"), cmin=0),
        name="items", showlegend=False,
    ))
    fig.add_trace(go.Scatter(x=[-SCALE, SCALE], y=[-SCALE, SCALE], mode="lines", hoverinfo="skip",
                             line=dict(color="grey", dash="dash", width=1), name="prediction = label"))
    for y in (-NEUTRAL_BAND, NEUTRAL_BAND):  # the polarity bins: between the lines is "neutral"
        fig.add_hline(y=y, line=dict(color="lightgrey", width=1, dash="dot"))
    fig.update_layout(
        title=title or f"Predicted vs label ({len(table):,} items)", height=420, showlegend=False,
        xaxis=dict(title="label (valence" + (", class labels spread sideways)" if jittered else ")"),
                   range=[-SCALE, SCALE], zeroline=False),
        yaxis=dict(title="prediction (dotted: neutral band)", range=[-SCALE, SCALE], zeroline=False),
        margin=dict(l=60, r=20, t=50, b=50),
    )
    return fig


def confusion_counts(table: pd.DataFrame) -> np.ndarray:
    """[3, 3] counts: rows the label's polarity, columns the prediction's (negative, neutral, positive)."""
    counts = np.zeros((3, 3), dtype=np.int64)
    index = {p: i for i, p in enumerate(POLARITY3)}
    for (true, pred), n in table.groupby(["label_polarity", "pred_polarity"]).size().items():
        counts[index[true], index[pred]] = n
    return counts


def confusion_matrix(table: pd.DataFrame, title: str = "") -> go.Figure:
    counts = confusion_counts(table)
    totals = counts.sum(1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    text = [[f"{counts[i, j]:,}<br>{100 * share[i, j]:.0f}% of row" for j in range(3)] for i in range(3)]
    fig = go.Figure(go.Heatmap(
        z=share * 100, x=list(POLARITY3), y=list(POLARITY3), text=text, texttemplate="%{text}",
        colorscale="Blues", zmin=0, zmax=100, colorbar=dict(title="% of row"),
        hovertemplate="label %{y}, predicted %{x}<br>%{text}<extra></extra>",
    ))
    fig.update_layout(
        title=title or "Polarity confusion (rows: label)", height=420,
        xaxis=dict(title="predicted polarity", side="bottom"),
        yaxis=dict(title="label polarity", autorange="reversed"),
        margin=dict(l=80, r=20, t=50, b=50),
    )
    return fig
