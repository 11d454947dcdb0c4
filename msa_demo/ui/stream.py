"""The Stream tab: talk to the webcam and the score, its contributions and the transcript move.

The microphone's stream events carry the audio (Gradio's microphone sends a chunk every 0.1 s) and
start the rolling updates as they fall due (in the background: `StreamEngine.poll`), each event
handing the newest finished one to the page; the webcam's carry frames and only store them. Both
write into the visitor's own StreamState (a gr.State made per session: nothing is shared between
visitors but the models). Stopping the microphone runs the upload path on the whole recording.
"""

from __future__ import annotations

import html
import logging
import os

import gradio as gr

from ..errors import MediaError
from ..figures import contributions_figure, over_time_figure
from ..streaming import RollingUpdate, StreamEngine, StreamState
from . import texts
from .context import EXTRACT_CONCURRENCY, AppContext
from .render import message_html, notices_markdown, score_html, word_attribution_html

log = logging.getLogger(__name__)

CHUNK_EVERY = 0.1  # seconds of audio per microphone chunk (Gradio's microphone sends 0.1 s, whatever is set)
FRAME_EVERY = 0.5  # a webcam frame this often: the face is read on 2 frames a second
# streams at once (each holds its slot while it runs): on 2 cores a third would slow all of them
STREAM_CONCURRENCY = int(os.environ.get("MSA_STREAM_CONCURRENCY", 2))
HOWTO = (
    "**Talk and watch the score move.** Start the webcam (optional), then record with the microphone: "
    "about every second the score of the last seconds, its three contributions and the transcript "
    "so far are updated (grey words are still tentative). **Stop** the microphone for the full "
    "analysis of the whole recording, as *Analyse* does on the Live tab."
)
IDLE = "Record with the microphone to start; the rolling score appears within a couple of seconds."
LISTENING = "Listening… the first rolling score comes after the first second of speech."
FINAL_WORDS = "**Whisper on the whole recording**, each word shaded by its attribution:"
# after this many seconds heard, a stream that has received under LOSS_SHARE of its time says so
LOSS_AFTER, LOSS_SHARE = 5.0, 0.8


def lost_audio_notice(share: float) -> str:
    return (f"the server is too busy to take every microphone chunk: {1 - share:.0%} of the audio so far "
            "was lost, so words may be missing")


def build_stream_tab(ctx: AppContext) -> None:
    engine = StreamEngine(ctx.pipeline, ctx.zoo)
    state = gr.State(StreamState)  # a callable: each session gets its own
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            gr.Markdown(HOWTO)
            camera = gr.Image(sources=["webcam"], streaming=True, type="numpy", height=240,
                              label="Webcam", elem_id="stream-camera")
            microphone = gr.Audio(sources=["microphone"], streaming=True, type="numpy",
                                  label="Microphone: record to start, stop for the full analysis",
                                  elem_id="stream-mic")
            model = gr.Dropdown(ctx.zoo.names(), value=ctx.zoo.default_name(), label="Model",
                                elem_id="stream-model")
            status = gr.Markdown(elem_id="stream-status")
        with gr.Column(scale=3, min_width=360):
            score = gr.HTML(message_html(IDLE), elem_id="stream-score")
            notices = gr.Markdown(elem_id="stream-notices")
            contributions = gr.Plot(label="Contributions", elem_id="stream-contributions")
            transcript = gr.HTML(elem_id="stream-transcript")
    over_time = gr.Plot(label="Score over time", elem_id="stream-over-time")
    final_words = gr.HTML(elem_id="stream-final-words")
    panels = [score, notices, contributions, transcript, over_time, final_words, status]

    def on_start(stream: StreamState):
        stream.start()
        return [message_html(LISTENING), "", None, transcript_html([], []), None, "", "listening"]

    def on_chunk(chunk, stream: StreamState, name: str):
        if chunk is None or not stream.active:
            return [gr.skip()] * len(panels)
        try:
            rate, samples = chunk
            stream.add_audio(rate, samples)
            update = engine.poll(stream, name)
            return rolling_panels(stream, update) if update else [gr.skip()] * len(panels)
        except Exception:  # a bug, not the visitor's: logged; the stream goes on
            log.exception("rolling update failed")
            return [message_html(texts.GENERIC_ERROR, "error")] + [gr.skip()] * (len(panels) - 1)

    def on_frame(frame, stream: StreamState):
        if frame is not None and stream.active:
            try:
                stream.add_frame(frame)
            except Exception:  # an odd frame: dropped, the stream goes on
                log.exception("webcam frame dropped")

    def failed(message: str) -> list:
        """Say what happened in place of the score; the rest stays as the last update left it."""
        return [message_html(message, "error")] + [gr.skip()] * (len(panels) - 2) + ["stopped"]

    def on_stop(stream: StreamState, name: str):
        if not stream.stop():
            return [gr.skip()] * len(panels)
        try:
            extracted, result = engine.finish(stream, name)
        except MediaError as exc:
            return failed(f"<b>Cannot use this recording:</b> {html.escape(str(exc))}")
        except Exception:
            log.exception("final stream analysis failed")
            return failed(texts.GENERIC_ERROR)
        words = stream.agreement.committed
        return [score_html(result, f" · the whole recording, {extracted.duration:.1f} s"),
                notices_markdown(result), contributions_figure(result, "The whole recording: contributions"),
                transcript_html(words, []), over_time_figure(result.get("over_time", []), extracted.words),
                FINAL_WORDS + word_attribution_html(result.get("word_attributions", [])),
                f"final analysis of the whole recording ({extracted.duration:.1f} s, "
                f"{len(extracted.words)} words) after {stream.updates} rolling updates"]

    # page plumbing, not an API (`/analyze` is): private, so no client calls them and Gradio's run
    # history never records a visitor's stream state
    quiet = {"api_visibility": "private", "show_progress": "hidden"}
    microphone.start_recording(on_start, state, panels, **quiet)
    microphone.stream(on_chunk, [microphone, state, model], panels, stream_every=CHUNK_EVERY,
                      concurrency_id="stream", concurrency_limit=STREAM_CONCURRENCY, **quiet)
    camera.stream(on_frame, [camera, state], None, stream_every=FRAME_EVERY, concurrency_id="stream-frames",
                  concurrency_limit=2 * STREAM_CONCURRENCY, **quiet)
    microphone.stop_recording(on_stop, [state, model], panels, concurrency_id="extract",
                              concurrency_limit=EXTRACT_CONCURRENCY, api_visibility="private",
                              show_progress="full")


def rolling_panels(stream: StreamState, update: RollingUpdate) -> list:
    """The panels after one rolling update."""
    window = stream.config.window
    result = update.result
    notices = list(result.get("notices", []))
    if update.end > LOSS_AFTER and stream.heard_share() < LOSS_SHARE:
        notices.append(lost_audio_notice(stream.heard_share()))
    return [score_html(result, f" · rolling: the last {window:g} s"),
            notices_markdown({**result, "notices": notices}),
            contributions_figure(result, f"The last {window:g} s: contributions"),
            transcript_html(update.committed, update.tentative),
            over_time_figure(list(stream.rows), update.committed), gr.skip(),
            f"update {update.index} · {update.end:.1f} s heard · computed in "
            f"{sum(update.seconds.values()):.2f} s (Whisper {update.seconds.get('asr', 0.0):.2f} s)"]


def transcript_html(committed, tentative) -> str:
    """The words so far: committed ones as they will stay, tentative ones grey and in italics."""
    done = html.escape(" ".join(w.text for w in committed))
    maybe = html.escape(" ".join(w.text for w in tentative))
    if not done and not maybe:
        return '<div class="msa-words msa-empty">No words yet.</div>'
    grey = "color:#888;font-style:italic"
    tail = f' <span class="msa-tentative" style="{grey}">{maybe}</span>' if maybe else ""
    return f'<div class="msa-words"><span class="msa-committed">{done}</span>{tail}</div>'
