"""Analysis JSON (+ the cached input) -> what the Live panels show. No Gradio events here, only
values, so the Live tab and the error-analysis "open this sample" path render identically."""

from __future__ import annotations

import html

import gradio as gr

from ..features.spec import MODALITIES
from ..figures import (contributions_figure, keyframe_image, over_time_figure, routing_figure,
                       subsets_figure, timeline_figure)
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


SPOKEN = {"text": "text", "audio": "audio", "visual": "face"}  # how the page names each modality


def _listed(words: list[str], last: str = "and") -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def availability_line(available: dict, noun: str = "input") -> str:
    """One line on what the input actually holds, e.g. "text only: this sample has no audio or face"."""
    have = [m for m in MODALITIES if available.get(m)]
    lack = [SPOKEN[m] for m in MODALITIES if not available.get(m)]
    if not lack:
        return "✓ all three modalities read: text, audio and face"
    if not have:
        return f"⚠ nothing usable: this {noun} has no text, audio or face, so the score is the model's baseline"
    return f"ℹ {' + '.join(SPOKEN[m] for m in have)} only: this {noun} has no {_listed(lack, 'or')}"


def notices_markdown(result: dict, noun: str = "input") -> str:
    """What the input holds, then what is off about it (the untrained-model notice is already in the
    score box). `noun`: "input" for a live input, "sample" for a cached corpus item."""
    notices = [n for n in result.get("notices", []) if "untrained (random weights)" not in n]
    line = availability_line(result.get("available", {}), noun)
    return line + ("\n\n" + "\n".join(f"- ⚠ {n}" for n in notices) if notices else "")


def modality_table(result: dict) -> str:
    """Per modality: is it in the input, its Shapley contribution, its unimodal prediction."""
    available, unimodal = result["available"], result["unimodal"]
    rows = ["| | " + " | ".join(MODALITIES) + " |", "|---|" + "---:|" * len(MODALITIES)]
    rows.append("| in the input | " + " | ".join("✓" if available[m] else "✗ no" for m in MODALITIES) + " |")
    rows.append("| contribution | " + " | ".join(f"{result['contributions'][m]:+.3f}" for m in MODALITIES) + " |")
    how = "its unimodal head" if result.get("unimodal_source") == "heads" else "scored alone"
    rows.append(f"| unimodal prediction ({how}) | " + " | ".join(
        "—" if unimodal[m] is None else f"{unimodal[m]:+.2f}" for m in MODALITIES) + " |")
    return "\n".join(rows) + arousal_line(result.get("arousal") or {})


def arousal_line(arousal: dict) -> str:
    """How strongly (arousal), under the table: its own reading, not part of the score."""
    parts = [f"{name} **{r['label']}** (P(high) {r['high']:.2f})" for name, r in arousal.items() if r]
    if not arousal:
        return ""
    if not parts:
        return "\n\n" + texts.AROUSAL + " not enough voice or face to read."
    return "\n\n" + texts.AROUSAL + " " + " · ".join(parts)


def routing_caption(result: dict) -> str:
    meanings = [f"- *{name.replace('_', ' ')}*: {axes['meaning']}"
                for name, axes in result.get("routing_axes", {}).items()]
    return texts.ROUTING + ("\n" + "\n".join(meanings) if meanings else "")


def robustness_markdown(condition_result: dict, full: dict) -> str:
    """The re-scored line. Says which switched-on modalities the input lacks (they change nothing)."""
    cond = condition_result["condition"]
    mods = " + ".join(cond["present"]) or "nothing"
    available = full.get("available", {})
    lacking = [m for m in cond["present"] if not available.get(m, True)]
    note = f" ({_listed(lacking)} not in the input)" if lacking else ""
    return (f"With **{mods}** on{note} and **{cond['rate']:.0%}** of the steps dropped: "
            f"score **{condition_result['score']:+.2f}** ({condition_result['polarity']}); "
            f"the full input scores {full['score']:+.2f}.")


def live_panels(extracted: Extracted, result: dict, condition_result: dict) -> list:
    """The values of the Live panels, in LIVE_PANELS order (see live.py)."""
    return [
        score_html(result, _source_caption(extracted)),
        notices_markdown(result, "input" if extracted.source == "live" else "sample"),
        contributions_figure(result),
        modality_table(result),
        routing_figure(result),
        routing_caption(result),
        robustness_markdown(condition_result, result),
        subsets_figure(result, condition_result),
        timeline_figure(extracted.features, extracted.words),
        keyframe_panel(extracted, result),
        over_time_figure(result.get("over_time", []), extracted.words),
        word_attribution_html(result.get("word_attributions", [])),
    ]


def word_attribution_html(entries: list[dict]) -> str:
    """The transcript with each word shaded by how much it moves the text's part of the score (green
    up, red down, the strongest word fully shaded); hover for the value."""
    if not entries:
        return f'<div class="msa-words msa-empty">{texts.NO_WORDS}</div>'
    scale = max((abs(e["value"]) for e in entries if e["value"] is not None), default=0.0) or 1.0
    spans = []
    for e in entries:
        word = html.escape(e["word"])
        if e["value"] is None:
            spans.append(f'<span class="msa-word" title="not measured">{word}</span>')
            continue
        rgb = "46,158,91" if e["value"] > 0 else "209,73,91"
        alpha = min(abs(e["value"]) / scale, 1.0) * 0.85
        when = f", {e['start']:.2f}–{e['end']:.2f} s" if e["start"] is not None else ""
        spans.append(f'<span class="msa-word" style="background:rgba({rgb},{alpha:.2f})" '
                     f'title="{e["value"]:+.3f}{when}">{word}</span>')
    return (f'<div class="msa-words">{" ".join(spans)}</div>'
            f'<div class="msa-caption">{texts.WORDS}</div>')


KEYFRAME_LABEL = "Keyframe with face landmarks"


def keyframe_panel(extracted: Extracted, result: dict) -> gr.Image:
    """The keyframe, or an empty image whose label says why there is none."""
    image = keyframe_image(extracted.keyframe, extracted.landmarks)
    if image is not None:
        return gr.Image(value=image, label=KEYFRAME_LABEL)
    if not result.get("available", {}).get("visual"):
        why = "no face in this " + ("input" if extracted.source == "live" else "sample")
    else:
        why = "this cached sample keeps face features, not frames"
    return gr.Image(value=None, label=f"Keyframe: none ({why})")


def _source_caption(extracted: Extracted) -> str:
    return "" if extracted.source == "live" else f" · cached sample {extracted.source}"
