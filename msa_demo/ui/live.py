"""The Live tab: record / upload / type -> features (cached per visitor) -> the explanation panels.

Only "Analyse" reads media. Everything else — editing the transcript, changing the model, the
robustness checkboxes and slider — works from the cached `Extracted` in `state`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import gradio as gr

from ..errors import MediaError
from ..features.spec import MODALITIES
from ..session import Extracted, explain, explain_in_detail, extract_input, with_session_baseline, with_transcript
from . import texts
from .context import EXTRACT_CONCURRENCY, AppContext
from .perturb_panel import PerturbPanel, build_perturbation_panel
from .render import KEYFRAME_LABEL, live_panels, message_html, robustness_markdown
from ..figures import subsets_figure

log = logging.getLogger(__name__)


@dataclass
class LiveTab:
    state: gr.State
    video: gr.Video
    audio: gr.Audio
    transcript: gr.Textbox
    model: gr.Dropdown
    modalities: gr.CheckboxGroup
    rate: gr.Slider
    panels: list  # LIVE_PANELS order: score, notices, contributions, table, routing, routing caption,
    #               robustness text, subsets, timeline, keyframe, over time, word attributions
    show: Callable  # (extracted, model, modalities, rate) -> panel values
    perturb: PerturbPanel | None = None


def analysis_panels(ctx: AppContext, extracted: Extracted, name: str, mods, r) -> list:
    """Every Live panel for a cached input: the full explanation, the robustness condition, figures.
    (What "Analyse" does after extraction; `python -m bench.latency` times this function.)"""
    result = explain_in_detail(ctx.pipeline, extracted, ctx.zoo, name)
    condition = explain(extracted, ctx.zoo, name, present=list(mods or []), rate=float(r or 0.0))
    return live_panels(extracted, result, condition)


def robustness_panels(ctx: AppContext, extracted: Extracted, name: str, mods, r) -> tuple:
    """A modality toggle or slider move: re-score the cached features (full and under the condition),
    nothing re-extracted -> (robustness line, subsets figure). Timed as `toggle_seconds`."""
    full = explain(extracted, ctx.zoo, name)
    condition = explain(extracted, ctx.zoo, name, present=list(mods or []), rate=float(r or 0.0))
    return robustness_markdown(condition, full), subsets_figure(full, condition)


def build_live_tab(ctx: AppContext) -> LiveTab:
    names = ctx.zoo.names()
    default = ctx.zoo.default_name()
    state = gr.State(None)
    baseline = gr.State((None, 0))  # this visitor's voice baseline: (VoiceReference, recordings)
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            video = gr.Video(sources=["webcam", "upload"], include_audio=True, height=260, elem_id="video",
                             label="Video: record with webcam + mic, or upload")
            audio = gr.Audio(sources=["microphone", "upload"], type="filepath", elem_id="audio",
                             label="…or audio only: microphone or file")
            transcript = gr.Textbox(label="Transcript (edit it, then Re-analyse: audio and face are kept)",
                                    lines=2, elem_id="transcript",
                                    placeholder="Whisper fills this in; edit it, or type a sentence to analyse text only")
            model = gr.Dropdown(names, value=default, label="Model", elem_id="model")
            session_voice = gr.Checkbox(True, label="Session voice baseline", elem_id="session-voice",
                                        info=texts.SESSION_VOICE)
            with gr.Row():
                analyse = gr.Button("Analyse", variant="primary", elem_id="analyse")
                reanalyse = gr.Button("Re-analyse", elem_id="reanalyse")
        with gr.Column(scale=3, min_width=360):
            score = gr.HTML(message_html(texts.NO_INPUT), elem_id="score")
            notices = gr.Markdown(elem_id="notices")
            contributions = gr.Plot(label="Contributions", elem_id="contributions")
            gr.Markdown(texts.CONTRIBUTIONS, elem_classes=["msa-caption"])
            table = gr.Markdown(elem_id="modality-table")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            routing = gr.Plot(label="Routing weights", elem_id="routing")
            routing_caption = gr.Markdown(texts.ROUTING, elem_classes=["msa-caption"])
        with gr.Column(scale=2):
            gr.Markdown("### Robustness\n" + texts.ROBUSTNESS, elem_classes=["msa-caption"])
            modalities = gr.CheckboxGroup(list(MODALITIES), value=list(MODALITIES), label="Modalities on",
                                         elem_id="modalities")
            rate = gr.Slider(0.0, 0.9, value=0.0, step=0.05, label="Missing rate (share of steps dropped)")
            robust = gr.Markdown(elem_id="robustness")
            subsets = gr.Plot(label="Subsets", elem_id="subsets")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            timeline = gr.Plot(label="Timeline", elem_id="timeline")
        with gr.Column(scale=2):
            keyframe = gr.Image(label=KEYFRAME_LABEL, interactive=False, height=320,
                                elem_id="keyframe")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            over_time = gr.Plot(label="Sentiment over time", elem_id="over-time")
            gr.Markdown(texts.OVER_TIME, elem_classes=["msa-caption"])
        with gr.Column(scale=2):
            gr.Markdown("### Words")
            words = gr.HTML(elem_id="word-attributions")
    with gr.Row(equal_height=False):
        with gr.Column():
            perturb = build_perturbation_panel(ctx, state, model)
    panels = [score, notices, contributions, table, routing, routing_caption, robust, subsets, timeline,
              keyframe, over_time, words]

    def show(extracted: Extracted, name: str, mods, r) -> list:
        return analysis_panels(ctx, extracted, name, mods, r)

    def failed(message: str, kind: str = "error") -> list:
        """Keep the state, say what happened in place of the score, blank the charts."""
        return [gr.update(), gr.update(), message_html(message, kind), ""] + [None] * (len(panels) - 2)

    def guarded(action: Callable[[], list], extra: int = 0) -> list:
        """`extra`: outputs after the panels (the voice baseline), kept as they are on failure."""
        try:
            return action()
        except MediaError as exc:
            return failed(f"<b>Cannot use this input:</b> {exc}") + [gr.update()] * extra
        except Exception:  # a bug, not the user's fault: log it, show no traceback
            log.exception("live analysis failed")
            return failed(texts.GENERIC_ERROR) + [gr.update()] * extra

    def on_analyse(video_path, audio_path, text, name, mods, r, use_session=False, voice_base=(None, 0),
                   progress=gr.Progress()):
        path = video_path or audio_path
        if not path and not (text or "").strip():
            return failed(texts.NO_INPUT, "info") + [gr.update()]

        def run():
            extracted = extract_input(ctx.pipeline, path, text,
                                      progress=lambda f, desc: progress(f, desc=desc))
            base = voice_base
            if use_session:
                extracted, *base = with_session_baseline(extracted, *(voice_base or (None, 0)))
            return [extracted, extracted.transcript] + show(extracted, name, mods, r) + [tuple(base)]
        return guarded(run, extra=1)

    def on_reanalyse(text, name, mods, r, extracted, progress=gr.Progress()):
        if extracted is None:  # nothing analysed yet: treat the text as the whole input
            return on_analyse(None, None, text, name, mods, r, progress=progress)[:-1]

        def run():
            updated = with_transcript(ctx.pipeline, extracted, text)
            return [updated, updated.transcript] + show(updated, name, mods, r)
        return guarded(run)

    def on_model(name, mods, r, extracted):
        if extracted is None:
            return [gr.update()] * len(panels)
        return guarded(lambda: [None, None] + show(extracted, name, mods, r))[2:]

    def on_condition(name, mods, r, extracted):
        if extracted is None:
            return gr.update(), gr.update()
        try:
            return robustness_panels(ctx, extracted, name, mods, r)
        except Exception:
            log.exception("re-scoring failed")
            return texts.GENERIC_ERROR, None

    controls = [model, modalities, rate]
    outputs = [state, transcript] + panels
    analyse.click(on_analyse, [video, audio, transcript] + controls + [session_voice, baseline],
                  outputs + [baseline], concurrency_id="extract", concurrency_limit=EXTRACT_CONCURRENCY, show_progress="full")
    # unticked: the next recording is measured against itself, and the session starts afresh
    session_voice.change(lambda on: (None, 0), session_voice, baseline, show_progress="hidden")
    reanalyse.click(on_reanalyse, [transcript] + controls + [state], outputs,
                    concurrency_id="extract", concurrency_limit=EXTRACT_CONCURRENCY)
    transcript.submit(on_reanalyse, [transcript] + controls + [state], outputs,
                      concurrency_id="extract", concurrency_limit=EXTRACT_CONCURRENCY)
    model.input(on_model, controls + [state], panels)
    for control in (modalities, rate):
        control.change(on_condition, controls + [state], [robust, subsets], trigger_mode="always_last",
                       show_progress="hidden")
    # a new recording or upload makes the old transcript stale (programmatic changes do not fire these)
    for source in (video, audio):
        for event in (source.upload, source.stop_recording, source.clear):
            event(lambda: "", None, transcript, show_progress="hidden")
    return LiveTab(state, video, audio, transcript, model, modalities, rate, panels, show, perturb)
