"""Named endpoints for gradio_client, on hidden components (they are not part of the page):

- `/analyze` (media file or None, transcript or "", model name) -> the analysis JSON
  (`msa_demo.session.analyze_input`, the same as `python -m msa_demo analyze --json`);
- `/features` (video, audio, transcript) -> (feature summary, notices), kept from the first page;
- `/perturb` (media file or None, transcript, model, kind, severities "30, 10, 0" or "") -> the
  perturbation sweep JSON (`msa_demo.perturb.sweep.perturb_input`, as `python -m msa_demo perturb --json`).

User errors come back as a gradio error with the message (gradio_client raises it), never a traceback;
nor do they print one in the server's log (`_refuse`): a traceback there means a bug (logged once,
with `log.exception`), so an operator (and bench.soak, which counts them) can tell the two apart.

What a request can reach (here and in every event handler of the page):
- files: only uploads. Gradio refuses a file larger than MSA_MAX_UPLOAD_MB while it streams in (413)
  and a FileData path it did not receive as an upload (InvalidPathError: /etc/…, another folder under
  the temp dir) before a handler runs; the pipeline checks the size again before decoding, and FFmpeg
  may open only real media containers and local files (media.OPEN_OPTIONS), so a playlist posing as
  an .mp4 cannot pull in other files;
- names: a model name is looked up in the registry, a corpus name must be one folder under the cache
  root, an item id is a key in the cache's index; none becomes a path;
- pickles: never. Checkpoints and feature caches are safetensors + JSON/CSV; Whisper weights are a
  CTranslate2 model folder (no pickle) named by the operator's MSA_WHISPER_MODEL or hash-checked; MMSA
  pickles are read only by `training.extract --corpus mmsa --root FILE`, an operator's command.
"""

from __future__ import annotations

import logging

import gradio as gr

from ..errors import MediaError
from ..perturb.sweep import perturb_input
from ..session import analyze_input
from . import texts
from .context import EXTRACT_CONCURRENCY, AppContext

log = logging.getLogger(__name__)


def build_api(ctx: AppContext) -> None:
    with gr.Group(visible=False):
        media = gr.File(label="media", type="filepath")
        transcript = gr.Textbox(label="transcript")
        model = gr.Textbox(label="model", value=ctx.zoo.default_name())
        result = gr.JSON(label="analysis")
        video, audio = gr.File(type="filepath"), gr.File(type="filepath")
        summary, notices = gr.JSON(), gr.Markdown()
        analyze_button, features_button = gr.Button(), gr.Button()
        kind, severities, sweep, perturb_button = gr.Textbox(), gr.Textbox(), gr.JSON(), gr.Button()

    def checked(path, text, name) -> str:
        name = (name or "").strip() or ctx.zoo.default_name()
        if name not in ctx.zoo.names():
            raise _refuse(f"unknown model '{name}'; choose one of {', '.join(ctx.zoo.names())}")
        if not path and not (text or "").strip():
            raise _refuse("give a media file, a transcript, or both")
        return name

    def answer(endpoint: str, work):
        try:
            return work()
        except MediaError as exc:
            raise _refuse(f"Cannot use this input: {exc}") from None
        except Exception:
            log.exception("%s failed", endpoint)
            raise _refuse(texts.GENERIC_ERROR) from None

    def analyze(path, text, name):
        name = checked(path, text, name)
        return answer("/analyze", lambda: analyze_input(ctx.pipeline, ctx.zoo, path, text, name))

    def perturb(path, text, name, kind_name, values, progress=gr.Progress()):
        name = checked(path, text, name)
        return answer("/perturb", lambda: perturb_input(ctx.pipeline, ctx.zoo, path, text, name, kind_name,
                                                        values, progress=lambda f, d: progress(f, desc=d)))

    def features(video_path, audio_path, text, progress=gr.Progress()):
        path = video_path or audio_path
        if not path and not (text or "").strip():
            return {}, "Give a video, an audio file or some text."
        try:
            bundle = ctx.pipeline.extract(path, transcript=text or None,
                                          progress=lambda f, desc: progress(f, desc=desc))
        except MediaError as exc:
            return {}, f"**Cannot use this input:** {exc}"
        except Exception:
            log.exception("feature extraction failed")
            return {}, texts.GENERIC_ERROR
        summary = bundle.summary()
        return summary, "\n".join(f"- {n}" for n in summary["notices"]) or "- all three modalities read"

    analyze_button.click(analyze, [media, transcript, model], result, api_name="analyze",
                         concurrency_id="extract", concurrency_limit=EXTRACT_CONCURRENCY)
    perturb_button.click(perturb, [media, transcript, model, kind, severities], sweep, api_name="perturb",
                         concurrency_id="extract", concurrency_limit=EXTRACT_CONCURRENCY)
    features_button.click(features, [video, audio, transcript], [summary, notices], api_name="features",
                          concurrency_id="extract", concurrency_limit=EXTRACT_CONCURRENCY)


def _refuse(message: str) -> gr.Error:
    """The error a visitor sees, without Gradio's traceback in the server log."""
    return gr.Error(message, print_exception=False)
