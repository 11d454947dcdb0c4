"""Mounts the Error-analysis tab (msa_demo/ui/error_table.py; its logic is msa_demo/error_analysis/) and opens a chosen sample
in the Live panels: the same explanation for a corpus item as for a live recording."""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr
import numpy as np

from ..errors import MediaError
from ..session import Extracted
from . import texts
from .context import AppContext
from .live import LiveTab
from .render import message_html

log = logging.getLogger(__name__)
VIDEO = {".mp4", ".webm", ".mov", ".mkv", ".avi"}
IMAGE = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def sample_extracted(ctx: AppContext, selected: dict) -> Extracted:
    """A cached corpus item as an `Extracted` (no media is decoded: the features are cached)."""
    from ..error_analysis.split import load_sample

    corpus, split, item = selected["corpus"], selected["split"], str(selected["id"])
    features, media, transcript = load_sample(ctx.cache_root, corpus, split, item)
    keyframe = None
    if media and Path(media).suffix.lower() in IMAGE:
        from PIL import Image

        keyframe = np.asarray(Image.open(media).convert("RGB"))
    return Extracted(features=features, transcript=transcript or "", media_path=media,
                     keyframe=keyframe, source=f"{corpus}/{split}/{item}")


def mount_error_tab(ctx: AppContext, live: LiveTab, tabs: gr.Tabs, live_tab_id: str = "live") -> None:
    """Call inside `with gr.Tab(...)`. Without msa_demo.ui.error_table the tab says so instead."""
    try:
        from .error_table import build_error_tab
    except ImportError as exc:
        log.warning("error-analysis tab unavailable: %s", exc)
        gr.Markdown("Error analysis is not available in this build.")
        return
    tab = build_error_tab(ctx.zoo, ctx.cache_root, ctx.pipeline)
    outputs = [live.state, live.transcript, live.model, live.video, live.audio, *live.panels, tabs]

    def open_sample(selected, mods, rate):
        if not selected:
            return [gr.update()] * len(outputs)
        try:
            extracted = sample_extracted(ctx, selected)
            model = selected.get("model") or live.model.value
            panels = live.show(extracted, model, mods, rate)
        except MediaError as exc:
            return _failed(outputs, live, f"<b>Cannot open this sample:</b> {exc}")
        except Exception:
            log.exception("opening a sample failed")
            return _failed(outputs, live, texts.GENERIC_ERROR)
        suffix = Path(extracted.media_path or "").suffix.lower()
        video = extracted.media_path if suffix in VIDEO else None
        audio = extracted.media_path if extracted.media_path and suffix not in VIDEO | IMAGE else None
        return [extracted, extracted.transcript, model, video, audio, *panels, gr.Tabs(selected=live_tab_id)]

    tab.selected.change(open_sample, [tab.selected, live.modalities, live.rate], outputs)


def _failed(outputs: list, live: LiveTab, message: str) -> list:
    values = [gr.update()] * len(outputs)
    values[outputs.index(live.panels[0])] = message_html(message, "error")
    return values
