"""The banner under the title: what is off in this deployment, and why (offline, no checkpoints)."""

from __future__ import annotations

from .context import AppContext


def status_markdown(ctx: AppContext) -> str:
    lines = []
    status = ctx.status
    if status is None:
        lines.append("Loading the extractors and models in the background; the first analysis may take longer.")
    else:
        if status.get("asr"):
            lines.append(f"⚠ speech recognition unavailable ({status['asr']}): type the transcript.")
        if status.get("visual"):
            lines.append(f"⚠ face model unavailable ({status['visual']}): the visual modality is off.")
        if status.get("text"):
            lines.append(f"⚠ text encoder unavailable ({status['text']}): the text modality is off.")
    untrained = [n for n in ctx.zoo.names() if ctx.zoo.checkpoint_path(n) is None]
    if untrained:
        lines.append(f"⚠ no checkpoint for {', '.join(untrained)}: "
                     "these run with random weights, so their scores mean nothing yet.")
    return "\n\n".join(lines)
