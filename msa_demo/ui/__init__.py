"""The Gradio app: Live, Compare, Error analysis and Models tabs, plus the `/analyze` endpoint.

The UI holds no model or feature logic: it calls the pipeline (media -> features), the session
(features -> explanation) and the figures, and shows what comes back. Every error a user can cause is
shown as a message, never as a traceback.
"""

from __future__ import annotations

import gradio as gr

from ..media import DEFAULT_MAX_UPLOAD_MB, upload_limit_bytes
from . import texts
from .api import build_api
from .compare import build_compare_tab
from .context import AppContext
from .errors_tab import mount_error_tab
from .live import build_live_tab
from .models_tab import build_models_tab
from .status import status_markdown
from .stream import build_stream_tab
from .style import CSS

__all__ = ["AppContext", "CSS", "build_demo", "launch_options"]

# Gradio's upload cache ($GRADIO_TEMP_DIR, default <tempdir>/gradio): every DELETE_CACHE[0] s, files
# this app put there (uploads, recordings, returned media) older than DELETE_CACHE[1] s are removed,
# and all of them when the server stops.
DELETE_CACHE = (1800, 3600)


def launch_options(max_mb: float = DEFAULT_MAX_UPLOAD_MB) -> dict:
    """What `demo.launch(**launch_options())` needs: the stylesheet (Gradio 6 takes it at launch) and
    the upload limit, so Gradio refuses a larger file while it streams in (HTTP 413; the browser
    says so before uploading), the same limit the pipeline enforces (MSA_MAX_UPLOAD_MB)."""
    return {"css": CSS, "max_file_size": upload_limit_bytes(max_mb)}


def build_demo(ctx: AppContext | None = None) -> gr.Blocks:
    """The page for one shared context (pipeline + models), queue configured for concurrent users.

    Queue, chosen from `python -m bench.load --kind mixed --requests 20 --concurrency N` on 2 CPU
    cores (20 concurrent /analyze, every 4th a MOSI clip through a base-sized Whisper, two bursts;
    reports/latency.md): a burst took 12-13 s with 1 request reading media at a time, 12.5-18 s
    with 2, 20 s with 3. One extraction already fills both cores (Whisper, with face and voice read
    alongside) and Whisper runs one call at a time, so more than 2 only oversubscribes the cores.
    2 rather than 1 (`EXTRACT_CONCURRENCY`, MSA_EXTRACT_CONCURRENCY): a typed-text request or a
    clip's face and voice need not wait for another visitor's whole clip. Other events (re-scoring,
    model change, compare) take milliseconds from cached features: up to 8 at a time each. max_size
    64: beyond that a visitor is told the queue is full instead of waiting minutes."""
    ctx = ctx or AppContext.create()
    with gr.Blocks(title=texts.TITLE, delete_cache=DELETE_CACHE) as demo:
        gr.Markdown(f"# {texts.TITLE}\n{texts.INTRO}")
        status = gr.Markdown(elem_id="status")
        with gr.Tabs() as tabs:
            with gr.Tab("Live", id="live"):
                live = build_live_tab(ctx)
            with gr.Tab("Stream", id="stream"):
                build_stream_tab(ctx)
            with gr.Tab("Compare", id="compare") as compare_tab:
                compare_outputs, compare_refresh = build_compare_tab(ctx, live.state, live.perturb.perturbed)
            with gr.Tab("Error analysis", id="errors"):
                mount_error_tab(ctx, live, tabs)
            with gr.Tab("Models", id="models") as models_tab:
                models_outputs, models_choice, models_refresh = build_models_tab(ctx)
        build_api(ctx)
        compare_tab.select(compare_refresh, live.state, compare_outputs)
        models_tab.select(models_refresh, models_choice, models_outputs)
        # the banner follows the background warm-up until it has finished, then stops polling
        poll = gr.Timer(2.0)
        poll.tick(lambda: (status_markdown(ctx), gr.Timer(active=ctx.status is None)), None, [status, poll],
                  show_progress="hidden")
        demo.load(lambda: status_markdown(ctx), None, status, show_progress="hidden")
    demo.queue(default_concurrency_limit=8, max_size=64)
    demo.msa_launch = launch_options()  # launch(**demo.msa_launch): stylesheet + upload limit
    return demo
