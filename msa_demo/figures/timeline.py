"""What the face and the voice did over time, with the words at the times they were said."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..features.spec import AUDIO_FEATURE_NAMES, BLENDSHAPE_NAMES
from ..features.types import ModalityFeatures
from .style import MODALITY_COLOURS, compact, empty

LOG_F0 = AUDIO_FEATURE_NAMES.index("log_f0")
VOICED = AUDIO_FEATURE_NAMES.index("voiced")
ENERGY = AUDIO_FEATURE_NAMES.index("energy_db")
PALETTE = ["#54A24B", "#B279A2", "#E45756", "#72B7B2", "#9D755D"]


def timeline_figure(features: Mapping[str, ModalityFeatures], words: Sequence = (), top: int = 5) -> go.Figure:
    visual, audio = features.get("visual"), features.get("audio")
    has_face = visual is not None and visual.present and visual.mask.any()
    has_voice = audio is not None and audio.present and audio.mask.any()
    if not (has_face or has_voice):
        return empty("no face or voice in this input: nothing to show over time")
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        row_heights=[0.12, 0.44, 0.22, 0.22],
                        subplot_titles=["words", f"top {top} facial blendshapes", "pitch (semitones from the speaker's median)",
                                        "energy (dB from the speaker's median)"])
    fig.update_annotations(font_size=12, x=0.0, xanchor="left")  # the subplot titles, left-aligned
    add_words(fig, words)
    if has_face:
        _blendshapes(fig, visual, top)
    else:
        _row_message(fig, 2, "no face in this input")
    if has_voice:
        _voice(fig, audio)
    else:
        for row in (3, 4):
            _row_message(fig, row, "no voice in this input")
    fig.update_yaxes(visible=False, row=1, col=1)
    fig.update_yaxes(range=[0, 1], row=2, col=1)
    for row in (3, 4):  # short rows: three ticks, or their labels run into each other
        fig.update_yaxes(nticks=3, row=row, col=1)
    fig.update_xaxes(title="seconds", row=4, col=1)
    fig = compact(fig, "Timeline", height=520)
    fig.update_layout(showlegend=True, legend={"orientation": "v", "x": 1.01, "y": 0.75, "font": {"size": 11}})
    return fig


def top_blendshapes(visual: ModalityFeatures, top: int = 5) -> list[int]:
    """Indices of the blendshapes with the highest mean activation over frames with a face
    (`_neutral`, index 0, is a baseline, not an expression)."""
    observed = visual.values[visual.mask, :len(BLENDSHAPE_NAMES)]
    means = observed.mean(0)
    means[0] = -1.0
    return [int(i) for i in np.argsort(-means)[:top]]


def _blendshapes(fig: go.Figure, visual: ModalityFeatures, top: int) -> None:
    t = visual.times[:, 0]
    for colour, i in zip(PALETTE, top_blendshapes(visual, top)):
        y = np.where(visual.mask, visual.values[:, i], np.nan)
        fig.add_trace(go.Scatter(x=t, y=y, mode="lines", name=BLENDSHAPE_NAMES[i],
                                 line={"color": colour, "width": 1.6}), 2, 1)


def _voice(fig: go.Figure, audio: ModalityFeatures) -> None:
    t = audio.times[:, 0]
    voiced = audio.mask & (audio.values[:, VOICED] > 0.5)
    # the voice is measured against the speaker's median (features/voice_reference.py): log-F0 -> semitones
    pitch = np.where(voiced, audio.values[:, LOG_F0] * 12 / np.log(2), np.nan)
    energy = np.where(audio.mask, audio.values[:, ENERGY], np.nan)
    colour = MODALITY_COLOURS["audio"]
    fig.add_trace(go.Scatter(x=t, y=pitch, mode="lines", name="pitch", showlegend=False,
                             line={"color": colour, "width": 1.4}), 3, 1)
    fig.add_trace(go.Scatter(x=t, y=energy, mode="lines", name="energy", showlegend=False,
                             line={"color": "#7F7F7F", "width": 1.2}), 4, 1)


def _row_message(fig: go.Figure, row: int, text: str) -> None:
    """A grey line of text in the middle of an empty row (better than blank axes)."""
    domain = fig.layout[f"yaxis{row if row > 1 else ''}"].domain
    fig.add_annotation(text=text, x=0.5, xref="paper", y=sum(domain) / 2, yref="paper", showarrow=False,
                       font={"size": 11, "color": "#999"})
    fig.update_yaxes(showticklabels=False, row=row, col=1)


def add_words(fig: go.Figure, words: Sequence, row: int = 1) -> None:
    """The words at the times they were said, in row `row` (also the over-time figure's top row)."""
    timed = [w for w in words if np.isfinite(getattr(w, "start", np.nan))]
    if not timed:
        _row_message(fig, row, "no word times (typed or edited transcript)")
        return
    mids = [(w.start + w.end) / 2 for w in timed]
    levels = [i % 2 for i in range(len(timed))]  # alternate rows so neighbours do not overlap
    fig.add_trace(go.Scatter(x=mids, y=levels, mode="text", text=[w.text.strip() for w in timed],
                             textfont={"size": 11, "color": MODALITY_COLOURS["text"]}, showlegend=False,
                             hovertext=[f"{w.text.strip()} {w.start:.2f}–{w.end:.2f}s" for w in timed],
                             hoverinfo="text"), row, 1)
    fig.update_yaxes(range=[-0.6, 1.6], row=row, col=1)
