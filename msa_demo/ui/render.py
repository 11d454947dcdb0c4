"""Analysis JSON (+ the cached input) -> what the Live panels show. No Gradio events here, only
values, so the Live tab and the error-analysis "open this sample" path render identically."""

from __future__ import annotations

import html

from ..features.spec import MODALITIES
from ..figures import (contributions_figure, keyframe_image, routing_figure, subsets_figure,
                       timeline_figure)
from ..figures.style import NEGATIVE, NEUTRAL, POSITIVE
from ..session import Extracted
from . import texts

POLARITY_COLOURS = {"positive": POSITIVE, "negative": NEGATIVE, "neutral": NEUTRAL}


def score_html(result: dict, caption: str = "") -> str:
    colour = POLARITY_COLOURS.get(result["polarity"], NEUTRAL)
    trained = "" if result.get("trained", True) else \
        f'<div class="msa-warn">⚠ {html.escape(result["model"])} is {texts.UNTRAINED}</div>'
    return (
        f'<div class="msa-score"><span class="msa-value" style="color:{colour}">{result["score"]:+.2f}</span>'
        f'<span class="msa-polarity" style="background:{colour}">{result["polarity"]}</span>'
        f'<div class="msa-sub">{html.escape(result["model"])} · scale −3 … +3 · '
        f'baseline (no input) {result["baseline"]:+.2f}{html.escape(caption)}</div>{trained}</div>'
    )


def message_html(text: str, kind: str = "info") -> str:
    """A box in place of the score: an instruction or a user-facing error (never a traceback)."""
    return f'<div class="msa-message msa-{kind}">{text}</div>'


def notices_markdown(result: dict) -> str:
    """What is off about this input (the untrained-model notice is already in the score box)."""
    notices = [n for n in result.get("notices", []) if "untrained (random weights)" not in n]
    if not notices:
        return "✓ all three modalities read"
    return "\n".join(f"- ⚠ {n}" for n in notices)


def modality_table(result: dict) -> str:
    """Per modality: is it in the input, its Shapley contribution, its unimodal prediction."""
    available, unimodal = result["available"], result["unimodal"]
    rows = ["| | " + " | ".join(MODALITIES) + " |", "|---|" + "---:|" * len(MODALITIES)]
    rows.append("| in the input | " + " | ".join("✓" if available[m] else "— off" for m in MODALITIES) + " |")
    rows.append("| contribution | " + " | ".join(f"{result['contributions'][m]:+.3f}" for m in MODALITIES) + " |")
    how = "its unimodal head" if result.get("unimodal_source") == "heads" else "scored alone"
    rows.append(f"| unimodal prediction ({how}) | " + " | ".join(
        "—" if unimodal[m] is None else f"{unimodal[m]:+.2f}" for m in MODALITIES) + " |")
    return "\n".join(rows)


def routing_caption(result: dict) -> str:
    meanings = [f"- *{name.replace('_', ' ')}*: {axes['meaning']}"
                for name, axes in result.get("routing_axes", {}).items()]
    return texts.ROUTING + ("\n" + "\n".join(meanings) if meanings else "")


def robustness_markdown(condition_result: dict, full: dict) -> str:
    cond = condition_result["condition"]
    mods = " + ".join(cond["present"]) or "nothing"
    return (f"With **{mods}** on and **{cond['rate']:.0%}** of the steps dropped: "
            f"score **{condition_result['score']:+.2f}** ({condition_result['polarity']}); "
            f"the full input scores {full['score']:+.2f}.")


def live_panels(extracted: Extracted, result: dict, condition_result: dict) -> list:
    """The values of the Live panels, in LIVE_PANELS order (see live.py)."""
    return [
        score_html(result, _source_caption(extracted)),
        notices_markdown(result),
        contributions_figure(result),
        modality_table(result),
        routing_figure(result),
        routing_caption(result),
        robustness_markdown(condition_result, result),
        subsets_figure(condition_result),
        timeline_figure(extracted.features, extracted.words),
        keyframe_image(extracted.keyframe, extracted.landmarks),
    ]


def _source_caption(extracted: Extracted) -> str:
    return "" if extracted.source == "live" else f" · cached sample {extracted.source}"
