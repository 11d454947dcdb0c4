"""The Gradio page. For now a feature-extraction page; the full analysis UI comes with the models.

The UI holds no model or feature logic: it calls the pipeline and shows what comes back. Every
error a user can cause is shown as a message, never as a traceback.
"""

from __future__ import annotations

import logging

import gradio as gr

from .errors import MediaError
from .pipeline import FeaturePipeline

log = logging.getLogger(__name__)

TITLE = "msa-demo: multimodal sentiment analysis"
INTRO = (
    "Record or upload a clip (or type a sentence). The app transcribes speech with Whisper, reads the "
    "face with MediaPipe and the voice with librosa, and shows the three feature streams the "
    "sentiment models will consume. *The trained models and explanations are not wired in yet.*"
)


def build_demo(pipeline: FeaturePipeline | None = None) -> gr.Blocks:
    pipeline = pipeline or FeaturePipeline()

    def extract(video, audio, transcript, progress=gr.Progress()):
        path = video or audio
        if not path and not (transcript or "").strip():
            return {}, "Give a video, an audio file or some text."
        try:
            bundle = pipeline.extract(path, transcript=transcript or None,
                                      progress=lambda f, desc: progress(f, desc=desc))
        except MediaError as exc:
            return {}, f"**Cannot use this input:** {exc}"
        except Exception:  # a bug, not the user's fault: log it, show no traceback
            log.exception("feature extraction failed")
            return {}, "**Something went wrong on our side** while reading this input; it has been logged."
        summary = bundle.summary()
        notes = "\n".join(f"- {n}" for n in summary["notices"]) or "- all three modalities read"
        return summary, notes

    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        with gr.Row():
            with gr.Column():
                video = gr.Video(sources=["webcam", "upload"], include_audio=True, label="Video")
                audio = gr.Audio(sources=["microphone", "upload"], type="filepath", label="Audio")
                transcript = gr.Textbox(label="Transcript (leave empty to use Whisper)", lines=2)
                run = gr.Button("Extract features", variant="primary")
            with gr.Column():
                notices = gr.Markdown(label="Notices")
                summary = gr.JSON(label="Features")
        run.click(extract, [video, audio, transcript], [summary, notices], api_name="features")
    return demo
